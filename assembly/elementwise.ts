// Elementwise kernels: f32x4 loops over whole vectors, then a scalar tail.
// Pointers are byte offsets of f32 arrays; x and y may be the same array.
//
// Op codes are indices into the TS reference's UNARY_OPS / BINARY_OPS:
//   unary:  0 relu, 1 neg, 2 exp, 3 log, 4 sqrt, 5 abs
//   binary: 0 add, 1 sub, 2 mul, 3 div
// An unknown code traps (the TS layer only passes codes from those tables).
// relu is max(x, 0): NaN stays NaN, as in PyTorch. exp and log have no SIMD
// instruction and run as scalar Mathf loops.

import { at } from './simd';
import { binarySimd } from './binary-ops';

export function fill(y: usize, value: f32, n: i32): void {
  const v = f32x4.splat(value);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store(at(y, i), v);
  for (; i < n; i++) store<f32>(at(y, i), value);
}

/** memmove semantics: overlapping ranges are fine. */
export function copy(x: usize, y: usize, n: i32): void {
  memory.copy(y, x, <usize>n << 2);
}

@inline function unaryVec(op: i32, v: v128): v128 {
  if (op == 0) return f32x4.max(v, f32x4.splat(0));
  if (op == 1) return f32x4.neg(v);
  if (op == 4) return f32x4.sqrt(v);
  return f32x4.abs(v);
}

@inline function unaryScalar(op: i32, v: f32): f32 {
  if (op == 0) return max<f32>(v, 0);
  if (op == 1) return -v;
  if (op == 4) return Mathf.sqrt(v);
  return Mathf.abs(v);
}

// Inlined with a constant op at each call site, so the op tests fold away.
@inline function unarySimd(op: i32, x: usize, y: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store(at(y, i), unaryVec(op, v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), unaryScalar(op, load<f32>(at(x, i))));
}

export function unary(op: i32, x: usize, y: usize, n: i32): void {
  switch (op) {
    case 0: unarySimd(0, x, y, n); break;
    case 1: unarySimd(1, x, y, n); break;
    case 2: for (let i = 0; i < n; i++) store<f32>(at(y, i), Mathf.exp(load<f32>(at(x, i)))); break;
    case 3: for (let i = 0; i < n; i++) store<f32>(at(y, i), Mathf.log(load<f32>(at(x, i)))); break;
    case 4: unarySimd(4, x, y, n); break;
    case 5: unarySimd(5, x, y, n); break;
    default: unreachable();
  }
}

export function binary(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  switch (op) {
    case 0: binarySimd(0, a, b, y, n); break;
    case 1: binarySimd(1, a, b, y, n); break;
    case 2: binarySimd(2, a, b, y, n); break;
    case 3: binarySimd(3, a, b, y, n); break;
    default: unreachable();
  }
}

/** y = alpha * x + beta * y; beta == 0 never reads y, so NaN or Inf there is dropped. */
export function axpby(alpha: f32, x: usize, beta: f32, y: usize, n: i32): void {
  const va = f32x4.splat(alpha);
  const n4 = n & ~3;
  let i = 0;
  if (beta == 0) {
    for (; i < n4; i += 4) v128.store(at(y, i), f32x4.mul(va, v128.load(at(x, i))));
    for (; i < n; i++) store<f32>(at(y, i), alpha * load<f32>(at(x, i)));
    return;
  }
  const vb = f32x4.splat(beta);
  for (; i < n4; i += 4) {
    v128.store(at(y, i), f32x4.add(f32x4.mul(va, v128.load(at(x, i))), f32x4.mul(vb, v128.load(at(y, i)))));
  }
  for (; i < n; i++) store<f32>(at(y, i), alpha * load<f32>(at(x, i)) + beta * load<f32>(at(y, i)));
}

/** dx = dy where x > 0, else 0 (a comparison mask ANDed with dy). */
export function reluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    v128.store(at(dx, i), v128.and(v128.load(at(dy, i)), f32x4.gt(v128.load(at(x, i)), zero)));
  }
  for (; i < n; i++) store<f32>(at(dx, i), load<f32>(at(x, i)) > 0 ? load<f32>(at(dy, i)) : 0);
}
