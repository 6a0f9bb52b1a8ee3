// Helpers shared by the composed losses: class-count validation, constant
// per-label masks, and a log-softmax built from differentiable ops.
import { type Tensor, tensor } from '../tensor.js';
import { amax, exp, log, sub, sumTo } from '../ops/index.js';
import { assertRank, assertTensor, toLabels } from '../ops/util.js';

/** Validates logits [N, C] and labels; returns [N, C] and the labels as Int32Array. */
export function checkBatch(logits: Tensor, labels: Int32Array | ArrayLike<number>, op: string): { n: number; c: number; y: Int32Array } {
  assertTensor(logits, op, 'logits');
  assertRank(logits, 2, op, 'logits', '[batch, classes]');
  const [n, c] = logits.shape;
  return { n, c, y: toLabels(labels, n, c, op) };
}

/** Training images per class as numbers, each positive, one per class when c is given. */
export function checkCounts(classCounts: ArrayLike<number>, op: string, c?: number): number[] {
  const counts = Array.from(classCounts);
  if (counts.length === 0 || counts.some((v) => !(v > 0) || !Number.isFinite(v))) {
    throw new Error(`wasmtail: ${op}(): class counts must be positive, got [${counts.join(', ')}]`);
  }
  if (c !== undefined && counts.length !== c) throw new Error(`wasmtail: ${op}(): ${counts.length} class counts for ${c} classes`);
  return counts;
}

/**
 * A constant [N, C] tensor holding values[y_i] at (i, y_i) and 0 elsewhere
 * (a one-hot mask when values is omitted). Constant: no gradient flows into it.
 */
export function labelMask(y: Int32Array, c: number, values?: ArrayLike<number>): Tensor {
  const mask = new Float32Array(y.length * c);
  for (let i = 0; i < y.length; i++) mask[i * c + y[i]] = values ? values[y[i]] : 1;
  return tensor(mask, [y.length, c]);
}

/**
 * log softmax over classes, [N, C], as z - m - log(sum_j exp(z_j - m)).
 * The row maximum m (amax) enters as a constant tensor: the result does not
 * depend on m (any shift cancels), so no gradient is needed through it, and
 * the shift keeps exp() from overflowing. It is computed where the logits
 * live, so that the loss needs no read-back on any backend.
 */
export function logSoftmax(logits: Tensor): Tensor {
  const n = logits.shape[0];
  const shifted = sub(logits, amax(logits, 1));
  return sub(shifted, log(sumTo(exp(shifted), [n, 1])));
}
