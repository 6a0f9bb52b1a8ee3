// Reference reductions: plain loops accumulating in JS numbers (f64).
import type { ReduceOp } from '../../backend.js';
import type { FArray } from './types.js';

/**
 * y[o, i] = sum or max over a of x[o, a, i] (x [outer, axis, inner], y
 * [outer, inner]). Sums accumulate in JS numbers (f64); max propagates NaN.
 */
export function reduceAxisRef(op: ReduceOp, x: FArray, y: FArray, outer: number, axis: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let s = op === 'sum' ? 0 : -Infinity;
      for (let k = 0; k < axis; k++) {
        const v = x[(o * axis + k) * inner + i];
        s = op === 'sum' ? s + v : Math.max(s, v);
      }
      y[o * inner + i] = s;
    }
  }
}
