// Reductions to a scalar, and shape changes (views over the same storage).
import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { Tensor, empty, sizeOf, viewAs } from '../tensor.js';
import { scale } from './elementwise.js';
import { assertTensor, shapeStr } from './util.js';

function fillLike(g: Tensor, shape: readonly number[]): Tensor {
  const dx = empty(shape);
  backend().broadcastTo(g.storage, shape.map(() => 1), dx.storage, shape);
  return dx;
}

/** Sum of all elements, shape []. */
export function sum(x: Tensor): Tensor {
  assertTensor(x, 'sum', 'x');
  const y = empty([]);
  backend().sum(x.storage, y.storage, x.size);
  return record(y, 'sum', [x], (g) => [fillLike(g, x.shape)]);
}

/** Mean of all elements, shape []. */
export function mean(x: Tensor): Tensor {
  assertTensor(x, 'mean', 'x');
  if (x.size === 0) throw new Error('wasmtail: mean(): empty tensor');
  return scale(sum(x), 1 / x.size);
}

/** Same values, another shape (one dim may be -1); shares storage. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor(x, 'reshape', 'x');
  const free = shape.filter((d) => d === -1).length;
  if (free > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new Error(`wasmtail: reshape(): invalid shape ${shapeStr(shape)}`);
  }
  const known = sizeOf(shape.filter((d) => d !== -1));
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d))) {
    throw new Error(`wasmtail: reshape(): cannot reshape ${shapeStr(x.shape)} (${x.size} elements) to ${shapeStr(shape)}`);
  }
  const y = viewAs(x, resolved);
  return record(y, 'reshape', [x], (g) => [viewAs(g, x.shape)]);
}

/** [N, ...] -> [N, rest]. */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [x.shape[0], -1]);
}

/**
 * Sums x down to a broadcast-compatible shape (same rank, dims 1 or equal),
 * e.g. [N, C] -> [N, 1] for row sums. Gradient: broadcast back.
 */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor(x, 'sumTo', 'x');
  if (shape.length !== x.ndim || shape.some((d, i) => d !== 1 && d !== x.shape[i])) {
    throw new Error(`wasmtail: sumTo(): cannot sum ${shapeStr(x.shape)} to ${shapeStr(shape)} (same rank, each dim 1 or equal)`);
  }
  const y = empty(shape);
  backend().sumTo(x.storage, x.shape, y.storage, shape);
  return record(y, 'sumTo', [x], (g) => [broadcastTo(g, x.shape)]);
}

/** Expands size-1 dims of x to shape (same rank). Gradient: sumTo back. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor(x, 'broadcastTo', 'x');
  if (shape.length !== x.ndim || x.shape.some((d, i) => d !== 1 && d !== shape[i])) {
    throw new Error(`wasmtail: broadcastTo(): cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)} (same rank, each dim 1 or equal)`);
  }
  const y = empty(shape);
  backend().broadcastTo(x.storage, x.shape, y.storage, shape);
  return record(y, 'broadcastTo', [x], (g) => [sumTo(g, x.shape)]);
}
