// Reference batch normalisation (PyTorch semantics), NCHW with statistics per
// channel over N = n * hw values; element k of channel ch in sample i is
// x[(i * c + ch) * hw + k]. Two-pass statistics in JS numbers (f64).
import type { FArray } from './types.js';

function forEachInChannel(n: number, c: number, hw: number, ch: number, visit: (index: number) => void): void {
  for (let i = 0; i < n; i++) {
    const base = (i * c + ch) * hw;
    for (let k = 0; k < hw; k++) visit(base + k);
  }
}

/**
 * Training forward: y = (x - mean) * invStd * gamma + beta with the batch
 * statistics; saveMean / saveInvStd = mean, 1 / sqrt(biased var + eps);
 * running stats updated in place with the unbiased variance (N / (N - 1);
 * the biased one when N = 1).
 */
export function batchNormForwardTrainRef(
  x: FArray,
  gamma: FArray,
  beta: FArray,
  y: FArray,
  runningMean: FArray,
  runningVar: FArray,
  saveMean: FArray,
  saveInvStd: FArray,
  n: number,
  c: number,
  hw: number,
  momentum: number,
  eps: number,
): void {
  const count = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    forEachInChannel(n, c, hw, ch, (j) => {
      s += x[j];
    });
    const mean = s / count;
    let ss = 0;
    forEachInChannel(n, c, hw, ch, (j) => {
      ss += (x[j] - mean) ** 2;
    });
    const variance = ss / count;
    const invStd = 1 / Math.sqrt(variance + eps);
    const unbiased = count > 1 ? (variance * count) / (count - 1) : variance;
    saveMean[ch] = mean;
    saveInvStd[ch] = invStd;
    runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean;
    runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * unbiased;
    const g = gamma[ch];
    const b = beta[ch];
    forEachInChannel(n, c, hw, ch, (j) => {
      y[j] = (x[j] - mean) * invStd * g + b;
    });
  }
}

/** Eval forward: y = (x - rm) / sqrt(rv + eps) * gamma + beta. */
export function batchNormForwardEvalRef(
  x: FArray,
  gamma: FArray,
  beta: FArray,
  y: FArray,
  runningMean: FArray,
  runningVar: FArray,
  n: number,
  c: number,
  hw: number,
  eps: number,
): void {
  for (let ch = 0; ch < c; ch++) {
    const mean = runningMean[ch];
    const invStd = 1 / Math.sqrt(runningVar[ch] + eps);
    const g = gamma[ch];
    const b = beta[ch];
    forEachInChannel(n, c, hw, ch, (j) => {
      y[j] = (x[j] - mean) * invStd * g + b;
    });
  }
}

/**
 * Backward, xhat = (x - mean) * invStd: dbeta = sum dy, dgamma = sum dy * xhat;
 * training: dx = gamma * invStd * (dy - dbeta / N - xhat * dgamma / N);
 * eval (mean, invStd are constants): dx = gamma * invStd * dy.
 */
export function batchNormBackwardRef(
  x: FArray,
  dy: FArray,
  gamma: FArray,
  mean: FArray,
  invStd: FArray,
  dx: FArray,
  dgamma: FArray,
  dbeta: FArray,
  n: number,
  c: number,
  hw: number,
  training: boolean,
): void {
  const count = n * hw;
  for (let ch = 0; ch < c; ch++) {
    const mu = mean[ch];
    const is = invStd[ch];
    let sdy = 0;
    let sdyXhat = 0;
    forEachInChannel(n, c, hw, ch, (j) => {
      sdy += dy[j];
      sdyXhat += dy[j] * (x[j] - mu) * is;
    });
    dbeta[ch] = sdy;
    dgamma[ch] = sdyXhat;
    const a = gamma[ch] * is;
    forEachInChannel(n, c, hw, ch, (j) => {
      dx[j] = training ? a * (dy[j] - sdy / count - ((x[j] - mu) * is * sdyXhat) / count) : a * dy[j];
    });
  }
}

/** The fused training forward: y = act(batchNorm(x) + residual), act = ReLU where relu (NaN stays NaN). */
export function batchNormActForwardTrainRef(
  x: FArray,
  gamma: FArray,
  beta: FArray,
  y: FArray,
  runningMean: FArray,
  runningVar: FArray,
  saveMean: FArray,
  saveInvStd: FArray,
  n: number,
  c: number,
  hw: number,
  momentum: number,
  eps: number,
  residual: FArray | null,
  relu: boolean,
): void {
  batchNormForwardTrainRef(x, gamma, beta, y, runningMean, runningVar, saveMean, saveInvStd, n, c, hw, momentum, eps);
  for (let i = 0; i < n * c * hw; i++) {
    const v = y[i] + (residual ? residual[i] : 0);
    y[i] = relu ? Math.max(v, 0) : v;
  }
}

/** Its backward from the output y: g = (y > 0 ? dy : 0) where relu, else dy; dres = g; then the training batch-norm backward of g. */
export function batchNormActBackwardRef(
  x: FArray,
  y: FArray,
  dy: FArray,
  gamma: FArray,
  mean: FArray,
  invStd: FArray,
  dx: FArray,
  dgamma: FArray,
  dbeta: FArray,
  dres: FArray | null,
  n: number,
  c: number,
  hw: number,
  relu: boolean,
): void {
  const g = dy.slice(0, n * c * hw);
  if (relu) for (let i = 0; i < g.length; i++) if (!(y[i] > 0)) g[i] = 0;
  if (dres) dres.set(g);
  batchNormBackwardRef(x, g, gamma, mean, invStd, dx, dgamma, dbeta, n, c, hw, true);
}
