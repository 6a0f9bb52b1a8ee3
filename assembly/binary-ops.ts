// The four binary ops on f32x4 lanes and on scalars, one f32 operation each
// (so a SIMD lane and the scalar tail agree bit for bit). Inlined with a
// constant op at each call site (elementwise.ts, broadcast.ts), so the op
// tests fold away. Not exported from index.ts: v128 cannot cross into JS.
import { at } from './simd';

@inline export function binaryVec(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f32x4.add(a, b);
  if (op == 1) return f32x4.sub(a, b);
  if (op == 2) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

@inline export function binaryScalar(op: i32, a: f32, b: f32): f32 {
  if (op == 0) return a + b;
  if (op == 1) return a - b;
  if (op == 2) return a * b;
  return a / b;
}

@inline export function binarySimd(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store(at(y, i), binaryVec(op, v128.load(at(a, i)), v128.load(at(b, i))));
  for (; i < n; i++) store<f32>(at(y, i), binaryScalar(op, load<f32>(at(a, i)), load<f32>(at(b, i))));
}

