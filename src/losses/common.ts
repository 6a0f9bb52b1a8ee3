// Helpers shared by the composed losses: class-count validation, constant
// per-label masks, and a log-softmax built from differentiable ops.
import { Tensor, tensor } from '../tensor.js';
import { add, exp, log, matmul, neg, relu, scale, sub, sumTo } from '../ops/index.js';
import { backend } from '../backend/current.js';
import { noGrad } from '../autograd/node.js';
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
 * The row maximum m enters as a constant tensor: the result does not depend
 * on m (any shift cancels), so no gradient is needed through it, and the
 * shift keeps exp() from overflowing. Backends that read synchronously (WASM,
 * reference) compute it on the CPU; on a device (WebGPU) it is computed there
 * by rowMax, so that the loss needs no read-back.
 */
export function logSoftmax(logits: Tensor): Tensor {
  const [n, c] = logits.shape;
  let m: Tensor;
  if (backend().readsAsync) {
    m = rowMax(logits);
  } else {
    const values = logits.toFloat32Array();
    const rowMaxValues = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let best = -Infinity;
      for (let j = 0; j < c; j++) best = Math.max(best, values[i * c + j]);
      rowMaxValues[i] = best;
    }
    m = tensor(rowMaxValues, [n, 1]);
  }
  const shifted = sub(logits, m);
  return sub(shifted, log(sumTo(exp(shifted), [n, 1])));
}

/**
 * The maximum of each row of z [N, C] as a constant [N, 1], from existing
 * primitives only: halve the columns with two selection matrices (even and
 * odd columns; an odd last column is paired with itself) and keep
 * max(a, b) = (a + b + |a - b|) / 2, until one column is left.
 */
function rowMax(z: Tensor): Tensor {
  return noGrad(() => {
    let v = z;
    while (v.shape[1] > 1) {
      const k = v.shape[1];
      const h = Math.ceil(k / 2);
      const even = new Float32Array(k * h);
      const odd = new Float32Array(k * h);
      for (let j = 0; j < h; j++) {
        even[2 * j * h + j] = 1;
        odd[Math.min(2 * j + 1, k - 1) * h + j] = 1;
      }
      const a = matmul(v, tensor(even, [k, h]));
      const b = matmul(v, tensor(odd, [k, h]));
      const d = sub(a, b);
      v = scale(add(add(a, b), add(relu(d), relu(neg(d)))), 0.5);
    }
    return v;
  });
}
