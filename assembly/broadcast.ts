// Kernels that read an operand by strides (0 along broadcast dims) instead
// of a broadcast copy. The walk comes as a descriptor of i32 words at desc:
// rank, shape[rank], then rank strides (in elements) per operand; the output
// is contiguous. The JS side has already merged dims (src/backend/layout.ts),
// so the innermost dim is long and the outer dims are few. The innermost
// loop runs as SIMD where an operand is contiguous (stride 1) or one value
// (stride 0); each element gets the same single f32 operation as in
// elementwise.ts, so results do not depend on the path.
// Reference: src/backend/reference/kernels/broadcast.ts.
import { at } from './simd';
import { binaryScalar, binarySimd, binaryVec } from './binary-ops';

@inline function word(desc: usize, i: i32): i32 {
  return load<i32>(desc + (<usize>i << 2));
}

/** Element offset of row r (an index over dims 0..rank-2) in operand k (1-based) of the descriptor. */
@inline function rowOffset(desc: usize, rank: i32, k: i32, r: i32): i32 {
  let off = 0;
  let rest = r;
  for (let d = rank - 2; d >= 0; d--) {
    const size = word(desc, 1 + d);
    off += (rest % size) * word(desc, 1 + k * rank + d);
    rest /= size;
  }
  return off;
}

/** Rows of the walk: the product of every dim but the innermost. */
@inline function rowsOf(desc: usize, rank: i32): i32 {
  let rows = 1;
  for (let d = 0; d < rank - 1; d++) rows *= word(desc, 1 + d);
  return rows;
}

@inline function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: i32): void {
  if (sa == 1 && sb == 1) {
    binarySimd(op, a, b, y, n);
    return;
  }
  const n4 = n & ~3;
  let i = 0;
  if (sa == 1 && sb == 0) {
    const bs = load<f32>(b);
    const vb = f32x4.splat(bs);
    for (; i < n4; i += 4) v128.store(at(y, i), binaryVec(op, v128.load(at(a, i)), vb));
    for (; i < n; i++) store<f32>(at(y, i), binaryScalar(op, load<f32>(at(a, i)), bs));
  } else if (sa == 0 && sb == 1) {
    const as = load<f32>(a);
    const va = f32x4.splat(as);
    for (; i < n4; i += 4) v128.store(at(y, i), binaryVec(op, va, v128.load(at(b, i))));
    for (; i < n; i++) store<f32>(at(y, i), binaryScalar(op, as, load<f32>(at(b, i))));
  } else {
    for (; i < n; i++) store<f32>(at(y, i), binaryScalar(op, load<f32>(at(a, i * sa)), load<f32>(at(b, i * sb))));
  }
}

@inline function binaryStridedOp(op: i32, a: usize, b: usize, y: usize, desc: usize): void {
  const rank = word(desc, 0);
  const inner = word(desc, rank);
  const sa = word(desc, 2 * rank);
  const sb = word(desc, 3 * rank);
  const rows = rowsOf(desc, rank);
  for (let r = 0; r < rows; r++) {
    binaryRow(op, at(a, rowOffset(desc, rank, 1, r)), sa, at(b, rowOffset(desc, rank, 2, r)), sb, at(y, r * inner), inner);
  }
}

/** y = a (op) b over the descriptor's walk (operands 1 = a, 2 = b); op codes as in elementwise.ts. */
export function binaryStrided(op: i32, a: usize, b: usize, y: usize, desc: usize): void {
  switch (op) {
    case 0: binaryStridedOp(0, a, b, y, desc); break;
    case 1: binaryStridedOp(1, a, b, y, desc); break;
    case 2: binaryStridedOp(2, a, b, y, desc); break;
    case 3: binaryStridedOp(3, a, b, y, desc); break;
    default: unreachable();
  }
}

/** y = x read at the descriptor's strides (operand 1): broadcastTo without a JS loop. */
export function broadcastStrided(x: usize, y: usize, desc: usize): void {
  const rank = word(desc, 0);
  const inner = word(desc, rank);
  const sx = word(desc, 2 * rank);
  const rows = rowsOf(desc, rank);
  for (let r = 0; r < rows; r++) {
    const px = at(x, rowOffset(desc, rank, 1, r));
    const py = at(y, r * inner);
    if (sx == 1) {
      memory.copy(py, px, <usize>inner << 2);
    } else if (sx == 0) {
      const v = load<f32>(px);
      const vv = f32x4.splat(v);
      const n4 = inner & ~3;
      let i = 0;
      for (; i < n4; i += 4) v128.store(at(py, i), vv);
      for (; i < inner; i++) store<f32>(at(py, i), v);
    } else {
      for (let i = 0; i < inner; i++) store<f32>(at(py, i), load<f32>(at(px, i * sx)));
    }
  }
}
