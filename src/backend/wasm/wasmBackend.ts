/**
 * The default backend: AssemblyScript kernels compiled to WebAssembly SIMD
 * (assembly/), over one linear memory that this file manages. Storages are
 * byte offsets into it; see allocator.ts for the policy.
 */
import type { Backend, BinaryOp, ConvGeometry, Storage, UnaryOp } from '../backend.js';
import { broadcastToRef, sumToRef } from '../reference/kernels/broadcast.js';
import { downsamplePadChannelsRef, downsamplePadChannelsBackwardRef } from '../reference/kernels/shortcut.js';
import { LinearAllocator } from './allocator.js';
import { type KernelInstance, hasSimd } from './loader.js';

interface WasmStorage extends Storage {
  readonly ptr: number;
}

const UNARY_CODES: Record<UnaryOp, number> = { relu: 0, neg: 1, exp: 2, log: 3, sqrt: 4, abs: 5 };
const BINARY_CODES: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };

/** 4 GiB, the wasm32 limit, less one page so that byte offsets stay below 2^32. */
const MAX_BYTES = 2 ** 32 - 65536;

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  private readonly k: Record<string, any>;
  private readonly memory: WebAssembly.Memory;
  private readonly heap: LinearAllocator;
  private work = 0;
  private workBytes = 0;
  private labels = 0;
  private labelsCapacity = 0;

  constructor(inst: KernelInstance, private readonly build: string) {
    this.k = inst.exports;
    this.memory = inst.memory;
    this.heap = new LinearAllocator(inst.memory, inst.heapBase, MAX_BYTES);
  }

  describe(): Record<string, unknown> {
    return {
      simd: hasSimd(),
      build: this.build,
      threads: 1,
      memoryBytes: this.memory.buffer.byteLength,
      heapBytesInUse: this.heap.bytesInUse,
    };
  }

  private p(s: Storage): number {
    return (s as WasmStorage).ptr;
  }

  private view(s: Storage, n = s.length): Float32Array {
    return new Float32Array(this.memory.buffer, this.p(s), n);
  }

  /** Scratch space for packing and im2col, grown on demand, kept for reuse. */
  private workspace(bytes: number): number {
    if (bytes > this.workBytes) {
      if (this.workBytes > 0) this.heap.free(this.work, this.workBytes);
      this.workBytes = Math.ceil(bytes * 1.25 / 65536) * 65536;
      this.work = this.heap.alloc(this.workBytes);
    }
    return this.work;
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

  unary(op: UnaryOp, x: Storage, y: Storage, n: number): void {
    this.k.unary(UNARY_CODES[op], this.p(x), this.p(y), n);
  }

  binary(op: BinaryOp, a: Storage, b: Storage, y: Storage, n: number): void {
    this.k.binary(BINARY_CODES[op], this.p(a), this.p(b), this.p(y), n);
  }

  axpby(alpha: number, x: Storage, beta: number, y: Storage, n: number): void {
    this.k.axpby(alpha, this.p(x), beta, this.p(y), n);
  }

  reluBackward(x: Storage, dy: Storage, dx: Storage, n: number): void {
    this.k.reluBackward(this.p(x), this.p(dy), this.p(dx), n);
  }

  broadcastTo(x: Storage, xShape: readonly number[], y: Storage, outShape: readonly number[]): void {
    broadcastToRef(this.view(x), xShape, this.view(y), outShape);
  }

  sumTo(x: Storage, outShape: readonly number[], y: Storage, xShape: readonly number[]): void {
    sumToRef(this.view(x), outShape, this.view(y), xShape);
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
    const work = this.workspace(this.k.gemmWorkspaceBytes(m, n, k));
    this.k.sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, this.p(a), this.p(b), beta, this.p(c), work);
  }

  private convArgs(g: ConvGeometry): number[] {
    return [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow];
  }

  private convWork(g: ConvGeometry): number {
    return this.workspace(this.k.conv2dWorkspaceBytes(...this.convArgs(g)));
  }

  conv2dForward(x: Storage, w: Storage, y: Storage, g: ConvGeometry): void {
    const work = this.convWork(g);
    this.k.conv2dForward(this.p(x), this.p(w), this.p(y), ...this.convArgs(g), work);
  }

  conv2dBackwardInput(dy: Storage, w: Storage, dx: Storage, g: ConvGeometry): void {
    const work = this.convWork(g);
    this.k.conv2dBackwardInput(this.p(dy), this.p(w), this.p(dx), ...this.convArgs(g), work);
  }

  conv2dBackwardFilter(x: Storage, dy: Storage, dw: Storage, g: ConvGeometry): void {
    const work = this.convWork(g);
    this.k.conv2dBackwardFilter(this.p(x), this.p(dy), this.p(dw), ...this.convArgs(g), work);
  }

  // Two option-A shortcuts per ResNet: memory-bound and cheap, so plain JS over the views.
  downsamplePadChannels(x: Storage, y: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    downsamplePadChannelsRef(this.view(x), this.view(y), n, c, h, w, stride, padC);
  }

  downsamplePadChannelsBackward(dy: Storage, dx: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    downsamplePadChannelsBackwardRef(this.view(dy), this.view(dx), n, c, h, w, stride, padC);
  }

  globalAvgPoolForward(x: Storage, y: Storage, nc: number, hw: number): void {
    this.k.globalAvgPoolForward(this.p(x), this.p(y), nc, hw);
  }

  globalAvgPoolBackward(dy: Storage, dx: Storage, nc: number, hw: number): void {
    this.k.globalAvgPoolBackward(this.p(dy), this.p(dx), nc, hw);
  }

  batchNormForwardTrain(x: Storage, gamma: Storage, beta: Storage, y: Storage, runningMean: Storage, runningVar: Storage,
    saveMean: Storage, saveInvStd: Storage, n: number, c: number, hw: number, momentum: number, eps: number): void {
    this.k.batchNormForwardTrain(this.p(x), this.p(gamma), this.p(beta), this.p(y), this.p(runningMean), this.p(runningVar),
      this.p(saveMean), this.p(saveInvStd), n, c, hw, momentum, eps);
  }

  batchNormForwardEval(x: Storage, gamma: Storage, beta: Storage, y: Storage, runningMean: Storage, runningVar: Storage,
    n: number, c: number, hw: number, eps: number): void {
    this.k.batchNormForwardEval(this.p(x), this.p(gamma), this.p(beta), this.p(y), this.p(runningMean), this.p(runningVar), n, c, hw, eps);
  }

  batchNormBackward(x: Storage, dy: Storage, gamma: Storage, mean: Storage, invStd: Storage, dx: Storage, dgamma: Storage,
    dbeta: Storage, n: number, c: number, hw: number, training: boolean): void {
    this.k.batchNormBackward(this.p(x), this.p(dy), this.p(gamma), this.p(mean), this.p(invStd), this.p(dx), this.p(dgamma),
      this.p(dbeta), n, c, hw, training ? 1 : 0);
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
