// Focal loss (Lin et al., ICCV 2017) as the LDAM-DRW reference code computes it.
import type { Tensor } from '../tensor.js';
import { full } from '../tensor.js';
import { add, exp, log, mean, mul, neg, scale, sub, sumTo } from '../ops/index.js';
import { checkBatch, labelMask, logSoftmax } from './common.js';

export interface FocalConfig {
  /** Focusing parameter gamma >= 0 (default 1, as in the LDAM-DRW comparisons; Lin et al. use 2). 0 gives cross-entropy. */
  gamma?: number;
  /** Per-class weights (length C), applied inside the per-sample cross-entropy as torch's `weight=`. */
  weights?: ArrayLike<number> | null;
}

/**
 * x^gamma for x in [0, 1] and gamma > 0: repeated products for the integer part (exact, and
 * differentiable at x = 0), exp(f * log(x + 1e-12)) for a fractional part f
 * (the 1e-12 keeps log finite when a sample is classified with p = 1).
 */
function power(x: Tensor, gamma: number): Tensor {
  const whole = Math.floor(gamma);
  const frac = gamma - whole;
  let out: Tensor | null = null;
  for (let k = 0; k < whole; k++) out = out ? mul(out, x) : x;
  if (frac > 0) {
    const part = exp(scale(log(add(x, full([1, 1], 1e-12))), frac));
    out = out ? mul(out, part) : part;
  }
  return out!;
}

/**
 * Focal loss, mean over the batch: with ce_i = -w_{y_i} log softmax(z_i)_{y_i}
 * (w = 1 without weights) and p_i = exp(-ce_i),
 * loss = mean_i (1 - p_i)^gamma * ce_i. This is LDAM-DRW's `focal_loss` on
 * `F.cross_entropy(reduction='none', weight=w)`: a plain mean over the batch,
 * so with weights and gamma = 0 it is sum_i w_{y_i} ce_i / N, not torch's
 * weighted mean. Composed from ops (see logSoftmax for its stabilising shift).
 */
export function focal(logits: Tensor, labels: Int32Array | ArrayLike<number>, config: FocalConfig = {}): Tensor {
  const gamma = config.gamma ?? 1;
  if (!(gamma >= 0) || !Number.isFinite(gamma)) throw new Error(`wasmtail: focal(): gamma must be a non-negative number, got ${gamma}`);
  const { n, c, y } = checkBatch(logits, labels, 'focal');
  if (config.weights && config.weights.length !== c)
    throw new Error(`wasmtail: focal(): ${config.weights.length} class weights for ${c} classes`);
  const picked = labelMask(y, c, config.weights ?? undefined);
  const ce = neg(sumTo(mul(logSoftmax(logits), picked), [n, 1]));
  if (gamma === 0) return mean(ce);
  const miss = sub(full([1, 1], 1), exp(neg(ce)));
  return mean(mul(power(miss, gamma), ce));
}
