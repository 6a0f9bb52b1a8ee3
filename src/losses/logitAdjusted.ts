// Balanced softmax (Ren et al., NeurIPS 2020) / logit-adjusted loss (Menon et al., ICLR 2021).
import type { Tensor } from '../tensor.js';
import { tensor } from '../tensor.js';
import { add, crossEntropy } from '../ops/index.js';
import { checkBatch, checkCounts } from './common.js';

/** tau * log(pi_j), pi_j = n_j / sum_k n_k: the offsets added to the logits in training. */
export function logitAdjustments(classCounts: ArrayLike<number>, tau = 1): Float64Array {
  const counts = checkCounts(classCounts, 'logitAdjustments');
  const total = counts.reduce((a, b) => a + b, 0);
  return Float64Array.from(counts, (n) => tau * Math.log(n / total));
}

export interface LogitAdjustedConfig {
  classCounts: ArrayLike<number>;
  /** Default 1: balanced softmax (whose log n_j differs from log pi_j by a constant the softmax ignores). */
  tau?: number;
  /** Per-class weights (length C), torch's `weight=` (a weighted mean), e.g. from drwSchedule. */
  weights?: ArrayLike<number> | null;
}

/**
 * cross_entropy(z + tau * log prior, y), mean over the batch. Only the
 * training loss is adjusted: at evaluation the plain logits z are used, which
 * then estimate the class-balanced posterior.
 */
export function logitAdjusted(logits: Tensor, labels: Int32Array | ArrayLike<number>, config: LogitAdjustedConfig): Tensor {
  const { c, y } = checkBatch(logits, labels, 'logitAdjusted');
  checkCounts(config.classCounts, 'logitAdjusted', c);
  const offsets = tensor(Float32Array.from(logitAdjustments(config.classCounts, config.tau ?? 1)), [1, c]);
  if (config.weights && config.weights.length !== c)
    throw new Error(`wasmtail: logitAdjusted(): ${config.weights.length} class weights for ${c} classes`);
  return crossEntropy(add(logits, offsets), y, { weights: config.weights ? Float32Array.from(config.weights) : null });
}
