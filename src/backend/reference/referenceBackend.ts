/**
 * The reference backend: every primitive as a plain TypeScript loop over a
 * Float32Array (or Float64Array, for float64 gradient checks). It is the
 * oracle the WASM and WebGPU kernels are tested against, and a fallback
 * where WebAssembly SIMD is unavailable. Slow by design: clarity first.
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
import type { FArray } from './kernels/types.js';
import { binaryStridedRef, broadcastToRef } from './kernels/broadcast.js';
import { gemmRef } from './kernels/gemm.js';
import { conv2dForwardRef, conv2dForwardAffineRef, conv2dBackwardInputRef, conv2dBackwardFilterRef } from './kernels/conv.js';
import { fillRef, copyRef, unaryRef, binaryRef, axpbyRef, reluBackwardRef } from './kernels/elementwise.js';
import { reduceAxisRef } from './kernels/reduce.js';
import { globalAvgPoolForwardRef, globalAvgPoolBackwardRef } from './kernels/pool.js';
import {
  batchNormForwardTrainRef,
  batchNormForwardEvalRef,
  batchNormBackwardRef,
  batchNormActForwardTrainRef,
  batchNormActBackwardRef,
} from './kernels/batchnorm.js';
import { softmaxCrossEntropyRef, featureBalancedLossRef } from './kernels/loss.js';
import { sgdStepRef } from './kernels/optim.js';
import { downsamplePadChannelsRef, downsamplePadChannelsBackwardRef } from './kernels/shortcut.js';

interface ArrayStorage extends Storage {
  readonly data: FArray;
}

const a = (s: Storage): FArray => (s as ArrayStorage).data;

export class ReferenceBackend implements Backend {
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability> = new Set(['conv2dForwardAffine', 'preparedConv', 'batchNormAct']);
  private bytes = 0;

  constructor(private readonly precision: 'float32' | 'float64' = 'float32') {
    this.name = precision === 'float32' ? 'reference' : 'reference-f64';
  }

  describe(): Record<string, unknown> {
    return { precision: this.precision, simd: false, threads: 1 };
  }

  alloc(length: number): Storage {
    this.bytes += length * 4;
    const data = this.precision === 'float32' ? new Float32Array(length) : new Float64Array(length);
    const s: ArrayStorage = { length, data };
    return s;
  }

  free(s: Storage): void {
    this.bytes -= s.length * 4;
  }

  write(s: Storage, data: Float32Array, offset = 0): void {
    a(s).set(data, offset);
  }

  read(s: Storage): Float32Array {
    return Float32Array.from(a(s));
  }

  memoryBytes(): number {
    return this.bytes;
  }

  dispose(): void {}

  async setThreads(n: number): Promise<number> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`wasmtail: threads must be a positive integer, got ${n}`);
    return 1;
  }

  fill(y: Storage, value: number, n: number): void {
    fillRef(a(y), value, n);
  }
  copy(x: Storage, y: Storage, n: number): void {
    copyRef(a(x), a(y), n);
  }
  unary(op: UnaryOp, x: Storage, y: Storage, n: number): void {
    unaryRef(op, a(x), a(y), n);
  }
  binary(op: BinaryOp, x: Storage, z: Storage, y: Storage, n: number): void {
    binaryRef(op, a(x), a(z), a(y), n);
  }
  axpby(alpha: number, x: Storage, beta: number, y: Storage, n: number): void {
    axpbyRef(alpha, a(x), beta, a(y), n);
  }
  reluBackward(x: Storage, dy: Storage, dx: Storage, n: number): void {
    reluBackwardRef(a(x), a(dy), a(dx), n);
  }
  broadcastTo(x: Storage, xShape: readonly number[], y: Storage, outShape: readonly number[]): void {
    broadcastToRef(a(x), xShape, a(y), outShape);
  }
  binaryStrided(
    op: BinaryOp,
    x: Storage,
    xStrides: readonly number[],
    z: Storage,
    zStrides: readonly number[],
    y: Storage,
    shape: readonly number[],
  ): void {
    binaryStridedRef(op, a(x), xStrides, a(z), zStrides, a(y), shape);
  }
  reduceAxis(op: ReduceOp, x: Storage, y: Storage, outer: number, axis: number, inner: number): void {
    reduceAxisRef(op, a(x), a(y), outer, axis, inner);
  }

  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    x: Storage,
    w: Storage,
    beta: number,
    c: Storage,
  ): void {
    gemmRef(transA, transB, m, n, k, alpha, a(x), a(w), beta, a(c));
  }
  conv2dForward(x: Storage, w: Storage, y: Storage, g: ConvGeometry): void {
    conv2dForwardRef(a(x), a(w), a(y), g);
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
    conv2dForwardAffineRef(a(x), a(w), a(y), g, a(scale), a(shift), residual ? a(residual) : null, relu);
  }
  /** The reference reads plain weights: its prepared filter is a copy of them. */
  conv2dPreparedFilterLength(g: ConvGeometry): number {
    return g.oc * g.c * g.kh * g.kw;
  }
  conv2dPrepareFilter(w: Storage, prepared: Storage, g: ConvGeometry): PreparedFilter {
    a(prepared).set(a(w).subarray(0, this.conv2dPreparedFilterLength(g)));
    return { storage: prepared, geometry: { ...g }, layout: 0 };
  }
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
    checkPreparedGeometry(this.name, filter, g);
    this.conv2dForwardAffine(x, filter.storage, y, g, scale, shift, residual, relu);
  }
  conv2dBackwardInput(dy: Storage, w: Storage, dx: Storage, g: ConvGeometry): void {
    conv2dBackwardInputRef(a(dy), a(w), a(dx), g);
  }
  conv2dBackwardFilter(x: Storage, dy: Storage, dw: Storage, g: ConvGeometry): void {
    conv2dBackwardFilterRef(a(x), a(dy), a(dw), g);
  }

  downsamplePadChannels(x: Storage, y: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    downsamplePadChannelsRef(a(x), a(y), n, c, h, w, stride, padC);
  }
  downsamplePadChannelsBackward(dy: Storage, dx: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    downsamplePadChannelsBackwardRef(a(dy), a(dx), n, c, h, w, stride, padC);
  }

  globalAvgPoolForward(x: Storage, y: Storage, nc: number, hw: number): void {
    globalAvgPoolForwardRef(a(x), a(y), nc, hw);
  }
  globalAvgPoolBackward(dy: Storage, dx: Storage, nc: number, hw: number): void {
    globalAvgPoolBackwardRef(a(dy), a(dx), nc, hw);
  }

  batchNormForwardTrain(
    x: Storage,
    gamma: Storage,
    beta: Storage,
    y: Storage,
    rm: Storage,
    rv: Storage,
    sm: Storage,
    si: Storage,
    n: number,
    c: number,
    hw: number,
    momentum: number,
    eps: number,
  ): void {
    batchNormForwardTrainRef(a(x), a(gamma), a(beta), a(y), a(rm), a(rv), a(sm), a(si), n, c, hw, momentum, eps);
  }
  batchNormForwardEval(
    x: Storage,
    gamma: Storage,
    beta: Storage,
    y: Storage,
    rm: Storage,
    rv: Storage,
    n: number,
    c: number,
    hw: number,
    eps: number,
  ): void {
    batchNormForwardEvalRef(a(x), a(gamma), a(beta), a(y), a(rm), a(rv), n, c, hw, eps);
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
    batchNormBackwardRef(a(x), a(dy), a(gamma), a(mean), a(invStd), a(dx), a(dgamma), a(dbeta), n, c, hw, training);
  }
  batchNormActForwardTrain(
    x: Storage,
    gamma: Storage,
    beta: Storage,
    y: Storage,
    rm: Storage,
    rv: Storage,
    sm: Storage,
    si: Storage,
    n: number,
    c: number,
    hw: number,
    momentum: number,
    eps: number,
    residual: Storage | null,
    relu: boolean,
  ): void {
    batchNormActForwardTrainRef(
      a(x),
      a(gamma),
      a(beta),
      a(y),
      a(rm),
      a(rv),
      a(sm),
      a(si),
      n,
      c,
      hw,
      momentum,
      eps,
      residual ? a(residual) : null,
      relu,
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
    batchNormActBackwardRef(
      a(x),
      a(y),
      a(dy),
      a(gamma),
      a(mean),
      a(invStd),
      a(dx),
      a(dgamma),
      a(dbeta),
      dres ? a(dres) : null,
      n,
      c,
      hw,
      relu,
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
    softmaxCrossEntropyRef(a(logits), labels, weights ? a(weights) : null, n, c, a(loss), a(dlogits));
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
    featureBalancedLossRef(a(logits), a(features), labels, a(stimulus), n, c, d, a(loss), a(dlogits), a(dfeatures));
  }
  sgdStep(
    param: Storage,
    grad: Storage,
    buf: Storage | null,
    n: number,
    lr: number,
    momentum: number,
    wd: number,
    nesterov: boolean,
  ): void {
    sgdStepRef(a(param), a(grad), buf ? a(buf) : null, n, lr, momentum, wd, nesterov);
  }
}
