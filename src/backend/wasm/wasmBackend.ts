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
import type { Backend, BinaryOp, ConvGeometry, ReduceOp, Storage, UnaryOp } from '../backend.js';
import { broadcastStrides, collapseLayout } from '../layout.js';
import { boundsCheckRequested } from '../boundsCheck.js';
import { LinearAllocator } from './allocator.js';
import { type KernelInstance, hasSimd } from './loader.js';
import { ThreadPool } from './threads.js';

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
  'conv2dForward', 'conv2dForwardAffine', 'conv2dBackwardInput', 'conv2dBackwardFilterParts', 'sgemmRows',
  'batchNormForwardTrainChannels', 'batchNormForwardEvalChannels', 'batchNormBackwardChannels',
  'batchNormActForwardTrainChannels', 'batchNormActBackwardChannels',
  'unary', 'binary', 'axpby', 'reluBackward',
];

/**
 * Below this many flops a primitive runs on one thread: about 0.1 ms of work
 * against a barrier of 10-50 us.
 */
const MIN_PARALLEL_FLOPS = 4e6;

interface Scratch {
  ptr: number;
  bytes: number;
}

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  private readonly k: Record<string, any>;
  private readonly memory: WebAssembly.Memory;
  private readonly heap: LinearAllocator;
  /** Per-thread scratch for packing and im2col (index 0: the calling thread). */
  private readonly work: Scratch[] = [];
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
    this.k = inst.exports;
    this.memory = inst.memory;
    this.heap = new LinearAllocator(inst.memory, inst.heapBase, MAX_BYTES, boundsCheckRequested());
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
    this.shutdown();
    if (want > 1) {
      this.pool = await ThreadPool.create({
        module: this.inst.module, memory: this.memory, exports: this.k,
        alloc: (bytes) => this.heap.alloc(bytes), free: (ptr, bytes) => this.heap.free(ptr, bytes),
      }, want, THREADED_KERNELS);
    }
    return this.threads;
  }

  /** Stops the worker threads (back to one thread). */
  shutdown(): void {
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
      s.bytes = Math.ceil(bytes * 1.25 / 65536) * 65536;
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

  /** Writes a strided walk's descriptor: rank, shape, then each operand's strides (assembly/broadcast.ts). */
  private walkDescriptor(shape: readonly number[], strides: readonly (readonly number[])[]): number {
    const words = [shape.length, ...shape, ...strides.flat()];
    const ptr = this.grow(this.walk, words.length * 4);
    new Int32Array(this.memory.buffer, ptr, words.length).set(words);
    return ptr;
  }

  /**
   * Why the first `elements` values of s are not inside a live block of the
   * allocator, or null (the bounds-checking debug mode, boundsCheck.ts).
   */
  outsideLiveBlock(s: Storage, elements: number): string | null {
    return this.heap.outsideLiveBlock(this.p(s), elements * 4);
  }

  alloc(length: number): Storage {
    const s: WasmStorage = { length, ptr: this.heap.alloc(length * 4) };
    return s;
  }

  free(s: Storage): void {
    this.heap.free(this.p(s), s.length * 4);
  }

  write(s: Storage, data: Float32Array, offset = 0): void {
    if (offset + data.length > s.length) throw new Error(`wasmtail: write of ${data.length} values at ${offset} past a storage of ${s.length}`);
    new Float32Array(this.memory.buffer, this.p(s) + offset * 4, data.length).set(data);
  }

  read(s: Storage): Float32Array {
    return this.view(s).slice();
  }

  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  fill(y: Storage, value: number, n: number): void {
    this.k.fill(this.p(y), value, n);
  }

  copy(x: Storage, y: Storage, n: number): void {
    this.k.copy(this.p(x), this.p(y), n);
  }

  /**
   * Runs an elementwise kernel over ranges of its n elements, one per thread;
   * args(byteOffset, count) gives a range's arguments. Ranges start at
   * multiples of 16 elements, so the kernels' 4-lane groups (and the scalar
   * tail) fall where they fall on one thread. Memory-bound: about 16 flops'
   * worth of time per element.
   */
  private overElements(kernel: string, n: number, args: (byteOffset: number, count: number) => number[]): void {
    const parts = this.parts(Math.floor(n / 16), 16 * n);
    if (parts === 1) {
      this.k[kernel](...args(0, n));
      return;
    }
    const first = (t: number) => (t === parts ? n : 16 * Math.floor(t * n / 16 / parts));
    this.pool!.run(kernel, Array.from({ length: parts }, (_, t) => args(first(t) * 4, first(t + 1) - first(t))));
  }

  unary(op: UnaryOp, x: Storage, y: Storage, n: number): void {
    const code = UNARY_CODES[op], px = this.p(x), py = this.p(y);
    this.overElements('unary', n, (o, m) => [code, px + o, py + o, m]);
  }

  binary(op: BinaryOp, a: Storage, b: Storage, y: Storage, n: number): void {
    const code = BINARY_CODES[op], pa = this.p(a), pb = this.p(b), py = this.p(y);
    this.overElements('binary', n, (o, m) => [code, pa + o, pb + o, py + o, m]);
  }

  axpby(alpha: number, x: Storage, beta: number, y: Storage, n: number): void {
    const px = this.p(x), py = this.p(y);
    this.overElements('axpby', n, (o, m) => [alpha, px + o, beta, py + o, m]);
  }

  reluBackward(x: Storage, dy: Storage, dx: Storage, n: number): void {
    const px = this.p(x), pdy = this.p(dy), pdx = this.p(dx);
    this.overElements('reluBackward', n, (o, m) => [px + o, pdy + o, pdx + o, m]);
  }

  binaryStrided(op: BinaryOp, a: Storage, aStrides: readonly number[], b: Storage, bStrides: readonly number[],
    y: Storage, shape: readonly number[]): void {
    const walk = collapseLayout(shape, [aStrides, bStrides]);
    this.k.binaryStrided(BINARY_CODES[op], this.p(a), this.p(b), this.p(y), this.walkDescriptor(walk.shape, walk.strides));
  }

  broadcastTo(x: Storage, xShape: readonly number[], y: Storage, outShape: readonly number[]): void {
    const walk = collapseLayout(outShape, [broadcastStrides(xShape, outShape)]);
    this.k.broadcastStrided(this.p(x), this.p(y), this.walkDescriptor(walk.shape, walk.strides));
  }

  reduceAxis(op: ReduceOp, x: Storage, y: Storage, outer: number, axis: number, inner: number): void {
    this.k.reduceAxis(REDUCE_CODES[op], this.p(x), this.p(y), outer, axis, inner);
  }

  sum(x: Storage, y: Storage, n: number): void {
    this.k.sum(this.p(x), this.p(y), n);
  }

  sumRows(x: Storage, y: Storage, rows: number, cols: number): void {
    this.k.sumRows(this.p(x), this.p(y), rows, cols);
  }

  addRowVector(x: Storage, b: Storage, y: Storage, rows: number, cols: number): void {
    this.k.addRowVector(this.p(x), this.p(b), this.p(y), rows, cols);
  }

  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: Storage, b: Storage, beta: number, c: Storage): void {
    const bytes = this.k.gemmWorkspaceBytes(m, n, k);
    const ta = transA ? 1 : 0, tb = transB ? 1 : 0;
    // Rows of C in blocks of 4, the micro-kernel's height.
    const parts = this.parts(Math.floor(m / 4), 2 * m * n * k);
    if (parts === 1) {
      this.k.sgemm(ta, tb, m, n, k, alpha, this.p(a), this.p(b), beta, this.p(c), this.workspace(bytes));
      return;
    }
    const row = (t: number) => (t === parts ? m : 4 * Math.floor(t * m / 4 / parts));
    this.pool!.run('sgemmRows', Array.from({ length: parts }, (_, t) =>
      [ta, tb, m, n, k, alpha, this.p(a), this.p(b), beta, this.p(c), this.workspace(bytes, t), row(t), row(t + 1)]));
  }

  private convArgs(g: ConvGeometry): number[] {
    return [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow];
  }

  private convFlops(g: ConvGeometry): number {
    return 2 * g.n * g.oc * g.oh * g.ow * g.c * g.kh * g.kw;
  }

  /**
   * Runs a conv kernel that takes (a, w, b, n, ...geometry, work) over the
   * batch: one contiguous run of images per thread, each with its own scratch.
   */
  private convOverBatch(kernel: string, a: Storage, aImage: number, w: Storage, b: Storage, bImage: number, g: ConvGeometry,
    extra: (firstImage: number) => number[] = () => []): void {
    const args = this.convArgs(g);
    const bytes = this.k.conv2dWorkspaceBytes(...args);
    const parts = this.parts(g.n, this.convFlops(g));
    if (parts === 1) {
      this.k[kernel](this.p(a), this.p(w), this.p(b), ...args, this.workspace(bytes), ...extra(0));
      return;
    }
    const first = (t: number) => Math.floor(t * g.n / parts);
    this.pool!.run(kernel, Array.from({ length: parts }, (_, t) => {
      const b0 = first(t);
      return [this.p(a) + b0 * aImage * 4, this.p(w), this.p(b) + b0 * bImage * 4, first(t + 1) - b0, ...args.slice(1),
        this.workspace(bytes, t), ...extra(b0)];
    }));
  }

  conv2dForward(x: Storage, w: Storage, y: Storage, g: ConvGeometry): void {
    this.convOverBatch('conv2dForward', x, g.c * g.h * g.w, w, y, g.oc * g.oh * g.ow, g);
  }

  conv2dForwardAffine(x: Storage, w: Storage, y: Storage, g: ConvGeometry, scale: Storage, shift: Storage,
    residual: Storage | null, relu: boolean): void {
    const yImage = g.oc * g.oh * g.ow;
    this.convOverBatch('conv2dForwardAffine', x, g.c * g.h * g.w, w, y, yImage, g, (b0) =>
      [this.p(scale), this.p(shift), residual ? this.p(residual) + b0 * yImage * 4 : 0, relu ? 1 : 0]);
  }

  conv2dBackwardInput(dy: Storage, w: Storage, dx: Storage, g: ConvGeometry): void {
    this.convOverBatch('conv2dBackwardInput', dy, g.oc * g.oh * g.ow, w, dx, g.c * g.h * g.w, g);
  }

  /** Each thread computes whole chunks of the batch sum (assembly/conv.ts); the chunks are added in order. */
  conv2dBackwardFilter(x: Storage, dy: Storage, dw: Storage, g: ConvGeometry): void {
    const args = this.convArgs(g);
    const bytes = this.k.conv2dWorkspaceBytes(...args);
    const chunks = this.k.conv2dBackwardFilterChunks(g.n) as number;
    const parts = this.parts(chunks, this.convFlops(g));
    if (parts === 1) {
      this.k.conv2dBackwardFilter(this.p(x), this.p(dy), this.p(dw), ...args, this.workspace(bytes));
      return;
    }
    const K = g.c * g.kh * g.kw;
    const partial = this.grow(this.filterParts, chunks * K * g.oc * 4);
    const first = (t: number) => Math.floor(t * chunks / parts);
    this.pool!.run('conv2dBackwardFilterParts', Array.from({ length: parts }, (_, t) =>
      [this.p(x), this.p(dy), partial, ...args, first(t), first(t + 1), this.workspace(bytes, t)]));
    this.k.conv2dBackwardFilterReduce(partial, chunks, this.p(dw), g.oc, K);
  }

  downsamplePadChannels(x: Storage, y: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    this.k.downsamplePadChannels(this.p(x), this.p(y), n, c, h, w, stride, padC);
  }

  downsamplePadChannelsBackward(dy: Storage, dx: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    this.k.downsamplePadChannelsBackward(this.p(dy), this.p(dx), n, c, h, w, stride, padC);
  }

  globalAvgPoolForward(x: Storage, y: Storage, nc: number, hw: number): void {
    this.k.globalAvgPoolForward(this.p(x), this.p(y), nc, hw);
  }

  globalAvgPoolBackward(dy: Storage, dx: Storage, nc: number, hw: number): void {
    this.k.globalAvgPoolBackward(this.p(dy), this.p(dx), nc, hw);
  }

  /**
   * Runs a batch-norm kernel over channel ranges, one per thread. Batch norm
   * is memory-bound: about 10 flops' worth of time per element and pass.
   */
  private overChannels(kernel: string, args: number[], n: number, c: number, hw: number): void {
    const parts = this.parts(c, 10 * n * c * hw);
    if (parts === 1) {
      this.k[kernel](...args, 0, c);
      return;
    }
    const first = (t: number) => Math.floor(t * c / parts);
    this.pool!.run(kernel, Array.from({ length: parts }, (_, t) => [...args, first(t), first(t + 1)]));
  }

  batchNormForwardTrain(x: Storage, gamma: Storage, beta: Storage, y: Storage, runningMean: Storage, runningVar: Storage,
    saveMean: Storage, saveInvStd: Storage, n: number, c: number, hw: number, momentum: number, eps: number): void {
    this.overChannels('batchNormForwardTrainChannels', [this.p(x), this.p(gamma), this.p(beta), this.p(y), this.p(runningMean),
      this.p(runningVar), this.p(saveMean), this.p(saveInvStd), n, c, hw, momentum, eps], n, c, hw);
  }

  batchNormForwardEval(x: Storage, gamma: Storage, beta: Storage, y: Storage, runningMean: Storage, runningVar: Storage,
    n: number, c: number, hw: number, eps: number): void {
    this.overChannels('batchNormForwardEvalChannels', [this.p(x), this.p(gamma), this.p(beta), this.p(y), this.p(runningMean),
      this.p(runningVar), n, c, hw, eps], n, c, hw);
  }

  batchNormBackward(x: Storage, dy: Storage, gamma: Storage, mean: Storage, invStd: Storage, dx: Storage, dgamma: Storage,
    dbeta: Storage, n: number, c: number, hw: number, training: boolean): void {
    this.overChannels('batchNormBackwardChannels', [this.p(x), this.p(dy), this.p(gamma), this.p(mean), this.p(invStd), this.p(dx),
      this.p(dgamma), this.p(dbeta), n, c, hw, training ? 1 : 0], n, c, hw);
  }

  batchNormActForwardTrain(x: Storage, gamma: Storage, beta: Storage, y: Storage, runningMean: Storage, runningVar: Storage,
    saveMean: Storage, saveInvStd: Storage, n: number, c: number, hw: number, momentum: number, eps: number,
    residual: Storage | null, relu: boolean): void {
    this.overChannels('batchNormActForwardTrainChannels', [this.p(x), this.p(gamma), this.p(beta), this.p(y), this.p(runningMean),
      this.p(runningVar), this.p(saveMean), this.p(saveInvStd), n, c, hw, momentum, eps, residual ? this.p(residual) : 0, relu ? 1 : 0], n, c, hw);
  }

  batchNormActBackward(x: Storage, y: Storage, dy: Storage, gamma: Storage, mean: Storage, invStd: Storage, dx: Storage,
    dgamma: Storage, dbeta: Storage, dres: Storage | null, n: number, c: number, hw: number, relu: boolean): void {
    this.overChannels('batchNormActBackwardChannels', [this.p(x), this.p(y), this.p(dy), this.p(gamma), this.p(mean), this.p(invStd),
      this.p(dx), this.p(dgamma), this.p(dbeta), dres ? this.p(dres) : 0, n, c, hw, relu ? 1 : 0], n, c, hw);
  }

  softmaxCrossEntropy(logits: Storage, labels: Int32Array, weights: Storage | null, n: number, c: number, loss: Storage, dlogits: Storage): void {
    this.k.softmaxCrossEntropy(this.p(logits), this.labelPtr(labels), weights ? this.p(weights) : 0, n, c, this.p(loss), this.p(dlogits));
  }

  featureBalancedLoss(logits: Storage, features: Storage, labels: Int32Array, stimulus: Storage, n: number, c: number, d: number,
    loss: Storage, dlogits: Storage, dfeatures: Storage): void {
    this.k.featureBalancedLoss(this.p(logits), this.p(features), this.labelPtr(labels), this.p(stimulus), n, c, d,
      this.p(loss), this.p(dlogits), this.p(dfeatures));
  }

  sgdStep(param: Storage, grad: Storage, momentumBuf: Storage | null, n: number, lr: number, momentum: number,
    weightDecay: number, nesterov: boolean): void {
    this.k.sgdStep(this.p(param), this.p(grad), momentumBuf ? this.p(momentumBuf) : 0, n, lr, momentum, weightDecay, nesterov ? 1 : 0);
  }
}
