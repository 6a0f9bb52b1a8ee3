// Reference fused losses over logits [n, c], in JS numbers (f64). Labels are
// assumed to lie in [0, c) (the TS layer validates them).
import type { FArray } from './types.js';

/**
 * Softmax of the row v (length c) into p; returns log sum_j exp(v_j),
 * computed stably as max + log sum exp(v - max).
 */
function softmaxRow(v: Float64Array, p: Float64Array): number {
  let m = -Infinity;
  for (const x of v) if (x > m) m = x;
  let s = 0;
  for (let j = 0; j < v.length; j++) {
    p[j] = Math.exp(v[j] - m);
    s += p[j];
  }
  for (let j = 0; j < v.length; j++) p[j] /= s;
  return m + Math.log(s);
}

/**
 * Softmax cross-entropy, PyTorch's weighted mean: w_i = weights[y_i] (1 when
 * weights is null), loss[0] = sum_i w_i (-log p_{i,y_i}) / sum_i w_i,
 * dlogits_ij = w_i (p_ij - [j == y_i]) / sum_i w_i.
 */
export function softmaxCrossEntropyRef(
  logits: FArray,
  labels: Int32Array,
  weights: FArray | null,
  n: number,
  c: number,
  loss: FArray,
  dlogits: FArray,
): void {
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += weights ? weights[labels[i]] : 1;
  const v = new Float64Array(c);
  const p = new Float64Array(c);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const w = weights ? weights[y] : 1;
    for (let j = 0; j < c; j++) v[j] = logits[i * c + j];
    total += w * (softmaxRow(v, p) - v[y]);
    for (let j = 0; j < c; j++) dlogits[i * c + j] = (w * (p[j] - (j === y ? 1 : 0))) / wsum;
  }
  loss[0] = total / wsum;
}

/**
 * Feature-balanced loss (Li et al., ICME 2022): v_ij = z_ij - s_j / (||f_i|| + 1e-12),
 * loss[0] = mean_i cross-entropy(v_i, y_i), dlogits = (softmax(v) - onehot) / n,
 * dfeatures_i = (sum_j dlogits_ij s_j) f_i / ((||f_i|| + 1e-12)^2 ||f_i||) (0 when f_i = 0).
 */
export function featureBalancedLossRef(
  logits: FArray,
  features: FArray,
  labels: Int32Array,
  stimulus: FArray,
  n: number,
  c: number,
  d: number,
  loss: FArray,
  dlogits: FArray,
  dfeatures: FArray,
): void {
  const v = new Float64Array(c);
  const p = new Float64Array(c);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let r2 = 0;
    for (let k = 0; k < d; k++) r2 += features[i * d + k] ** 2;
    const r = Math.sqrt(r2);
    const scale = 1 / (r + 1e-12);
    const y = labels[i];
    for (let j = 0; j < c; j++) v[j] = logits[i * c + j] - stimulus[j] * scale;
    total += softmaxRow(v, p) - v[y];
    let g = 0;
    for (let j = 0; j < c; j++) {
      const dl = (p[j] - (j === y ? 1 : 0)) / n;
      dlogits[i * c + j] = dl;
      g += dl * stimulus[j];
    }
    const k = r > 0 ? (g * scale * scale) / r : 0;
    for (let q = 0; q < d; q++) dfeatures[i * d + q] = k * features[i * d + q];
  }
  loss[0] = total / n;
}
