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
