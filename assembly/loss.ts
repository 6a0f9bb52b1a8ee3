// Fused losses over logits [n, c] (row-major), computed in f64 per row: the
// work is n * c exponentials, negligible beside the network, so precision wins.
// Labels (i32) are assumed to lie in [0, c): the TS layer validates them
// before calling. Log-softmax is the stable form v - max - log sum exp(v - max).
// dlogits may be the logits array itself (each row is read before it is written).

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

@inline function adjusted(z: usize, s: usize, scale: f64, j: i32): f64 {
  return <f64>load<f32>(at(z, j)) - (s ? <f64>load<f32>(at(s, j)) * scale : 0);
}

/**
 * log sum_j exp(v_j) of one row of adjusted logits v_j = z_j - s_j * scale
 * (s = 0: no adjustment). Callers then form p_j = exp(v_j - lse) in f64, so
 * p - 1 for the label keeps full precision even when p is within 1e-7 of 1.
 */
function logSumExp(z: usize, s: usize, scale: f64, c: i32): f64 {
  let m = -Infinity;
  for (let j = 0; j < c; j++) m = max(m, adjusted(z, s, scale, j));
  let total: f64 = 0;
  for (let j = 0; j < c; j++) total += Math.exp(adjusted(z, s, scale, j) - m);
  return m + Math.log(total);
}

/**
 * Softmax cross-entropy, PyTorch's weighted mean: with w_i = weights[y_i]
 * (1 when weights is 0), loss[0] = sum_i w_i (-log p_{i,y_i}) / sum_i w_i and
 * dlogits_ij = w_i (p_ij - [j == y_i]) / sum_i w_i. All-zero weights give NaN,
 * as in PyTorch.
 */
export function softmaxCrossEntropy(logits: usize, labels: usize, weights: usize,
  n: i32, c: i32, loss: usize, dlogits: usize): void {
  let wsum: f64 = 0;
  for (let i = 0; i < n; i++) wsum += weights ? <f64>load<f32>(at(weights, load<i32>(at(labels, i)))) : 1;
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const z = at(logits, i * c);
    const dz = at(dlogits, i * c);
    const y = load<i32>(at(labels, i));
    const w: f64 = weights ? <f64>load<f32>(at(weights, y)) : 1;
    const zy = <f64>load<f32>(at(z, y));
    const lse = logSumExp(z, 0, 0, c);
    total += w * (lse - zy);
    const coef = w / wsum;
    for (let j = 0; j < c; j++) {
      const p = Math.exp(<f64>load<f32>(at(z, j)) - lse);
      store<f32>(at(dz, j), <f32>(coef * (p - (j == y ? 1.0 : 0.0))));
    }
  }
  store<f32>(loss, <f32>(total / wsum));
}

/**
 * Feature-balanced loss (Li et al., ICME 2022; /work/shared/RECIPE.md) for
 * logits z [n, c], features f [n, d], per-class stimulus s [c]:
 *   v_ij = z_ij - s_j / (||f_i|| + 1e-12),   loss[0] = mean_i (-log softmax(v_i)[y_i]),
 *   dlogits_ij = (softmax(v_i)_j - [j == y_i]) / n,
 *   dfeatures_i = (sum_j dlogits_ij s_j) f_i / ((||f_i|| + 1e-12)^2 ||f_i||),
 * the last from d(1 / (r + 1e-12)) / df = -f / ((r + 1e-12)^2 r); a zero
 * feature row gets a zero gradient.
 */
export function featureBalancedLoss(logits: usize, features: usize, labels: usize, stimulus: usize,
  n: i32, c: i32, d: i32, loss: usize, dlogits: usize, dfeatures: usize): void {
  const invN = 1.0 / <f64>n;
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const f = at(features, i * d);
    const df = at(dfeatures, i * d);
    let r2: f64 = 0;
    for (let k = 0; k < d; k++) {
      const v = <f64>load<f32>(at(f, k));
      r2 += v * v;
    }
    const r = Math.sqrt(r2);
    const scale = 1.0 / (r + 1e-12);
    const z = at(logits, i * c);
    const dz = at(dlogits, i * c);
    const y = load<i32>(at(labels, i));
    const vy = adjusted(z, stimulus, scale, y);
    const lse = logSumExp(z, stimulus, scale, c);
    total += lse - vy;
    let g: f64 = 0;
    for (let j = 0; j < c; j++) {
      const dl = (Math.exp(adjusted(z, stimulus, scale, j) - lse) - (j == y ? 1.0 : 0.0)) * invN;
      g += dl * <f64>load<f32>(at(stimulus, j));
      store<f32>(at(dz, j), <f32>dl);
    }
    const k = r > 0 ? g * scale * scale / r : 0;
    for (let q = 0; q < d; q++) store<f32>(at(df, q), <f32>(k * <f64>load<f32>(at(f, q))));
  }
  store<f32>(loss, <f32>(total * invN));
}
