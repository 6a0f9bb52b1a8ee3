// Fused losses over logits [n, c] (reference: ../../reference/kernels/loss.ts).
// One workgroup: each invocation takes rows i = lid, lid + 256, ...; the
// batch totals (sum of weights, sum of losses) are workgroup reductions.
import { WG, WORKGROUP_SUM, type WgslKernel, kernel, u32 } from './common.js';

// Row i's max and sum of exp(v - max) for v_j = logit(i, j): log-sum-exp = m + log(s).
const ROW_LSE = `var m = -3.402823e38;
    for (var j = 0u; j < p.c; j++) { m = max(m, logit(i, j)); }
    var s = 0.0;
    for (var j = 0u; j < p.c; j++) { s += exp(logit(i, j) - m); }`;

export const LOSS_KERNELS: Record<string, WgslKernel> = {
  softmaxCrossEntropy: kernel(
    u32('n', 'c', 'hasWeights'),
    ['logits', 'labels', 'weights', 'loss', 'dlogits'],
    `${WORKGROUP_SUM}
fn weight(y: u32) -> f32 { if (p.hasWeights != 0u) { return weights[y]; } return 1.0; }
fn logit(i: u32, j: u32) -> f32 { return logits[i * p.c + j]; }
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var ws = 0.0;
  for (var i = lid; i < p.n; i += ${WG}u) { ws += weight(u32(labels[i])); }
  let wsum = workgroupSum(ws, lid);
  var total = 0.0;
  for (var i = lid; i < p.n; i += ${WG}u) {
    let y = u32(labels[i]);
    let w = weight(y);
    ${ROW_LSE}
    total += w * (m + log(s) - logit(i, y));
    for (var j = 0u; j < p.c; j++) {
      dlogits[i * p.c + j] = w * (exp(logit(i, j) - m) / s - select(0.0, 1.0, j == y)) / wsum;
    }
  }
  let t = workgroupSum(total, lid);
  if (lid == 0u) { loss[0] = t / wsum; }
}`,
    { labels: 'i32' },
  ),
  // v_ij = z_ij - s_j / (||f_i|| + 1e-12); cross-entropy (mean) on v.
  featureBalancedLoss: kernel(
    u32('n', 'c', 'd'),
    ['logits', 'features', 'labels', 'stimulus', 'loss', 'dlogits', 'dfeatures'],
    `${WORKGROUP_SUM}
var<private> scale: f32;
fn logit(i: u32, j: u32) -> f32 { return logits[i * p.c + j] - stimulus[j] * scale; }
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var total = 0.0;
  for (var i = lid; i < p.n; i += ${WG}u) {
    var r2 = 0.0;
    for (var k = 0u; k < p.d; k++) { let f = features[i * p.d + k]; r2 += f * f; }
    let r = sqrt(r2);
    scale = 1.0 / (r + 1e-12);
    let y = u32(labels[i]);
    ${ROW_LSE}
    total += m + log(s) - logit(i, y);
    var g = 0.0;
    for (var j = 0u; j < p.c; j++) {
      let dl = (exp(logit(i, j) - m) / s - select(0.0, 1.0, j == y)) / f32(p.n);
      dlogits[i * p.c + j] = dl;
      g += dl * stimulus[j];
    }
    var k = 0.0;
    if (r > 0.0) { k = g * scale * scale / r; }
    for (var q = 0u; q < p.d; q++) { dfeatures[i * p.d + q] = k * features[i * p.d + q]; }
  }
  let t = workgroupSum(total, lid);
  if (lid == 0u) { loss[0] = t / f32(p.n); }
}`,
    { labels: 'i32' },
  ),
};
