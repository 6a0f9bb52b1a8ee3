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
