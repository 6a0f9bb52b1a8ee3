// LDAM loss with deferred re-weighting (Cao et al., NeurIPS 2019), as the
// LDAM-DRW reference code computes it. The reference pairs it with a cosine
// classifier (nn.NormedLinear), whose logits lie in [-1, 1] before the scale s.
import type { Tensor } from '../tensor.js';
import { crossEntropy, scale, sub } from '../ops/index.js';
import { classBalancedWeights } from './classBalanced.js';
import { checkBatch, checkCounts, labelMask } from './common.js';

/** m_j proportional to n_j^(-1/4), scaled so that the largest (the rarest class's) is maxM (default 0.5). */
export function ldamMargins(classCounts: ArrayLike<number>, maxM = 0.5): Float64Array {
  const counts = checkCounts(classCounts, 'ldamMargins');
  if (!(maxM >= 0) || !Number.isFinite(maxM)) throw new Error(`wasmtail: ldamMargins(): maxM must be a non-negative number, got ${maxM}`);
  const raw = Float64Array.from(counts, (n) => 1 / Math.sqrt(Math.sqrt(n)));
  const top = Math.max(...raw);
  return raw.map((m) => m * (maxM / top));
}

/**
 * Deferred re-weighting: per-class weights for epoch `epoch` (0-based). Before
 * `drwEpoch` all ones (the reference's beta = 0: plain cross-entropy); from it
 * on, classBalancedWeights(classCounts, beta). The reference switches at epoch
 * 160 of 200 (`epoch // 160`); for other lengths use 0.8 * epochs.
 */
export function drwWeights(classCounts: ArrayLike<number>, epoch: number, drwEpoch: number, beta = 0.9999): Float64Array {
  return classBalancedWeights(classCounts, epoch >= drwEpoch ? beta : 0);
}

/** LDAM's logit scale s (Cao et al.'s code: 30), the default of LdamConfig.s. */
export const LDAM_SCALE = 30;

export interface LdamConfig {
  classCounts: ArrayLike<number>;
  /** Largest margin (default 0.5). */
  maxM?: number;
  /** Logit scale (default LDAM_SCALE, 30). */
  s?: number;
  /** Per-class weights (torch's `weight=`: a weighted mean), e.g. drwWeights(...). */
  weights?: ArrayLike<number> | null;
}

/**
 * LDAM: cross_entropy(s * (z - m_{y} onehot_y), y, weight=weights), mean over
 * the batch: the true class's logit is lowered by its margin before scaling.
 */
export function ldam(logits: Tensor, labels: Int32Array | ArrayLike<number>, config: LdamConfig): Tensor {
  const { c, y } = checkBatch(logits, labels, 'ldam');
  checkCounts(config.classCounts, 'ldam', c);
  const s = config.s ?? LDAM_SCALE;
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`wasmtail: ldam(): s must be positive, got ${s}`);
  const margins = labelMask(y, c, ldamMargins(config.classCounts, config.maxM ?? 0.5));
  const weights = config.weights ? Float32Array.from(config.weights) : null;
  return crossEntropy(scale(sub(logits, margins), s), y, { weights });
}
