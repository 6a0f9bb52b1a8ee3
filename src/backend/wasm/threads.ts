/**
 * Worker threads over the kernels' shared linear memory. Every worker
 * instantiates the same compiled module over the same shared
 * WebAssembly.Memory, so a kernel call on a worker reads and writes the very
 * storages the main thread allocated; only the call itself (an export's index
 * and its numeric arguments) crosses over, through a small control block in
 * that memory. Workers sleep in Atomics.wait and are woken by Atomics.notify;
 * the calling thread does its own share of each split and then waits for the
 * others. Splitting is the backend's business (wasmBackend.ts): whole kernel
 * calls over parts of a batch, never anything finer, since one barrier costs
 * tens of microseconds.
 *
 * Workers are started with Node's worker_threads (imported dynamically) or,
 * in a cross-origin-isolated browser page, as Web Workers from a Blob URL of
 * the same source. They never keep Node alive (unref), and terminate() (or
 * wt.shutdown()) ends them.
 */
import { importNode } from './nodeImport.js';

/** Bytes of one worker's slot in the control block (two cache lines apart from the next). */
const SLOT_BYTES = 256;
/** Slot layout, in int32 units: the job sequence number, the last finished one, the export index, the error flag. */
const SEQ = 0,
  DONE = 1,
  FN = 2,
  ERR = 3;
/** Arguments start at this byte offset of the slot, as float64 (exact for i32, u32 offsets and f32). */
const ARGS_BYTE = 32;
const MAX_ARGS = (SLOT_BYTES - ARGS_BYTE) / 8;
/** Export index that tells a worker to leave its loop. */
const STOP = -1;
/** Polls of the control word before a waiting thread falls asleep in Atomics.wait (tens of microseconds). */
const SPIN = 20000;

/**
 * The worker's whole program, as source text so that it runs unchanged as a
 * Node eval worker or a browser Blob worker and needs no bundler support.
 */
const WORKER_SOURCE = `
'use strict';
const node = typeof require === 'function' && typeof process !== 'undefined' && !!process.versions && !!process.versions.node;
const port = node ? require('node:worker_threads').parentPort : self;
function start(msg) {
  const { module, memory, slot, names } = msg;
  const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('kernel aborted'); } } });
  const fns = names.map((n) => instance.exports[n]);
  const i32 = new Int32Array(memory.buffer, slot, ${SLOT_BYTES / 4});
  const f64 = new Float64Array(memory.buffer, slot + ${ARGS_BYTE}, ${MAX_ARGS});
  // Read before saying ready: the first job may be posted the moment main hears it.
  let seen = Atomics.load(i32, ${SEQ});
  port.postMessage('ready');
  for (;;) {
    let seq, spins = 0;
    while ((seq = Atomics.load(i32, ${SEQ})) === seen) {
      if (++spins > ${SPIN}) Atomics.wait(i32, ${SEQ}, seen);
    }
    seen = seq;
    const fn = i32[${FN}];
    if (fn === ${STOP}) {
      Atomics.store(i32, ${DONE}, seq);
      Atomics.notify(i32, ${DONE});
      break;
    }
    try {
      fns[fn](...f64.subarray(0, fns[fn].length));
    } catch (e) {
      Atomics.store(i32, ${ERR}, 1);
    }
    Atomics.store(i32, ${DONE}, seq);
    Atomics.notify(i32, ${DONE});
  }
  // Nothing to close: the main thread terminates this worker once it has seen
  // the acknowledgement (and Deno's parentPort has no close()).
}
if (node) port.once('message', start); else self.onmessage = (e) => start(e.data);
`;

/** What a pool needs from the backend: the module, its shared memory, and room for the control block. */
export interface PoolTarget {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Calls an export on the calling thread. */
  // biome-ignore lint/suspicious/noExplicitAny: untyped WebAssembly exports (kernel functions with their own signatures, and globals), called by name
  exports: Record<string, any>;
  /** Allocates bytes of the shared memory (64-byte aligned) for the control block, and returns them. */
  alloc(bytes: number): number;
  free(ptr: number, bytes: number): void;
}

interface WorkerHandle {
  terminate(): unknown;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** The number of cores: os.availableParallelism() under Node, navigator.hardwareConcurrency elsewhere. */
export async function defaultThreadCount(): Promise<number> {
  if (isNode) {
    const os = await importNode<typeof import('node:os')>('os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** Starts one worker and resolves once it has instantiated the kernels. */
async function startWorker(init: {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  slot: number;
  names: string[];
}): Promise<WorkerHandle> {
  if (isNode) {
    const { Worker } = await importNode<typeof import('node:worker_threads')>('worker_threads');
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
      w.postMessage(init);
    });
    return w;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  await new Promise<void>((resolve, reject) => {
    w.onmessage = () => resolve();
    w.onerror = (e) => reject(new Error(`wasmtail: a kernel worker failed to start: ${e.message}`));
    w.postMessage(init);
  });
  URL.revokeObjectURL(url);
  return w;
}

export class ThreadPool {
  private readonly index: Map<string, number>;
  private readonly slots: Int32Array[];
  private readonly args: Float64Array[];
  /** Node's main thread and any Web Worker may block in Atomics.wait; a browser page's main thread must spin. */
  private readonly canBlock = isNode || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
  private closed = false;

  private constructor(
    private readonly target: PoolTarget,
    private readonly workers: WorkerHandle[],
    private readonly slotBase: number,
    names: string[],
  ) {
    this.index = new Map(names.map((n, i) => [n, i]));
    this.slots = workers.map((_, i) => new Int32Array(target.memory.buffer, slotBase + i * SLOT_BYTES, SLOT_BYTES / 4));
    this.args = workers.map((_, i) => new Float64Array(target.memory.buffer, slotBase + i * SLOT_BYTES + ARGS_BYTE, MAX_ARGS));
  }

  /**
   * A pool of `threads` threads in all: the calling one and threads - 1
   * workers, which may call the named exports.
   */
  static async create(target: PoolTarget, threads: number, names: string[]): Promise<ThreadPool> {
    const count = Math.max(0, threads - 1);
    const slotBase = target.alloc(Math.max(1, count) * SLOT_BYTES);
    new Uint8Array(target.memory.buffer, slotBase, Math.max(1, count) * SLOT_BYTES).fill(0);
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        startWorker({ module: target.module, memory: target.memory, slot: slotBase + i * SLOT_BYTES, names }),
      ),
    );
    const failed = started.filter((s) => s.status === 'rejected');
    if (failed.length > 0) {
      // Workers that did start never saw a job: terminating them is enough.
      for (const s of started) if (s.status === 'fulfilled') s.value.terminate();
      target.free(slotBase, Math.max(1, count) * SLOT_BYTES);
      const cause = (failed[0] as PromiseRejectedResult).reason;
      throw new Error(
        `wasmtail: ${failed.length} of ${count} kernel worker threads failed to start ` +
          `(${cause instanceof Error ? cause.message : String(cause)}); use fewer threads`,
      );
    }
    return new ThreadPool(
      target,
      started.map((s) => (s as PromiseFulfilledResult<WorkerHandle>).value),
      slotBase,
      names,
    );
  }

  /** Threads in all, the calling one included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /**
   * Runs export `name` once per thread: with jobs[0] on the calling thread and
   * jobs[t] on worker t - 1 (jobs.length <= size), and returns when all are done.
   */
  run(name: string, jobs: readonly (readonly number[])[]): void {
    if (this.closed) throw new Error('wasmtail: the thread pool was shut down');
    const fn = this.index.get(name);
    if (fn === undefined) throw new Error(`wasmtail: '${name}' is not a threaded kernel`);
    const posted = jobs.length - 1;
    if (posted >= this.size) throw new Error(`wasmtail: ${jobs.length} jobs for ${this.size} threads`);
    if (jobs.some((job) => job.length > MAX_ARGS)) throw new Error(`wasmtail: ${name}: more arguments than a control slot holds`);
    for (let t = 0; t < posted; t++) {
      const slot = this.slots[t],
        job = jobs[t + 1];
      this.args[t].set(job);
      slot[FN] = fn;
      Atomics.add(slot, SEQ, 1);
      Atomics.notify(slot, SEQ);
    }
    try {
      this.target.exports[name](...jobs[0]);
    } finally {
      for (let t = 0; t < posted; t++) this.waitFor(this.slots[t]);
    }
    for (let t = 0; t < posted; t++) {
      if (Atomics.exchange(this.slots[t], ERR, 0) !== 0) throw new Error(`wasmtail: kernel ${name} failed on worker thread ${t + 1}`);
    }
  }

  /** Waits until the worker of this slot has finished its last job; false if it has not after timeoutMs. */
  private waitFor(slot: Int32Array, timeoutMs = Infinity): boolean {
    const seq = Atomics.load(slot, SEQ);
    const deadline = performance.now() + timeoutMs;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(slot, DONE);
      if (done === seq) break;
      if (++spins > SPIN) {
        if (performance.now() > deadline) return false;
        if (this.canBlock) Atomics.wait(slot, DONE, done, Math.min(timeoutMs, 1000));
      }
    }
    return true;
  }

  /**
   * Stops the workers; the pool cannot run anything afterwards. Each worker
   * acknowledges before its control slot goes back to the allocator, so no
   * worker can mistake later data there for a job.
   */
  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    let stopped = true;
    for (let t = 0; t < this.workers.length; t++) {
      const slot = this.slots[t];
      slot[FN] = STOP;
      Atomics.add(slot, SEQ, 1);
      Atomics.notify(slot, SEQ);
      stopped = this.waitFor(slot, 1000) && stopped;
      this.workers[t].terminate();
    }
    if (stopped) this.target.free(this.slotBase, Math.max(1, this.workers.length) * SLOT_BYTES);
  }
}
