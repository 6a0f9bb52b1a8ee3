// Elementwise ops with NumPy broadcasting, forward and backward side by side.
import type { BinaryOp, Storage, UnaryOp } from '../backend/backend.js';
import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { broadcastStrides, collapseLayout } from '../backend/layout.js';
import { type Tensor, empty, sizeOf, viewAs } from '../tensor.js';
import { sumDims } from './reduce.js';
import { assertTensor, shapeStr } from './util.js';

export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`wasmtail: ${op}(): shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

function padRank(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/** Sums g over the dims that were broadcast to reach it from `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.size === sizeOf(shape)) return g.shape.length === shape.length ? g : viewAs(g, shape);
  return viewAs(sumDims(g, padRank(shape, g.shape.length)), shape);
}

/**
 * y (of shape, the operands' broadcast shape) = a (op) b on storages: the
 * dispatch of every broadcasting binary op, also run by callers that plan
 * their own buffers (src/nn/resnetPlan.ts).
 */
export function binaryInto(
  op: BinaryOp,
  a: Storage,
  aShape: readonly number[],
  b: Storage,
  bShape: readonly number[],
  y: Storage,
  shape: readonly number[],
): void {
  const size = sizeOf(shape);
  if (sizeOf(aShape) === size && sizeOf(bShape) === size) {
    backend().binary(op, a, b, y, size);
  } else {
    // A broadcast operand is read by strides (0 along its broadcast dims), never copied.
    const walk = collapseLayout(shape, [broadcastStrides(aShape, shape), broadcastStrides(bShape, shape)]);
    backend().binaryStrided(op, a, walk.strides[0], b, walk.strides[1], y, walk.shape);
  }
}

function binary(op: BinaryOp, a: Tensor, b: Tensor, backwardFn: (g: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  assertTensor(a, op, 'a');
  assertTensor(b, op, 'b');
  const shape = broadcastShapes(a.shape, b.shape, op);
  const y = empty(shape);
  binaryInto(op, a.storage, a.shape, b.storage, b.shape, y.storage, shape);
  return record(y, op, [a, b], (g) => {
    const [ga, gb] = backwardFn(g);
    return [ga && a.requiresGrad ? sumToShape(ga, a.shape) : null, gb && b.requiresGrad ? sumToShape(gb, b.shape) : null];
  });
}

export function add(a: Tensor, b: Tensor): Tensor {
  return binary('add', a, b, (g) => [g, g]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return binary('sub', a, b, (g) => [g, b.requiresGrad ? neg(g) : null]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return binary('mul', a, b, (g) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  return binary('div', a, b, (g) => [a.requiresGrad ? div(g, b) : null, b.requiresGrad ? neg(div(mul(g, a), mul(b, b))) : null]);
}

function unary(op: UnaryOp, x: Tensor): Tensor {
  assertTensor(x, op, 'x');
  const y = empty(x.shape);
  backend().unary(op, x.storage, y.storage, y.size);
  return y;
}

export function relu(x: Tensor): Tensor {
  const y = unary('relu', x);
  return record(y, 'relu', [x], (g) => {
    const dx = empty(x.shape);
    backend().reluBackward(x.storage, g.storage, dx.storage, dx.size);
    return [dx];
  });
}

export function neg(x: Tensor): Tensor {
  return record(unary('neg', x), 'neg', [x], (g) => [neg(g)]);
}

export function exp(x: Tensor): Tensor {
  const y = unary('exp', x);
  return record(y, 'exp', [x], (g) => [mul(g, y)]);
}

export function log(x: Tensor): Tensor {
  return record(unary('log', x), 'log', [x], (g) => [div(g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  const y = unary('sqrt', x);
  return record(y, 'sqrt', [x], (g) => [scale(div(g, y), 0.5)]);
}

/** y = alpha * x. */
export function scale(x: Tensor, alpha: number): Tensor {
  assertTensor(x, 'scale', 'x');
  const y = empty(x.shape);
  backend().axpby(alpha, x.storage, 0, y.storage, y.size);
  return record(y, 'scale', [x], (g) => [scale(g, alpha)]);
}
