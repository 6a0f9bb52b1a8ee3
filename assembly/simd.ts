// One source, two builds: the relaxed-SIMD build (--enable relaxed-simd)
// multiplies and adds in one fused instruction where the CPU has FMA; the
// plain build keeps the separate multiply and add. ASC_FEATURE_RELAXED_SIMD is
// a compile-time constant, so each build compiles only its own branch.

/** a * b + c, lane-wise on f32x4. The relaxed build may round once (fused) or twice. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
