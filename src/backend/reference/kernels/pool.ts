// Reference global average pooling over NCHW planes of hw values.
import type { FArray } from './types.js';

/** y[i] = mean of x[i * hw .. (i + 1) * hw). */
export function globalAvgPoolForwardRef(x: FArray, y: FArray, nc: number, hw: number): void {
  for (let i = 0; i < nc; i++) {
    let s = 0;
    for (let k = 0; k < hw; k++) s += x[i * hw + k];
    y[i] = s / hw;
  }
}

/** dx[i * hw + k] = dy[i] / hw. */
export function globalAvgPoolBackwardRef(dy: FArray, dx: FArray, nc: number, hw: number): void {
  for (let i = 0; i < nc; i++) {
    const g = dy[i] / hw;
    for (let k = 0; k < hw; k++) dx[i * hw + k] = g;
  }
}
