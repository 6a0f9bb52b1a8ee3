// Reference reductions: plain loops accumulating in JS numbers (f64).
import type { FArray } from './types.js';

/** y[0] = sum of x[0..n). */
export function sumRef(x: FArray, y: FArray, n: number): void {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  y[0] = s;
}

/** y[c] = sum over r of x[r * cols + c]. */
export function sumRowsRef(x: FArray, y: FArray, rows: number, cols: number): void {
  for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * cols + c];
    y[c] = s;
  }
}

/** y[r * cols + c] = x[r * cols + c] + b[c]. */
export function addRowVectorRef(x: FArray, b: FArray, y: FArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] + b[c];
  }
}
