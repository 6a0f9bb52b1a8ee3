// One source, two builds: the relaxed-SIMD build (--enable relaxed-simd)
// multiplies and adds in one fused instruction where the CPU has FMA; the
// plain build keeps the separate multiply and add. ASC_FEATURE_RELAXED_SIMD is
// a compile-time constant, so each build compiles only its own branch.

/** a * b + c, lane-wise on f32x4. The relaxed build may round once (fused) or twice. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Elements summed in f32 lanes before they are flushed into an f64 total (reduce, batch norm). */
export const BLOCK: i32 = 1024;

/** Byte address of f32 element i of the array at p. */
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** The four f32 lanes of v summed in f64, pairwise. */
@inline export function lanesToF64(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) +
    (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/** Transposes the 4 x 4 block of rows r0..r3 and stores its columns at dst, dst + step, ... */
@inline export function transpose4x4Store(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, step: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + step, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * step, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
}
