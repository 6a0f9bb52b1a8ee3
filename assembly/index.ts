// The kernels' module: every export is a kernel over byte offsets into the
// imported linear memory. JS owns all allocation (src/backend/wasm/allocator.ts);
// kernels never allocate. Each file here has a plain TypeScript reference in
// src/backend/reference/kernels/ with the same name, which its test compares to.

/** First byte past the module's static data: where the JS allocator may start. */
export function heapBase(): usize {
  return __heap_base;
}
/** Which build this is: 1 = relaxed SIMD (fused multiply-add), 2 = threads (imports a shared memory). */
export function kernelFeatures(): i32 {
  return (ASC_FEATURE_RELAXED_SIMD ? 1 : 0) | (ASC_FEATURE_THREADS ? 2 : 0);
}
export * from './gemm';
export * from './elementwise';
export * from './reduce';
export * from './pool';
export * from './batchnorm';
export * from './loss';
export * from './optim';
export * from './conv';
export * from './broadcast';
export * from './shortcut';
