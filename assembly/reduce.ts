// Reductions. Precision: values are summed in f32x4 lanes (two vectors, eight
// running sums) for blocks of at most BLOCK elements; each block's lanes are
// then combined pairwise into an f64 total. Every f32 partial sum therefore
// covers at most BLOCK / 8 values, so the error stays near that of a short
// f32 sum however long the input is (batch-norm channels hold 65,536 values).

import { BLOCK, at, lanesToF64 } from './simd';

/**
 * Sum of the n f32 values at x, in f64 (blockwise as described above).
 * Exported for the other kernel files (pooling, batch norm); callable from JS too.
 */
export function sumF64(x: usize, n: i32): f64 {
  let total: f64 = 0;
  const n8 = n & ~7;
  let i = 0;
  while (i < n8) {
    const stop = min(n8, i + BLOCK);
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    for (; i < stop; i += 8) {
      const p = at(x, i);
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
    }
    total += lanesToF64(f32x4.add(a0, a1));
  }
  for (; i < n; i++) total += <f64>load<f32>(at(x, i));
  return total;
}

/**
 * y[c] = sum over r of x[r * cols + c]. Four columns at a time in one f32x4
 * accumulator, flushed into f64 every BLOCK rows; leftover columns in f64.
 */
@inline function sumColumns(x: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  const c4 = cols & ~3;
  for (let c = 0; c < c4; c += 4) {
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    let p = at(x, c);
    let r = 0;
    while (r < rows) {
      const stop = min(rows, r + BLOCK);
      let acc = f32x4.splat(0);
      for (; r < stop; r++, p += stride) acc = f32x4.add(acc, v128.load(p));
      s0 += <f64>f32x4.extract_lane(acc, 0);
      s1 += <f64>f32x4.extract_lane(acc, 1);
      s2 += <f64>f32x4.extract_lane(acc, 2);
      s3 += <f64>f32x4.extract_lane(acc, 3);
    }
    const q = at(y, c);
    store<f32>(q, <f32>s0);
    store<f32>(q, <f32>s1, 4);
    store<f32>(q, <f32>s2, 8);
    store<f32>(q, <f32>s3, 12);
  }
  for (let c = c4; c < cols; c++) {
    let s: f64 = 0;
    let p = at(x, c);
    for (let r = 0; r < rows; r++, p += stride) s += <f64>load<f32>(p);
    store<f32>(at(y, c), <f32>s);
  }
}

/** The maximum of the n f32 values at x (-Infinity for none; NaN propagates). */
@inline function maxContiguous(x: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc = f32x4.splat(-Infinity);
  let i = 0;
  for (; i < n4; i += 4) acc = f32x4.max(acc, v128.load(at(x, i)));
  let m = max<f32>(max<f32>(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)),
    max<f32>(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)));
  for (; i < n; i++) m = max<f32>(m, load<f32>(at(x, i)));
  return m;
}

/** y[c] = max over r of x[r * cols + c], four columns at a time. */
@inline function maxColumns(x: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  const c4 = cols & ~3;
  for (let c = 0; c < c4; c += 4) {
    let acc = f32x4.splat(-Infinity);
    let p = at(x, c);
    for (let r = 0; r < rows; r++, p += stride) acc = f32x4.max(acc, v128.load(p));
    v128.store(at(y, c), acc);
  }
  for (let c = c4; c < cols; c++) {
    let m: f32 = -Infinity;
    let p = at(x, c);
    for (let r = 0; r < rows; r++, p += stride) m = max<f32>(m, load<f32>(p));
    store<f32>(at(y, c), m);
  }
}

/**
 * y[o, i] = sum (op 0) or max (op 1) over a of x[o, a, i], x [outer, axis,
 * inner]: sumF64 over contiguous rows (inner = 1), sumColumns otherwise.
 */
export function reduceAxis(op: i32, x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    const xo = at(x, o * axis * inner);
    const yo = at(y, o * inner);
    if (op == 0) {
      if (inner == 1) store<f32>(yo, <f32>sumF64(xo, axis));
      else sumColumns(xo, yo, axis, inner);
    } else if (op == 1) {
      if (inner == 1) store<f32>(yo, maxContiguous(xo, axis));
      else maxColumns(xo, yo, axis, inner);
    } else {
      unreachable();
    }
  }
}
