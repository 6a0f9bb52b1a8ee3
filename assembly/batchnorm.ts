// Batch normalisation over NCHW, statistics per channel over n * hw values
// (PyTorch's BatchNorm2d; BatchNorm1d is hw = 1). Channel ch of sample i is the
// contiguous plane x[(i * c + ch) * hw ..][0..hw), so every pass walks a
// channel plane by plane with f32x4 loops.
//
// Statistics are two-pass: the mean first, then the sum of squared deviations
// from it (no E[x^2] - E[x]^2 cancellation). Both sums use the blockwise
// scheme of reduce.ts: f32x4 lane sums over at most BLOCK values, flushed into
// f64, so a 65,536-value channel (ResNet-32's first stage at batch 64) keeps
// near-f32 accuracy. Per-channel scalars are formed in f64, stored as f32.
import { sumF64 } from './reduce';

import { BLOCK, at, lanesToF64 } from './simd';

/** Sum of (x[k] - mean)^2 over k < n. */
function sumSquaredDeviations(x: usize, n: i32, mean: f32): f64 {
  const vm = f32x4.splat(mean);
  let total: f64 = 0;
  const n4 = n & ~3;
  let i = 0;
  while (i < n4) {
    const stop = min(n4, i + BLOCK);
    let acc = f32x4.splat(0);
    for (; i < stop; i += 4) {
      const d = f32x4.sub(v128.load(at(x, i)), vm);
      acc = f32x4.add(acc, f32x4.mul(d, d));
    }
    total += lanesToF64(acc);
  }
  for (; i < n; i++) {
    const d = <f64>load<f32>(at(x, i)) - <f64>mean;
    total += d * d;
  }
  return total;
}

/** Second result of sumDyCentred: the plain sum of dy. */
let dySum: f64 = 0;

/** Returns the sum of dy[k] * (x[k] - mean) and leaves the sum of dy[k] in dySum. */
function sumDyCentred(x: usize, dy: usize, n: i32, mean: f32): f64 {
  return sumGradCentred(x, 0, dy, 0, n, mean, false, false);
}

/** y[k] = (x[k] - shift) * scale + offset over one plane. */
function normalisePlane(x: usize, y: usize, n: i32, shift: f32, scale: f32, offset: f32): void {
  const vs = f32x4.splat(shift);
  const vk = f32x4.splat(scale);
  const vo = f32x4.splat(offset);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    v128.store(at(y, i), f32x4.add(f32x4.mul(f32x4.sub(v128.load(at(x, i)), vs), vk), vo));
  }
  for (; i < n; i++) store<f32>(at(y, i), (load<f32>(at(x, i)) - shift) * scale + offset);
}

/**
 * Training forward. saveMean / saveInvStd get the batch mean and
 * 1 / sqrt(biased var + eps); the running statistics are updated in place:
 * rm = (1 - momentum) rm + momentum mean, rv = (1 - momentum) rv + momentum
 * unbiased var, where unbiased var = biased var * N / (N - 1) for N = n * hw
 * values (N = 1, which PyTorch rejects in training, uses the biased var 0).
 * y may be x (each channel is fully read before it is written).
 */
export function batchNormForwardTrain(x: usize, gamma: usize, beta: usize, y: usize,
  runningMean: usize, runningVar: usize, saveMean: usize, saveInvStd: usize,
  n: i32, c: i32, hw: i32, momentum: f32, eps: f32): void {
  batchNormForwardTrainChannels(x, gamma, beta, y, runningMean, runningVar, saveMean, saveInvStd, n, c, hw, momentum, eps, 0, c);
}

/**
 * batchNormForwardTrain on channels c0 .. c1-1 only (threads split the
 * channels; each channel is computed the same way whatever the split).
 */
export function batchNormForwardTrainChannels(x: usize, gamma: usize, beta: usize, y: usize,
  runningMean: usize, runningVar: usize, saveMean: usize, saveInvStd: usize,
  n: i32, c: i32, hw: i32, momentum: f32, eps: f32, c0: i32, c1: i32): void {
  forwardTrain(x, gamma, beta, y, runningMean, runningVar, saveMean, saveInvStd, n, c, hw, momentum, eps, 0, false, c0, c1);
}

/**
 * The training forward fused with what follows it in a ResNet block:
 * y = act(batchNorm(x) + residual), residual of x's shape or 0 for none,
 * act = ReLU where relu != 0. One pass over y instead of three (normalise,
 * add, ReLU), the same float operations in the same order, so the result
 * is bit-identical to the separate kernels. Channels c0 .. c1-1.
 */
export function batchNormActForwardTrainChannels(x: usize, gamma: usize, beta: usize, y: usize,
  runningMean: usize, runningVar: usize, saveMean: usize, saveInvStd: usize,
  n: i32, c: i32, hw: i32, momentum: f32, eps: f32, residual: usize, relu: i32, c0: i32, c1: i32): void {
  forwardTrain(x, gamma, beta, y, runningMean, runningVar, saveMean, saveInvStd, n, c, hw, momentum, eps, residual, relu != 0, c0, c1);
}

function forwardTrain(x: usize, gamma: usize, beta: usize, y: usize,
  runningMean: usize, runningVar: usize, saveMean: usize, saveInvStd: usize,
  n: i32, c: i32, hw: i32, momentum: f32, eps: f32, residual: usize, relu: bool, c0: i32, c1: i32): void {
  const count = <f64>n * <f64>hw;
  const sampleStride = <usize>c * <usize>hw << 2;
  const m = <f64>momentum;
  for (let ch = c0; ch < c1; ch++) {
    const base = at(x, ch * hw);
    let s: f64 = 0;
    for (let i = 0; i < n; i++) s += sumF64(base + <usize>i * sampleStride, hw);
    const mean = s / count;
    const meanF = <f32>mean;
    let ss: f64 = 0;
    for (let i = 0; i < n; i++) ss += sumSquaredDeviations(base + <usize>i * sampleStride, hw, meanF);
    const variance = ss / count;
    const invStd = 1.0 / Math.sqrt(variance + <f64>eps);
    const unbiased = count > 1 ? variance * count / (count - 1) : variance;
    store<f32>(at(saveMean, ch), meanF);
    store<f32>(at(saveInvStd, ch), <f32>invStd);
    store<f32>(at(runningMean, ch), <f32>((1 - m) * <f64>load<f32>(at(runningMean, ch)) + m * mean));
    store<f32>(at(runningVar, ch), <f32>((1 - m) * <f64>load<f32>(at(runningVar, ch)) + m * unbiased));
    const scale = <f32>(<f64>load<f32>(at(gamma, ch)) * invStd);
    const b = load<f32>(at(beta, ch));
    const yBase = at(y, ch * hw);
    for (let i = 0; i < n; i++) {
      const p = <usize>i * sampleStride;
      if (residual == 0 && !relu) normalisePlane(base + p, yBase + p, hw, meanF, scale, b);
      else normaliseActPlane(base + p, yBase + p, residual == 0 ? 0 : at(residual, ch * hw) + p, hw, meanF, scale, b, relu);
    }
  }
}

/** normalisePlane, then + res[k] (res != 0), then max(., 0) (relu): NaN stays NaN as in the ReLU kernel. */
function normaliseActPlane(x: usize, y: usize, res: usize, n: i32, shift: f32, scale: f32, offset: f32, relu: bool): void {
  const vs = f32x4.splat(shift);
  const vk = f32x4.splat(scale);
  const vo = f32x4.splat(offset);
  // max(v, -inf) is v: one loop serves both, no branch inside it.
  const floor: f32 = relu ? 0 : -Infinity;
  const vf = f32x4.splat(floor);
  const n4 = n & ~3;
  let i = 0;
  if (res != 0) {
    for (; i < n4; i += 4) {
      const v = f32x4.add(f32x4.add(f32x4.mul(f32x4.sub(v128.load(at(x, i)), vs), vk), vo), v128.load(at(res, i)));
      v128.store(at(y, i), f32x4.max(v, vf));
    }
    for (; i < n; i++) store<f32>(at(y, i), max<f32>((load<f32>(at(x, i)) - shift) * scale + offset + load<f32>(at(res, i)), floor));
  } else {
    for (; i < n4; i += 4) {
      v128.store(at(y, i), f32x4.max(f32x4.add(f32x4.mul(f32x4.sub(v128.load(at(x, i)), vs), vk), vo), vf));
    }
    for (; i < n; i++) store<f32>(at(y, i), max<f32>((load<f32>(at(x, i)) - shift) * scale + offset, floor));
  }
}

/** Eval forward: y = (x - rm) * gamma / sqrt(rv + eps) + beta. */
export function batchNormForwardEval(x: usize, gamma: usize, beta: usize, y: usize,
  runningMean: usize, runningVar: usize, n: i32, c: i32, hw: i32, eps: f32): void {
  batchNormForwardEvalChannels(x, gamma, beta, y, runningMean, runningVar, n, c, hw, eps, 0, c);
}

/** batchNormForwardEval on channels c0 .. c1-1 only. */
export function batchNormForwardEvalChannels(x: usize, gamma: usize, beta: usize, y: usize,
  runningMean: usize, runningVar: usize, n: i32, c: i32, hw: i32, eps: f32, c0: i32, c1: i32): void {
  const sampleStride = <usize>c * <usize>hw << 2;
  for (let ch = c0; ch < c1; ch++) {
    const invStd = 1.0 / Math.sqrt(<f64>load<f32>(at(runningVar, ch)) + <f64>eps);
    const scale = <f32>(<f64>load<f32>(at(gamma, ch)) * invStd);
    const mean = load<f32>(at(runningMean, ch));
    const b = load<f32>(at(beta, ch));
    const xBase = at(x, ch * hw);
    const yBase = at(y, ch * hw);
    for (let i = 0; i < n; i++) {
      normalisePlane(xBase + <usize>i * sampleStride, yBase + <usize>i * sampleStride, hw, mean, scale, b);
    }
  }
}

/**
 * Backward. With xhat = (x - mean) invStd and N = n * hw:
 *   dbeta = sum dy, dgamma = sum dy xhat;
 *   training:  dx = gamma invStd (dy - dbeta / N - xhat dgamma / N)
 *              (the batch statistics depend on x);
 *   otherwise: dx = gamma invStd dy (running statistics are constants).
 * dx may be dy (each channel is fully read before it is written).
 */
export function batchNormBackward(x: usize, dy: usize, gamma: usize, mean: usize, invStd: usize,
  dx: usize, dgamma: usize, dbeta: usize, n: i32, c: i32, hw: i32, training: i32): void {
  batchNormBackwardChannels(x, dy, gamma, mean, invStd, dx, dgamma, dbeta, n, c, hw, training, 0, c);
}

/** batchNormBackward on channels c0 .. c1-1 only. */
export function batchNormBackwardChannels(x: usize, dy: usize, gamma: usize, mean: usize, invStd: usize,
  dx: usize, dgamma: usize, dbeta: usize, n: i32, c: i32, hw: i32, training: i32, c0: i32, c1: i32): void {
  const count = <f64>n * <f64>hw;
  const sampleStride = <usize>c * <usize>hw << 2;
  for (let ch = c0; ch < c1; ch++) {
    const off = <usize>(ch * hw) << 2;
    const mu = load<f32>(at(mean, ch));
    const is = <f64>load<f32>(at(invStd, ch));
    let sdy: f64 = 0;
    let sdyx: f64 = 0;
    for (let i = 0; i < n; i++) {
      const p = off + <usize>i * sampleStride;
      sdyx += sumDyCentred(x + p, dy + p, hw, mu);
      sdy += dySum;
    }
    store<f32>(at(dbeta, ch), <f32>sdy);
    store<f32>(at(dgamma, ch), <f32>(sdyx * is));
    const a = <f64>load<f32>(at(gamma, ch)) * is;
    if (training) {
      // dx = a dy - b (x - mean) - k
      const b = <f32>(a * is * is * sdyx / count);
      const k = <f32>(a * sdy / count);
      for (let i = 0; i < n; i++) {
        const p = off + <usize>i * sampleStride;
        backwardPlane(x + p, dy + p, dx + p, hw, <f32>a, b, k, mu);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const p = off + <usize>i * sampleStride;
        scalePlane(dy + p, dx + p, hw, <f32>a);
      }
    }
  }
}

/**
 * The training backward of batchNormActForwardTrainChannels from its output
 * y: g = dy where y > 0 (relu != 0; else g = dy), written to dres (the
 * residual's gradient) when dres != 0, otherwise into dx; then the batch-norm
 * backward of g. The mask is applied inside the first pass of the batch-norm
 * backward, so the ReLU backward costs no pass of its own. Bit-identical to
 * the ReLU backward followed by batchNormBackward. Channels c0 .. c1-1.
 */
export function batchNormActBackwardChannels(x: usize, y: usize, dy: usize, gamma: usize, mean: usize, invStd: usize,
  dx: usize, dgamma: usize, dbeta: usize, dres: usize, n: i32, c: i32, hw: i32, relu: i32, c0: i32, c1: i32): void {
  const count = <f64>n * <f64>hw;
  const sampleStride = <usize>c * <usize>hw << 2;
  const g = dres != 0 ? dres : dx;
  for (let ch = c0; ch < c1; ch++) {
    const off = <usize>(ch * hw) << 2;
    const mu = load<f32>(at(mean, ch));
    const is = <f64>load<f32>(at(invStd, ch));
    let sdy: f64 = 0;
    let sdyx: f64 = 0;
    for (let i = 0; i < n; i++) {
      const p = off + <usize>i * sampleStride;
      sdyx += sumMaskedDyCentred(x + p, y + p, dy + p, g + p, hw, mu, relu != 0);
      sdy += dySum;
    }
    store<f32>(at(dbeta, ch), <f32>sdy);
    store<f32>(at(dgamma, ch), <f32>(sdyx * is));
    const a = <f64>load<f32>(at(gamma, ch)) * is;
    const b = <f32>(a * is * is * sdyx / count);
    const k = <f32>(a * sdy / count);
    for (let i = 0; i < n; i++) {
      const p = off + <usize>i * sampleStride;
      backwardPlane(x + p, g + p, dx + p, hw, <f32>a, b, k, mu);
    }
  }
}

/**
 * sumDyCentred of g = (y > 0 ? dy : 0) (or g = dy without relu), storing g
 * as it goes. The mask keeps +0 / -0 exactly as the ReLU backward does.
 */
function sumMaskedDyCentred(x: usize, y: usize, dy: usize, g: usize, n: i32, mean: f32, relu: bool): f64 {
  return relu ? sumGradCentred(x, y, dy, g, n, mean, true, true) : sumGradCentred(x, y, dy, g, n, mean, false, true);
}

/**
 * Both sums of the batch-norm backward over one plane: returns sum g (x - mean)
 * and leaves sum g in dySum, where g = dy, masked by y > 0 where relu, and
 * stored to g where keep. Inlined with constant flags, so each caller gets
 * its own loop with no branch inside.
 */
@inline function sumGradCentred(x: usize, y: usize, dy: usize, g: usize, n: i32, mean: f32, relu: bool, keep: bool): f64 {
  const vm = f32x4.splat(mean);
  const zero = f32x4.splat(0);
  let total: f64 = 0;
  let totalDy: f64 = 0;
  const n4 = n & ~3;
  let i = 0;
  while (i < n4) {
    const stop = min(n4, i + BLOCK);
    let acc = f32x4.splat(0);
    let accDy = f32x4.splat(0);
    for (; i < stop; i += 4) {
      let gv = v128.load(at(dy, i));
      if (relu) gv = v128.and(gv, f32x4.gt(v128.load(at(y, i)), zero));
      if (keep) v128.store(at(g, i), gv);
      acc = f32x4.add(acc, f32x4.mul(gv, f32x4.sub(v128.load(at(x, i)), vm)));
      accDy = f32x4.add(accDy, gv);
    }
    total += lanesToF64(acc);
    totalDy += lanesToF64(accDy);
  }
  for (; i < n; i++) {
    const gs: f32 = !relu || load<f32>(at(y, i)) > 0 ? load<f32>(at(dy, i)) : 0;
    if (keep) store<f32>(at(g, i), gs);
    total += <f64>gs * (<f64>load<f32>(at(x, i)) - <f64>mean);
    totalDy += <f64>gs;
  }
  dySum = totalDy;
  return total;
}

function backwardPlane(x: usize, dy: usize, dx: usize, n: i32, a: f32, b: f32, k: f32, mean: f32): void {
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  const vk = f32x4.splat(k);
  const vm = f32x4.splat(mean);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const t = f32x4.sub(f32x4.mul(va, v128.load(at(dy, i))), f32x4.mul(vb, f32x4.sub(v128.load(at(x, i)), vm)));
    v128.store(at(dx, i), f32x4.sub(t, vk));
  }
  for (; i < n; i++) {
    store<f32>(at(dx, i), a * load<f32>(at(dy, i)) - b * (load<f32>(at(x, i)) - mean) - k);
  }
}

function scalePlane(x: usize, y: usize, n: i32, a: f32): void {
  const va = f32x4.splat(a);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store(at(y, i), f32x4.mul(va, v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), a * load<f32>(at(x, i)));
}
