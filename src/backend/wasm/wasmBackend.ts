/**
 * The default backend: AssemblyScript kernels compiled to WebAssembly SIMD
 * (assembly/), over one linear memory that this file manages. Storages are
 * byte offsets into it; see allocator.ts for the policy.
 *
 * Threads (threads.ts): when the memory is shared, convolutions split their
 * batch and large GEMMs the rows of C into one contiguous part per thread
 * (static partitioning, so a given thread count always computes the same
 * way); batch norm splits its channels. Every image, row of C, channel and
 * chunk of the backward filter's batch sum is computed exactly as one thread
 * computes it, so the results are bit-identical for every thread count. Cheap primitives stay on the calling
 * thread: a barrier costs tens of microseconds.
 */
import {
  type Backend,
  type BinaryOp,
  type Capability,
  type ConvGeometry,
  type PreparedFilter,
  type ReduceOp,
  type Storage,
  type UnaryOp,
  checkPreparedGeometry,
} from '../backend.js';
import { broadcastStrides, collapseLayout } from '../layout.js';
import { boundsCheckRequested } from '../boundsCheck.js';
import { LinearAllocator } from './allocator.js';
import {
  type ExtentContext,
  type KernelArgs,
  type KernelName,
  argumentIndex,
  checkExports,
  checkKernelCall,
  positional,
} from './kernels.js';
import { type KernelInstance, hasSimd } from './loader.js';
import { ThreadPool } from './threads.js';

/** The kernels convOverBatch splits over the batch. */
type ConvOverBatchKernel = 'conv2dForward' | 'conv2dForwardAffine' | 'conv2dForwardAffinePrepared' | 'conv2dBackwardInput';

interface WasmStorage extends Storage {
  readonly ptr: number;
}

const UNARY_CODES: Record<UnaryOp, number> = { relu: 0, neg: 1, exp: 2, log: 3, sqrt: 4, abs: 5 };
const BINARY_CODES: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };
const REDUCE_CODES: Record<ReduceOp, number> = { sum: 0, max: 1 };

/** 4 GiB, the wasm32 limit, less one page so that byte offsets stay below 2^32. */
const MAX_BYTES = 2 ** 32 - 65536;

/** The kernels worker threads run: each takes a part of one primitive's work (see the split methods below). */
const THREADED_KERNELS = [
  'conv2dForward',
  'conv2dForwardAffine',
  'conv2dForwardAffinePrepared',
  'conv2dBackwardInput',
  'conv2dBackwardFilterParts',
  'sgemmRows',
  'batchNormForwardTrainChannels',
  'batchNormForwardEvalChannels',
  'batchNormBackwardChannels',
  'batchNormActForwardTrainChannels',
  'batchNormActBackwardChannels',
  'unary',
  'binary',
  'axpby',
  'reluBackward',
];

/**
 * Below this many flops a primitive runs on one thread: about 0.1 ms of work
 * against a barrier of 10-50 us.
 */
const MIN_PARALLEL_FLOPS = 4e6;

type BatchNormKernel =
  | 'batchNormForwardTrainChannels'
  | 'batchNormForwardEvalChannels'
  | 'batchNormBackwardChannels'
  | 'batchNormActForwardTrainChannels'
  | 'batchNormActBackwardChannels';

interface Scratch {
  ptr: number;
  bytes: number;
}

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly capabilities: ReadonlySet<Capability>;
  private readonly k: Record<KernelName, (...args: number[]) => number>;
  /** The bounds-checking debug mode (boundsCheck.ts): every kernel call's pointers checked against the allocator. */
  private readonly checkBounds = boundsCheckRequested();
  private readonly extentContext: ExtentContext;
  private readonly memory: WebAssembly.Memory;
  private readonly heap: LinearAllocator;
  /** Per-thread scratch for packing and im2col (index 0: the calling thread). */
  private readonly work: Scratch[] = [];
  private readonly convBytesCache = new Map<string, number>();
  /** Each prepared filter's last call and its runner (conv2dForwardAffinePrepared). */
  private readonly preparedCalls = new WeakMap<
    PreparedFilter,
    {
      x: Storage;
      y: Storage;
      g: ConvGeometry;
      scale: Storage;
      shift: Storage;
      residual: Storage | null;
      relu: boolean;
      run: () => void;
    }
  >();
  /** The backward filter's per-chunk partial sums when it runs on several threads. */
  private readonly filterParts: Scratch = { ptr: 0, bytes: 0 };
  private labels = 0;
  private labelsCapacity = 0;
  /** The i32 words of a strided walk (assembly/broadcast.ts), grown on demand. */
  private readonly walk: Scratch = { ptr: 0, bytes: 0 };
  private pool: ThreadPool | null = null;
  /** Primitives with fewer flops than this run on one thread (tests lower it to split tiny shapes). */
  minParallelFlops = MIN_PARALLEL_FLOPS;

  constructor(private readonly inst: KernelInstance) {
    this.capabilities = new Set<Capability>([
      'conv2dForwardAffine',
      'preparedConv',
      'batchNormAct',
      ...(inst.sharedMemory ? ['threads' as const] : []),
    ]);
    checkExports(inst.exports);
    this.k = inst.exports as Record<KernelName, (...args: number[]) => number>;
    this.extentContext = { exports: this.k, i32At: (ptr) => new Int32Array(this.memory.buffer, ptr, 1)[0] };
    this.memory = inst.memory;
    this.heap = new LinearAllocator(inst.memory, inst.heapBase, MAX_BYTES, this.checkBounds);
  }

  describe(): Record<string, unknown> {
    return {
      simd: hasSimd(),
      build: this.inst.relaxedSimd ? 'relaxed-simd' : 'simd128',
      threads: this.threads,
      sharedMemory: this.inst.sharedMemory,
      memoryBytes: this.memory.buffer.byteLength,
      heapBytesInUse: this.heap.bytesInUse,
    };
  }

  /** Threads in use, the calling one included. */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /**
   * Uses n threads in all (the calling one and n - 1 workers); 1 where the
   * memory is not shared. Returns the number in use.
   */
  async setThreads(n: number): Promise<number> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`wasmtail: threads must be a positive integer, got ${n}`);
    const want = this.inst.sharedMemory ? n : 1;
    if (want === this.threads) return want;
    this.dispose();
    if (want > 1) {
      this.pool = await ThreadPool.create(
        {
          module: this.inst.module,
          memory: this.memory,
          exports: this.k,
          alloc: (bytes) => this.heap.alloc(bytes),
          free: (ptr, bytes) => this.heap.free(ptr, bytes),
        },
        want,
        THREADED_KERNELS,
      );
    }
    return this.threads;
  }

  /** Stops the worker threads (back to one thread); the memory and its storages stay. */
  dispose(): void {
    this.pool?.terminate();
    this.pool = null;
  }

  /** How many parts to split work of this many flops into, at most `max` (images, chunks, row blocks). */
  private parts(max: number, flops: number): number {
    if (!this.pool || flops < this.minParallelFlops) return 1;
    return Math.max(1, Math.min(this.pool.size, max));
  }

  private p(s: Storage): number {
    return (s as WasmStorage).ptr;
  }

  private view(s: Storage, n = s.length): Float32Array {
    return new Float32Array(this.memory.buffer, this.p(s), n);
  }

  /** Scratch space, grown on demand, kept for reuse. */
  private grow(s: Scratch, bytes: number): number {
    if (bytes > s.bytes) {
      if (s.bytes > 0) this.heap.free(s.ptr, s.bytes);
      s.bytes = Math.ceil((bytes * 1.25) / 65536) * 65536;
      s.ptr = this.heap.alloc(s.bytes);
    }
    return s.ptr;
  }

  /** Thread t's scratch space for packing and im2col. */
  private workspace(bytes: number, t = 0): number {
    while (this.work.length <= t) this.work.push({ ptr: 0, bytes: 0 });
    return this.grow(this.work[t], bytes);
  }

  private labelPtr(labels: Int32Array): number {
    if (labels.length > this.labelsCapacity) {
      if (this.labelsCapacity > 0) this.heap.free(this.labels, this.labelsCapacity * 4);
      this.labelsCapacity = Math.max(1024, labels.length);
      this.labels = this.heap.alloc(this.labelsCapacity * 4);
    }
    new Int32Array(this.memory.buffer, this.labels, labels.length).set(labels);
    return this.labels;
  }

  /** The positional arguments of a kernel call, checked against live blocks in the bounds-checking debug mode. */
  private args<K extends KernelName>(kernel: K, args: KernelArgs<K>): number[] {
    if (this.checkBounds) checkKernelCall(kernel, args, this.extentContext, (ptr, bytes) => this.heap.outsideLiveBlock(ptr, bytes));
    return positional(kernel, args);
  }

  /** Calls a kernel on this thread. */
  private call<K extends KernelName>(kernel: K, args: KernelArgs<K>): number {
    return this.k[kernel](...this.args(kernel, args));
  }

  /** Runs one call of a kernel per part on the thread pool (threads.ts). */
  private runParts<K extends KernelName>(kernel: K, parts: KernelArgs<K>[]): void {
    this.pool!.run(
      kernel,
      parts.map((a) => this.args(kernel, a)),
    );
  }

  /** Writes a strided walk's descriptor: rank, shape, then each operand's strides (assembly/broadcast.ts). */
  private walkDescriptor(shape: readonly number[], strides: readonly (readonly number[])[]): number {
    const words = [shape.length, ...shape, ...strides.flat()];
    const ptr = this.grow(this.walk, words.length * 4);
    new Int32Array(this.memory.buffer, ptr, words.length).set(words);
    return ptr;
  }

  alloc(length: number): Storage {
    const s: WasmStorage = { length, ptr: this.heap.alloc(length * 4) };
    return s;
  }

  free(s: Storage): void {
    this.heap.free(this.p(s), s.length * 4);
  }

  write(s: Storage, data: Float32Array, offset = 0): void {
    if (offset + data.length > s.length)
      throw new Error(`wasmtail: write of ${data.length} values at ${offset} past a storage of ${s.length}`);
    new Float32Array(this.memory.buffer, this.p(s) + offset * 4, data.length).set(data);
  }

  read(s: Storage): Float32Array {
    return this.view(s).slice();
  }

  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  fill(y: Storage, value: number, n: number): void {
    this.call('fill', { y: this.p(y), value, n });
  }

  copy(x: Storage, y: Storage, n: number): void {
    this.call('copy', { x: this.p(x), y: this.p(y), n });
  }

  /**
   * Runs an elementwise kernel over ranges of its n elements, one per thread;
   * args(byteOffset, count) gives a range's arguments. Ranges start at
   * multiples of 16 elements, so the kernels' 4-lane groups (and the scalar
   * tail) fall where they fall on one thread. Memory-bound: about 16 flops'
   * worth of time per element.
   */
  private overElements<K extends KernelName>(kernel: K, n: number, args: (byteOffset: number, count: number) => KernelArgs<K>): void {
    const parts = this.parts(Math.floor(n / 16), 16 * n);
    if (parts === 1) {
      this.call(kernel, args(0, n));
      return;
    }
    const first = (t: number) => (t === parts ? n : 16 * Math.floor((t * n) / 16 / parts));
    this.runParts(
      kernel,
      Array.from({ length: parts }, (_, t) => args(first(t) * 4, first(t + 1) - first(t))),
    );
  }

  unary(op: UnaryOp, x: Storage, y: Storage, n: number): void {
    const code = UNARY_CODES[op],
      px = this.p(x),
      py = this.p(y);
    this.overElements('unary', n, (o, m) => ({ op: code, x: px + o, y: py + o, n: m }));
  }

  binary(op: BinaryOp, a: Storage, b: Storage, y: Storage, n: number): void {
    const code = BINARY_CODES[op],
      pa = this.p(a),
      pb = this.p(b),
      py = this.p(y);
    this.overElements('binary', n, (o, m) => ({ op: code, a: pa + o, b: pb + o, y: py + o, n: m }));
  }

  axpby(alpha: number, x: Storage, beta: number, y: Storage, n: number): void {
    const px = this.p(x),
      py = this.p(y);
    this.overElements('axpby', n, (o, m) => ({ alpha, x: px + o, beta, y: py + o, n: m }));
  }

  reluBackward(x: Storage, dy: Storage, dx: Storage, n: number): void {
    const px = this.p(x),
      pdy = this.p(dy),
      pdx = this.p(dx);
    this.overElements('reluBackward', n, (o, m) => ({ x: px + o, dy: pdy + o, dx: pdx + o, n: m }));
  }

  binaryStrided(
    op: BinaryOp,
    a: Storage,
    aStrides: readonly number[],
    b: Storage,
    bStrides: readonly number[],
    y: Storage,
    shape: readonly number[],
  ): void {
    const walk = collapseLayout(shape, [aStrides, bStrides]);
    this.call('binaryStrided', {
      op: BINARY_CODES[op],
      a: this.p(a),
      b: this.p(b),
      y: this.p(y),
      desc: this.walkDescriptor(walk.shape, walk.strides),
    });
  }

  broadcastTo(x: Storage, xShape: readonly number[], y: Storage, outShape: readonly number[]): void {
    const walk = collapseLayout(outShape, [broadcastStrides(xShape, outShape)]);
    this.call('broadcastStrided', { x: this.p(x), y: this.p(y), desc: this.walkDescriptor(walk.shape, walk.strides) });
  }

  reduceAxis(op: ReduceOp, x: Storage, y: Storage, outer: number, axis: number, inner: number): void {
    this.call('reduceAxis', { op: REDUCE_CODES[op], x: this.p(x), y: this.p(y), outer, axis, inner });
  }

  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Storage,
    b: Storage,
    beta: number,
    c: Storage,
  ): void {
    const bytes = this.call('gemmWorkspaceBytes', { m, n, k });
    const args = { transA: transA ? 1 : 0, transB: transB ? 1 : 0, m, n, k, alpha, a: this.p(a), b: this.p(b), beta, c: this.p(c) };
    // Rows of C in blocks of 4, the micro-kernel's height.
    const parts = this.parts(Math.floor(m / 4), 2 * m * n * k);
    if (parts === 1) {
      this.call('sgemm', { ...args, work: this.workspace(bytes) });
      return;
    }
    const row = (t: number) => (t === parts ? m : 4 * Math.floor((t * m) / 4 / parts));
    this.runParts(
      'sgemmRows',
      Array.from({ length: parts }, (_, t) => ({ ...args, work: this.workspace(bytes, t), r0: row(t), r1: row(t + 1) })),
    );
  }

  private convFlops(g: ConvGeometry): number {
    return 2 * g.n * g.oc * g.oh * g.ow * g.c * g.kh * g.kw;
  }

  /** The conv kernels' workspace bytes for a geometry, asked of the module once per geometry. */
  private convWorkspaceBytes(g: ConvGeometry): number {
    const key = `${g.n},${g.c},${g.h},${g.w},${g.oc},${g.kh},${g.kw},${g.stride},${g.pad},${g.oh},${g.ow}`;
    let bytes = this.convBytesCache.get(key);
    if (bytes === undefined) {
      bytes = this.call('conv2dWorkspaceBytes', this.geometry(g));
      this.convBytesCache.set(key, bytes);
    }
    return bytes;
  }

  /** The geometry as the kernels take it (a ConvGeometry has exactly their fields). */
  private geometry(g: ConvGeometry): KernelArgs<'conv2dWorkspaceBytes'> {
    return { n: g.n, c: g.c, h: g.h, w: g.w, oc: g.oc, kh: g.kh, kw: g.kw, stride: g.stride, pad: g.pad, oh: g.oh, ow: g.ow };
  }

  /**
   * Runs a conv kernel over the batch: one contiguous run of images per
   * thread, each with its own scratch. args(firstImage, images, work) gives a
   * run's arguments.
   */
  private convOverBatch<K extends ConvOverBatchKernel>(
    kernel: K,
    g: ConvGeometry,
    args: (firstImage: number, images: number, work: number) => KernelArgs<K>,
  ): void {
    this.runJobs(kernel, this.convJobs(kernel, g, args));
  }

  /** Each thread's positional arguments for convOverBatch. */
  private convJobs<K extends ConvOverBatchKernel>(
    kernel: K,
    g: ConvGeometry,
    args: (firstImage: number, images: number, work: number) => KernelArgs<K>,
  ): number[][] {
    const bytes = this.convWorkspaceBytes(g);
    const parts = this.parts(g.n, this.convFlops(g));
    const first = (t: number) => Math.floor((t * g.n) / parts);
    return Array.from({ length: parts }, (_, t) => this.args(kernel, args(first(t), first(t + 1) - first(t), this.workspace(bytes, t))));
  }

  /** One job on this thread, or one per thread on the pool. */
  private runJobs(kernel: KernelName, jobs: number[][]): void {
    if (jobs.length === 1) this.k[kernel](...jobs[0]);
    else this.pool!.run(kernel, jobs);
  }

  /**
   * convOverBatch as a call to repeat: each thread's positional arguments
   * worked out once, only the scratch pointers looked up again on each run
   * (scratch may have grown and moved since). Worked out again where the
   * thread pool changed, and on every run in the bounds-checking mode.
   */
  private convRunner<K extends ConvOverBatchKernel>(
    kernel: K,
    g: ConvGeometry,
    args: (firstImage: number, images: number, work: number) => KernelArgs<K>,
  ): () => void {
    const bytes = this.convWorkspaceBytes(g);
    const workAt = argumentIndex(kernel, 'work');
    let pool = this.pool;
    let jobs = this.convJobs(kernel, g, args);
    return () => {
      if (pool !== this.pool || this.checkBounds) {
        pool = this.pool;
        jobs = this.convJobs(kernel, g, args);
      } else {
        for (let t = 0; t < jobs.length; t++) jobs[t][workAt] = this.workspace(bytes, t);
      }
      this.runJobs(kernel, jobs);
    };
  }

  conv2dForward(x: Storage, w: Storage, y: Storage, g: ConvGeometry): void {
    const xImage = 4 * g.c * g.h * g.w,
      yImage = 4 * g.oc * g.oh * g.ow;
    this.convOverBatch('conv2dForward', g, (b0, images, work) => ({
      x: this.p(x) + b0 * xImage,
      wt: this.p(w),
      y: this.p(y) + b0 * yImage,
      ...this.geometry(g),
      n: images,
      work,
    }));
  }

  /** The fused forward's arguments for a run of images, all but the filter (wt or prepared). */
  private affineRun(x: Storage, y: Storage, g: ConvGeometry, scale: Storage, shift: Storage, residual: Storage | null, relu: boolean) {
    const xImage = 4 * g.c * g.h * g.w,
      yImage = 4 * g.oc * g.oh * g.ow;
    return (b0: number, images: number, work: number) => ({
      x: this.p(x) + b0 * xImage,
      y: this.p(y) + b0 * yImage,
      ...this.geometry(g),
      n: images,
      work,
      scale: this.p(scale),
      shift: this.p(shift),
      residual: residual ? this.p(residual) + b0 * yImage : 0,
      relu: relu ? 1 : 0,
    });
  }

  conv2dForwardAffine(
    x: Storage,
    w: Storage,
    y: Storage,
    g: ConvGeometry,
    scale: Storage,
    shift: Storage,
    residual: Storage | null,
    relu: boolean,
  ): void {
    const run = this.affineRun(x, y, g, scale, shift, residual, relu);
    this.convOverBatch('conv2dForwardAffine', g, (b0, images, work) => ({ ...run(b0, images, work), wt: this.p(w) }));
  }

  conv2dPreparedFilterLength(g: ConvGeometry): number {
    return this.call('conv2dPreparedFilterBytes', this.geometry(g)) / 4;
  }

  /**
   * The layout tag is the kernel path (assembly/conv.ts's preparedPath for
   * plans of g.n images), which the forward checks again.
   */
  conv2dPrepareFilter(w: Storage, prepared: Storage, g: ConvGeometry): PreparedFilter {
    const geometry = this.geometry(g);
    const layout = this.call('conv2dPrepareFilter', {
      wt: this.p(w),
      prepared: this.p(prepared),
      ...geometry,
      work: this.workspace(this.call('conv2dWorkspaceBytes', geometry)),
    });
    return { storage: prepared, geometry: { ...g }, layout };
  }

  /** As conv2dForwardAffine: one run of images per thread, all reading the one prepared filter. */
  conv2dForwardAffinePrepared(
    x: Storage,
    filter: PreparedFilter,
    y: Storage,
    g: ConvGeometry,
    scale: Storage,
    shift: Storage,
    residual: Storage | null,
    relu: boolean,
  ): void {
    // An inference plan repeats each call with the same arguments: its runner is kept with the filter.
    const last = this.preparedCalls.get(filter);
    if (
      last &&
      last.x === x &&
      last.y === y &&
      last.g === g &&
      last.scale === scale &&
      last.shift === shift &&
      last.residual === residual &&
      last.relu === relu
    ) {
      last.run();
      return;
    }
    checkPreparedGeometry(this.name, filter, g);
    const run = this.affineRun(x, y, g, scale, shift, residual, relu);
    const runner = this.convRunner('conv2dForwardAffinePrepared', g, (b0, images, work) => ({
      ...run(b0, images, work),
      prepared: this.p(filter.storage),
      path: filter.layout,
    }));
    this.preparedCalls.set(filter, { x, y, g, scale, shift, residual, relu, run: runner });
    runner();
  }

  conv2dBackwardInput(dy: Storage, w: Storage, dx: Storage, g: ConvGeometry): void {
    const yImage = 4 * g.oc * g.oh * g.ow,
      xImage = 4 * g.c * g.h * g.w;
    this.convOverBatch('conv2dBackwardInput', g, (b0, images, work) => ({
      dy: this.p(dy) + b0 * yImage,
      wt: this.p(w),
      dx: this.p(dx) + b0 * xImage,
      ...this.geometry(g),
      n: images,
      work,
    }));
  }

  /** Each thread computes whole chunks of the batch sum (assembly/conv.ts); the chunks are added in order. */
  conv2dBackwardFilter(x: Storage, dy: Storage, dw: Storage, g: ConvGeometry): void {
    const geometry = this.geometry(g);
    const bytes = this.convWorkspaceBytes(g);
    const chunks = this.call('conv2dBackwardFilterChunks', { n: g.n });
    const parts = this.parts(chunks, this.convFlops(g));
    if (parts === 1) {
      this.call('conv2dBackwardFilter', { x: this.p(x), dy: this.p(dy), dw: this.p(dw), ...geometry, work: this.workspace(bytes) });
      return;
    }
    const K = g.c * g.kh * g.kw;
    const partial = this.grow(this.filterParts, chunks * K * g.oc * 4);
    const first = (t: number) => Math.floor((t * chunks) / parts);
    this.runParts(
      'conv2dBackwardFilterParts',
      Array.from({ length: parts }, (_, t) => ({
        x: this.p(x),
        dy: this.p(dy),
        parts: partial,
        ...geometry,
        g0: first(t),
        g1: first(t + 1),
        work: this.workspace(bytes, t),
      })),
    );
    this.call('conv2dBackwardFilterReduce', { parts: partial, count: chunks, dw: this.p(dw), oc: g.oc, K });
  }

  downsamplePadChannels(x: Storage, y: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    this.call('downsamplePadChannels', { x: this.p(x), y: this.p(y), n, c, h, w, stride, padC });
  }

  downsamplePadChannelsBackward(dy: Storage, dx: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    this.call('downsamplePadChannelsBackward', { dy: this.p(dy), dx: this.p(dx), n, c, h, w, stride, padC });
  }

  globalAvgPoolForward(x: Storage, y: Storage, nc: number, hw: number): void {
    this.call('globalAvgPoolForward', { x: this.p(x), y: this.p(y), nc, hw });
  }

  globalAvgPoolBackward(dy: Storage, dx: Storage, nc: number, hw: number): void {
    this.call('globalAvgPoolBackward', { dy: this.p(dy), dx: this.p(dx), nc, hw });
  }

  /**
   * Runs a batch-norm kernel over channel ranges [c0, c1), one per thread.
   * Batch norm is memory-bound: about 10 flops' worth of time per element and pass.
   */
  private overChannels<K extends BatchNormKernel>(
    kernel: K,
    args: Omit<KernelArgs<K>, 'c0' | 'c1'>,
    n: number,
    c: number,
    hw: number,
  ): void {
    const parts = this.parts(c, 10 * n * c * hw);
    const range = (c0: number, c1: number) => ({ ...args, c0, c1 }) as KernelArgs<K>;
    if (parts === 1) {
      this.call(kernel, range(0, c));
      return;
    }
    const first = (t: number) => Math.floor((t * c) / parts);
    this.runParts(
      kernel,
      Array.from({ length: parts }, (_, t) => range(first(t), first(t + 1))),
    );
  }

  batchNormForwardTrain(
    x: Storage,
    gamma: Storage,
    beta: Storage,
    y: Storage,
    runningMean: Storage,
    runningVar: Storage,
    saveMean: Storage,
    saveInvStd: Storage,
    n: number,
    c: number,
    hw: number,
    momentum: number,
    eps: number,
  ): void {
    this.overChannels(
      'batchNormForwardTrainChannels',
      {
        x: this.p(x),
        gamma: this.p(gamma),
        beta: this.p(beta),
        y: this.p(y),
        runningMean: this.p(runningMean),
        runningVar: this.p(runningVar),
        saveMean: this.p(saveMean),
        saveInvStd: this.p(saveInvStd),
        n,
        c,
        hw,
        momentum,
        eps,
      },
      n,
      c,
      hw,
    );
  }

  batchNormForwardEval(
    x: Storage,
    gamma: Storage,
    beta: Storage,
    y: Storage,
    runningMean: Storage,
    runningVar: Storage,
    n: number,
    c: number,
    hw: number,
    eps: number,
  ): void {
    this.overChannels(
      'batchNormForwardEvalChannels',
      {
        x: this.p(x),
        gamma: this.p(gamma),
        beta: this.p(beta),
        y: this.p(y),
        runningMean: this.p(runningMean),
        runningVar: this.p(runningVar),
        n,
        c,
        hw,
        eps,
      },
      n,
      c,
      hw,
    );
  }

  batchNormBackward(
    x: Storage,
    dy: Storage,
    gamma: Storage,
    mean: Storage,
    invStd: Storage,
    dx: Storage,
    dgamma: Storage,
    dbeta: Storage,
    n: number,
    c: number,
    hw: number,
    training: boolean,
  ): void {
    this.overChannels(
      'batchNormBackwardChannels',
      {
        x: this.p(x),
        dy: this.p(dy),
        gamma: this.p(gamma),
        mean: this.p(mean),
        invStd: this.p(invStd),
        dx: this.p(dx),
        dgamma: this.p(dgamma),
        dbeta: this.p(dbeta),
        n,
        c,
        hw,
        training: training ? 1 : 0,
      },
      n,
      c,
      hw,
    );
  }

  batchNormActForwardTrain(
    x: Storage,
    gamma: Storage,
    beta: Storage,
    y: Storage,
    runningMean: Storage,
    runningVar: Storage,
    saveMean: Storage,
    saveInvStd: Storage,
    n: number,
    c: number,
    hw: number,
    momentum: number,
    eps: number,
    residual: Storage | null,
    relu: boolean,
  ): void {
    this.overChannels(
      'batchNormActForwardTrainChannels',
      {
        x: this.p(x),
        gamma: this.p(gamma),
        beta: this.p(beta),
        y: this.p(y),
        runningMean: this.p(runningMean),
        runningVar: this.p(runningVar),
        saveMean: this.p(saveMean),
        saveInvStd: this.p(saveInvStd),
        n,
        c,
        hw,
        momentum,
        eps,
        residual: residual ? this.p(residual) : 0,
        relu: relu ? 1 : 0,
      },
      n,
      c,
      hw,
    );
  }

  batchNormActBackward(
    x: Storage,
    y: Storage,
    dy: Storage,
    gamma: Storage,
    mean: Storage,
    invStd: Storage,
    dx: Storage,
    dgamma: Storage,
    dbeta: Storage,
    dres: Storage | null,
    n: number,
    c: number,
    hw: number,
    relu: boolean,
  ): void {
    this.overChannels(
      'batchNormActBackwardChannels',
      {
        x: this.p(x),
        y: this.p(y),
        dy: this.p(dy),
        gamma: this.p(gamma),
        mean: this.p(mean),
        invStd: this.p(invStd),
        dx: this.p(dx),
        dgamma: this.p(dgamma),
        dbeta: this.p(dbeta),
        dres: dres ? this.p(dres) : 0,
        n,
        c,
        hw,
        relu: relu ? 1 : 0,
      },
      n,
      c,
      hw,
    );
  }

  softmaxCrossEntropy(
    logits: Storage,
    labels: Int32Array,
    weights: Storage | null,
    n: number,
    c: number,
    loss: Storage,
    dlogits: Storage,
  ): void {
    this.call('softmaxCrossEntropy', {
      logits: this.p(logits),
      labels: this.labelPtr(labels),
      weights: weights ? this.p(weights) : 0,
      n,
      c,
      loss: this.p(loss),
      dlogits: this.p(dlogits),
    });
  }

  featureBalancedLoss(
    logits: Storage,
    features: Storage,
    labels: Int32Array,
    stimulus: Storage,
    n: number,
    c: number,
    d: number,
    loss: Storage,
    dlogits: Storage,
    dfeatures: Storage,
  ): void {
    this.call('featureBalancedLoss', {
      logits: this.p(logits),
      features: this.p(features),
      labels: this.labelPtr(labels),
      stimulus: this.p(stimulus),
      n,
      c,
      d,
      loss: this.p(loss),
      dlogits: this.p(dlogits),
      dfeatures: this.p(dfeatures),
    });
  }

  sgdStep(
    param: Storage,
    grad: Storage,
    momentumBuf: Storage | null,
    n: number,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
  ): void {
    this.call('sgdStep', {
      param: this.p(param),
      grad: this.p(grad),
      momentumBuf: momentumBuf ? this.p(momentumBuf) : 0,
      n,
      lr,
      momentum,
      weightDecay,
      nesterov: nesterov ? 1 : 0,
    });
  }
}
