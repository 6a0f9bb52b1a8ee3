// Reductions to a scalar, and shape changes (views over the same storage).
import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { type Tensor, empty, sizeOf, viewAs } from '../tensor.js';
import { scale } from './elementwise.js';
import { assertTensor, shapeStr } from './util.js';

function fillLike(g: Tensor, shape: readonly number[]): Tensor {
  const dx = empty(shape);
  backend().broadcastTo(
    g.storage,
    shape.map(() => 1),
    dx.storage,
    shape,
  );
  return dx;
}

/** Sum of all elements, shape []. */
export function sum(x: Tensor): Tensor {
  assertTensor(x, 'sum', 'x');
  const y = empty([]);
  backend().reduceAxis('sum', x.storage, y.storage, 1, x.size, 1);
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
  const y = sumDims(x, shape);
  return record(y, 'sumTo', [x], (g) => [broadcastTo(g, x.shape)]);
}

/**
 * x summed to shape (same rank, dims 1 or equal; no gradient recorded): one
 * reduceAxis per run of adjacent summed dims, innermost first, so that the
 * common cases ([N, C] -> [N, 1], [N, C] -> [1, C]) are one pass.
 */
export function sumDims(x: Tensor, shape: readonly number[]): Tensor {
  // Runs of adjacent dims that are all kept or all summed (size-1 dims of x belong to neither).
  const runs: { size: number; summed: boolean }[] = [];
  x.shape.forEach((d, i) => {
    if (d === 1) return;
    const summed = shape[i] === 1;
    const last = runs[runs.length - 1];
    if (last && last.summed === summed) last.size *= d;
    else runs.push({ size: d, summed });
  });
  let cur = x;
  for (let j = runs.length - 1; j >= 0; j--) {
    if (!runs[j].summed) continue;
    const outer = sizeOf(runs.slice(0, j).map((r) => r.size));
    const inner = sizeOf(runs.slice(j + 1).map((r) => r.size));
    const axis = runs[j].size;
    runs[j].size = 1;
    const last = !runs.slice(0, j).some((r) => r.summed);
    const next = empty(last ? shape : [outer * inner]);
    backend().reduceAxis('sum', cur.storage, next.storage, outer, axis, inner);
    if (cur !== x) cur.dispose();
    cur = next;
  }
  if (cur !== x) return cur;
  // Nothing summed (only size-1 dims differ): same values.
  const y = empty(shape);
  backend().copy(x.storage, y.storage, y.size);
  return y;
}

/**
 * The maximum of x along one axis, keeping it as size 1 ([N, C], axis 1 ->
 * [N, 1]). A constant: no gradient flows through it (logSoftmax uses it as a
 * shift that cancels out); NaN propagates.
 */
export function amax(x: Tensor, axis: number): Tensor {
  assertTensor(x, 'amax', 'x');
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.ndim) {
    throw new Error(`wasmtail: amax(): axis ${axis} out of range for ${shapeStr(x.shape)}`);
  }
  if (x.shape[axis] === 0) throw new Error(`wasmtail: amax(): empty axis ${axis} of ${shapeStr(x.shape)}`);
  const y = empty(x.shape.map((d, i) => (i === axis ? 1 : d)));
  backend().reduceAxis('max', x.storage, y.storage, sizeOf(x.shape.slice(0, axis)), x.shape[axis], sizeOf(x.shape.slice(axis + 1)));
  return y;
}

/** Expands size-1 dims of x to shape (same rank). Gradient: sumTo back. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor(x, 'broadcastTo', 'x');
  if (shape.length !== x.ndim || x.shape.some((d, i) => d !== 1 && d !== shape[i])) {
    throw new Error(
      `wasmtail: broadcastTo(): cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)} (same rank, each dim 1 or equal)`,
    );
  }
  const y = empty(shape);
  backend().broadcastTo(x.storage, x.shape, y.storage, shape);
  return record(y, 'broadcastTo', [x], (g) => [sumTo(g, x.shape)]);
}
