/** The element arrays the reference kernels accept: float32 for tests, float64 for gradient checks. */
export type FArray = Float32Array | Float64Array;
