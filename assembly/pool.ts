// Global average pooling over NCHW: one mean per (sample, channel) plane.
import { sumF64 } from './reduce';

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** y[i] = mean of x[i * hw .. (i + 1) * hw), for i < nc (= n * c). */
export function globalAvgPoolForward(x: usize, y: usize, nc: i32, hw: i32): void {
  const inv = 1.0 / <f64>hw;
  for (let i = 0; i < nc; i++) store<f32>(at(y, i), <f32>(sumF64(at(x, i * hw), hw) * inv));
}

/** dx[i * hw + k] = dy[i] / hw: each plane is filled with its share of the gradient. */
export function globalAvgPoolBackward(dy: usize, dx: usize, nc: i32, hw: i32): void {
  const inv = 1.0 / <f64>hw;
  const hw4 = hw & ~3;
  for (let i = 0; i < nc; i++) {
    const g = <f32>(<f64>load<f32>(at(dy, i)) * inv);
    const v = f32x4.splat(g);
    const row = at(dx, i * hw);
    let k = 0;
    for (; k < hw4; k += 4) v128.store(at(row, k), v);
    for (; k < hw; k++) store<f32>(at(row, k), g);
  }
}
