// Reading operands by strides (0 along broadcast dims): the output is walked
// in row-major order and each operand's offset follows its own strides.
// Plain loops, the reference for the WASM (assembly/broadcast.ts) and WGSL
// kernels.
import type { BinaryOp } from '../../backend.js';
import { broadcastStrides } from '../../layout.js';
import { binaryFns } from './elementwise.js';
import type { FArray } from './types.js';

/** Calls visit(outIndex, aOffset, bOffset) for every element of shape, in order. */
function walk(
  shape: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
  visit: (o: number, ai: number, bi: number) => void,
): void {
  const rank = shape.length;
  const total = shape.reduce((p, d) => p * d, 1);
  const idx = new Array<number>(rank).fill(0);
  let ai = 0,
    bi = 0;
  for (let o = 0; o < total; o++) {
    visit(o, ai, bi);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ai += aStrides[d];
      bi += bStrides[d];
      if (idx[d] < shape[d]) break;
      ai -= aStrides[d] * idx[d];
      bi -= bStrides[d] * idx[d];
      idx[d] = 0;
    }
  }
}

/** y (outShape) = x (xShape, same rank, each dim 1 or equal) expanded along its size-1 dims. */
export function broadcastToRef(x: FArray, xShape: readonly number[], y: FArray, outShape: readonly number[]): void {
  const xStrides = broadcastStrides(xShape, outShape);
  walk(outShape, xStrides, xStrides, (o, i) => {
    y[o] = x[i];
  });
}

/** y (shape, contiguous) = a (op) b, each read at its strides. */
export function binaryStridedRef(
  op: BinaryOp,
  a: FArray,
  aStrides: readonly number[],
  b: FArray,
  bStrides: readonly number[],
  y: FArray,
  shape: readonly number[],
): void {
  const f = binaryFns[op];
  if (!f) throw new Error(`unknown binary op ${op}`);
  walk(shape, aStrides, bStrides, (o, ai, bi) => {
    y[o] = f(a[ai], b[bi]);
  });
}
