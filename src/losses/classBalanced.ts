// Class-balanced re-weighting by the effective number of samples (Cui et al., CVPR 2019).
import type { Tensor } from '../tensor.js';
import { crossEntropy } from '../ops/index.js';
import { checkBatch, checkCounts } from './common.js';

/**
 * w_j = (1 - beta) / (1 - beta^{n_j}), normalised so that sum_j w_j = C
 * (the LDAM-DRW code's 'Reweight' rule). beta = 0 gives all ones; beta -> 1
 * approaches inverse class frequency. Default beta = 0.9999.
 */
export function classBalancedWeights(classCounts: ArrayLike<number>, beta = 0.9999): Float64Array {
  const counts = checkCounts(classCounts, 'classBalancedWeights');
  if (!(beta >= 0 && beta < 1)) throw new Error(`wasmtail: classBalancedWeights(): beta must be in [0, 1), got ${beta}`);
  const raw = Float64Array.from(counts, (n) => (1 - beta) / (1 - beta ** n));
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => (w / total) * counts.length);
}

export interface ClassBalancedConfig {
  classCounts: ArrayLike<number>;
  /** Default 0.9999. */
  beta?: number;
}

/**
 * Class-balanced cross-entropy: torch's `cross_entropy(z, y, weight=w)` with
 * w = classBalancedWeights(classCounts, beta), i.e. the weighted mean
 * sum_i w_{y_i} ce_i / sum_i w_{y_i}.
 */
export function classBalanced(logits: Tensor, labels: Int32Array | ArrayLike<number>, config: ClassBalancedConfig): Tensor {
  const { c, y } = checkBatch(logits, labels, 'classBalanced');
  checkCounts(config.classCounts, 'classBalanced', c);
  const weights = Float32Array.from(classBalancedWeights(config.classCounts, config.beta ?? 0.9999));
  return crossEntropy(logits, y, { weights });
}
