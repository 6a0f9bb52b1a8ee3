// Plain reference for assembly/gemm.ts: the correctness oracle, not fast.
import type { FArray } from './types.js';

/**
 * C[m, n] = alpha * op(A) * op(B) + beta * C, row-major with natural leading
 * dimensions. op(A) is [m, k] (A stored [k, m] when transA), op(B) is [k, n]
 * (B stored [n, k] when transB). beta = 0 ignores C's old contents (NaN too).
 */
export function gemmRef(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FArray,
  b: FArray,
  beta: number,
  c: FArray,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * m + i] : a[i * k + p];
        const bpj = transB ? b[j * k + p] : b[p * n + j];
        sum += aip * bpj;
      }
      c[i * n + j] = beta === 0 ? alpha * sum : alpha * sum + beta * c[i * n + j];
    }
  }
}
