// Broadcasting between same-rank shapes (each x dim is 1 or equal to the
// output's). Plain loops over strides: used by every backend that keeps data
// in CPU memory, and as the reference for those that do not.
import type { FArray } from './types.js';

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** For each output element, the flat index of the x element it reads. */
function sourceIndex(xShape: readonly number[], outShape: readonly number[], visit: (outIndex: number, xIndex: number) => void): void {
  const rank = outShape.length;
  const xStrides = stridesOf(xShape).map((s, i) => (xShape[i] === 1 ? 0 : s));
  const total = outShape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(rank).fill(0);
  let xi = 0;
  for (let o = 0; o < total; o++) {
    visit(o, xi);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      xi += xStrides[d];
      if (idx[d] < outShape[d]) break;
      xi -= xStrides[d] * idx[d];
      idx[d] = 0;
    }
  }
}

export function broadcastToRef(x: FArray, xShape: readonly number[], y: FArray, outShape: readonly number[]): void {
  sourceIndex(xShape, outShape, (o, i) => {
    y[o] = x[i];
  });
}

export function sumToRef(x: FArray, outShape: readonly number[], y: FArray, xShape: readonly number[]): void {
  y.fill(0, 0, xShape.reduce((a, b) => a * b, 1));
  sourceIndex(xShape, outShape, (o, i) => {
    y[i] += x[o];
  });
}
