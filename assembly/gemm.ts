// SGEMM, row-major float32: C[m, n] = alpha * op(A) * op(B) + beta * C.
//
// The structure is GotoBLAS/BLIS's (Goto & van de Geijn, "Anatomy of
// high-performance matrix multiplication", ACM TOMS 2008): op(B) is packed
// into kc x 8 column panels, each panel stays in L1 while a 4 x 8 register
// tile sweeps down the rows of A, which stream from L2.
//
// Why a 4 x 8 tile: V8 gives WebAssembly only 16 XMM registers and plain
// SIMD has no fused multiply-add, so the tile needs 8 f32x4 accumulators,
// 2 B vectors and 1 broadcast A value (11 registers); 6 x 8 spills. The
// relaxed-SIMD build fuses each multiply-add (assembly/simd.ts, madd); its
// 6 x 8 tile (12 accumulators) spilled too under V8 and lost (bench/RESULTS.md).
// Why A is not packed: rows of A are read in place with a broadcast load
// (v128.load32_splat). For the small n of convolutions (16-64 output
// channels) a packing pass over A costs more than it saves. A transposed A
// is transposed block by block into row-major scratch first.
//
// Reference: src/backend/reference/kernels/gemm.ts (gemmRef).
import { madd, transpose4x4Store } from './simd';

/** Depth of a packed B block: a kc x 8 panel (8 KiB) fits L1 beside 4 rows of A. */
const KC: i32 = 256;
/** Rows of A per block: 128 x 256 floats (128 KiB) stay in L2 while the panels go by. */
const MC: i32 = 128;
/** Columns of B per packed block (KC x NC floats, 4 MiB at most, in L3). */
const NC: i32 = 4096;
/** Bytes of the 4 x 8 scratch tile used to store partial-width tiles. */
export const TILE_BYTES: i32 = 128;

@inline function roundUp8(x: i32): i32 {
  return (x + 7) & ~7;
}

@inline function roundUp64(bytes: i32): i32 {
  return (bytes + 63) & ~63;
}

/** Scratch bytes sgemm needs: the 4 x 8 tile, one packed B block and one transposed A block. */
export function gemmWorkspaceBytes(m: i32, n: i32, k: i32): i32 {
  const kc = min(max(k, 1), KC);
  return TILE_BYTES + roundUp64(kc * roundUp8(min(max(n, 1), NC)) * 4) + roundUp64(min(max(m, 1), MC) * kc * 4);
}

// --- storing a finished tile ---------------------------------------------------

/** One row of 8 results: c = alpha * acc + beta * c (beta == 0 never reads c, so NaN there is ignored). */
@inline function storeRow8(c: usize, x0: v128, x1: v128, alpha: v128, beta: f32): void {
  x0 = f32x4.mul(x0, alpha);
  x1 = f32x4.mul(x1, alpha);
  if (beta == 0) {
    v128.store(c, x0);
    v128.store(c, x1, 16);
  } else if (beta == 1) {
    v128.store(c, f32x4.add(v128.load(c), x0));
    v128.store(c, f32x4.add(v128.load(c, 16), x1), 16);
  } else {
    const bv = f32x4.splat(beta);
    v128.store(c, f32x4.add(f32x4.mul(v128.load(c), bv), x0));
    v128.store(c, f32x4.add(f32x4.mul(v128.load(c, 16), bv), x1), 16);
  }
}

/** One row of nr < 8 results, through the scratch tile row t. */
function storeRowPartial(c: usize, x0: v128, x1: v128, alpha: v128, beta: f32, nr: i32, t: usize): void {
  v128.store(t, f32x4.mul(x0, alpha));
  v128.store(t, f32x4.mul(x1, alpha), 16);
  for (let j = 0; j < nr; j++) {
    const p = c + (<usize>j << 2);
    const v = load<f32>(t + (<usize>j << 2));
    store<f32>(p, beta == 0 ? v : v + beta * load<f32>(p));
  }
}

// --- micro-kernels ---------------------------------------------------------------

/**
 * C[0..4, 0..nr) = alpha * A[0..4, 0..kc) * P + beta * C, where P is a packed
 * kc x 8 panel. A rows are lda bytes apart, C rows ldc bytes apart.
 * The k loop is deliberately not unrolled: binaryen interleaves an unrolled
 * body, the live ranges grow past 16 registers and V8 spills (512^3: 45
 * GFLOPS plain, 39 unrolled by 2, 35 by 4; bench/RESULTS.md).
 */
@inline function kernel4x8(kc: i32, a: usize, lda: usize, p: usize, c: usize, ldc: usize,
  nr: i32, alpha: f32, beta: f32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
  for (let kk = 0; kk < kc; kk++) {
    const b0 = v128.load(p), b1 = v128.load(p, 16);
    let s = v128.load32_splat(a0);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a1);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a2);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a3);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; p += 32;
  }
  const av = f32x4.splat(alpha);
  if (nr == 8) {
    storeRow8(c, c00, c01, av, beta);
    storeRow8(c + ldc, c10, c11, av, beta);
    storeRow8(c + 2 * ldc, c20, c21, av, beta);
    storeRow8(c + 3 * ldc, c30, c31, av, beta);
  } else {
    storeRowPartial(c, c00, c01, av, beta, nr, tile);
    storeRowPartial(c + ldc, c10, c11, av, beta, nr, tile);
    storeRowPartial(c + 2 * ldc, c20, c21, av, beta, nr, tile);
    storeRowPartial(c + 3 * ldc, c30, c31, av, beta, nr, tile);
  }
}

/** The m % 4 leftover rows, one at a time: C[0, 0..nr) = alpha * A[0, 0..kc) * P + beta * C. */
function kernel1x8(kc: i32, a: usize, p: usize, c: usize, nr: i32, alpha: f32, beta: f32, tile: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let kk = 0; kk < kc; kk++) {
    const s = v128.load32_splat(a);
    c0 = madd(s, v128.load(p), c0);
    c1 = madd(s, v128.load(p, 16), c1);
    a += 4; p += 32;
  }
  const av = f32x4.splat(alpha);
  if (nr == 8) storeRow8(c, c0, c1, av, beta);
  else storeRowPartial(c, c0, c1, av, beta, nr, tile);
}

/**
 * The macro-kernel: C[0..mc, 0..nc) = alpha * A[0..mc, 0..kc) * Bp + beta * C
 * for a packed block Bp (ceil(nc / 8) panels of kc x 8). Panels outermost, so
 * each panel is loaded into L1 once and the rows of A stream past it.
 */
export function gemmPacked(mc: i32, nc: i32, kc: i32, a: usize, lda: usize, bp: usize,
  c: usize, ldc: usize, alpha: f32, beta: f32, tile: usize): void {
  const panelBytes = <usize>kc << 5;
  for (let j0 = 0; j0 < nc; j0 += 8) {
    const nr = min(8, nc - j0);
    const p = bp + (<usize>(j0 >> 3)) * panelBytes;
    const cj = c + (<usize>j0 << 2);
    let i = 0;
    for (; i + 4 <= mc; i += 4) {
      kernel4x8(kc, a + <usize>i * lda, lda, p, cj + <usize>i * ldc, ldc, nr, alpha, beta, tile);
    }
    for (; i < mc; i++) {
      kernel1x8(kc, a + <usize>i * lda, p, cj + <usize>i * ldc, nr, alpha, beta, tile);
    }
  }
}

// --- packing ----------------------------------------------------------------------

/**
 * Packs B[0..kc, 0..nc) (row-major, rows ldb bytes apart) into kc x 8 panels;
 * the last panel is zero-padded to 8 columns.
 */
function packB(b: usize, ldb: usize, kc: i32, nc: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += 8) {
    const nr = min(8, nc - j0);
    let src = b + (<usize>j0 << 2);
    if (nr == 8) {
      for (let kk = 0; kk < kc; kk++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldb; dst += 32;
      }
    } else {
      for (let kk = 0; kk < kc; kk++) {
        for (let j = 0; j < 8; j++) {
          store<f32>(dst + (<usize>j << 2), j < nr ? load<f32>(src + (<usize>j << 2)) : 0);
        }
        src += ldb; dst += 32;
      }
    }
  }
}

/**
 * Packs op(B) = Bt^T where Bt[0..nc, 0..kc] is stored row-major (rows ldb
 * bytes apart) into kc x 8 panels, transposing 4 x 4 blocks with shuffles.
 */
function packBTransposed(bt: usize, ldb: usize, kc: i32, nc: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += 8) {
    const nr = min(8, nc - j0);
    const src = bt + <usize>j0 * ldb;
    let kk = 0;
    if (nr == 8) {
      for (; kk + 4 <= kc; kk += 4) {
        const s = src + (<usize>kk << 2);
        const d = dst + (<usize>kk << 5);
        transpose4x4Store(v128.load(s), v128.load(s + ldb), v128.load(s + 2 * ldb), v128.load(s + 3 * ldb), d, 32);
        const s4 = s + 4 * ldb;
        transpose4x4Store(v128.load(s4), v128.load(s4 + ldb), v128.load(s4 + 2 * ldb), v128.load(s4 + 3 * ldb), d + 16, 32);
      }
    }
    for (; kk < kc; kk++) {
      const d = dst + (<usize>kk << 5);
      for (let j = 0; j < 8; j++) {
        store<f32>(d + (<usize>j << 2), j < nr ? load<f32>(src + <usize>j * ldb + (<usize>kk << 2)) : 0);
      }
    }
    dst += <usize>kc << 5;
  }
}

/**
 * Writes op(A)[0..mc, 0..kc) row-major (rows kc floats apart) into dst, where
 * op(A) = At^T and At[0..kc, 0..mc] is stored row-major with rows lda bytes apart.
 */
function transposeA(at: usize, lda: usize, mc: i32, kc: i32, dst: usize): void {
  const ldd = <usize>kc << 2;
  let i = 0;
  for (; i + 4 <= mc; i += 4) {
    let kk = 0;
    for (; kk + 4 <= kc; kk += 4) {
      const s = at + <usize>kk * lda + (<usize>i << 2);
      transpose4x4Store(v128.load(s), v128.load(s + lda), v128.load(s + 2 * lda), v128.load(s + 3 * lda),
        dst + <usize>i * ldd + (<usize>kk << 2), ldd);
    }
    for (; kk < kc; kk++) {
      for (let r = 0; r < 4; r++) {
        store<f32>(dst + <usize>(i + r) * ldd + (<usize>kk << 2), load<f32>(at + <usize>kk * lda + (<usize>(i + r) << 2)));
      }
    }
  }
  for (; i < mc; i++) {
    for (let kk = 0; kk < kc; kk++) {
      store<f32>(dst + <usize>i * ldd + (<usize>kk << 2), load<f32>(at + <usize>kk * lda + (<usize>i << 2)));
    }
  }
}

/** C[0..count) *= beta, with beta == 0 writing zeros (NaN-safe). */
function scaleC(c: usize, count: i32, beta: f32): void {
  if (beta == 1) return;
  if (beta == 0) {
    memory.fill(c, 0, <usize>count << 2);
    return;
  }
  for (let i = 0; i < count; i++) {
    const p = c + (<usize>i << 2);
    store<f32>(p, beta * load<f32>(p));
  }
}

/**
 * C[m, n] = alpha * op(A) * op(B) + beta * C, row-major with natural leading
 * dimensions. op(A) is [m, k] (A stored [k, m] when transA), op(B) is [k, n]
 * (B stored [n, k] when transB). beta == 0 ignores C's old contents; as in
 * BLAS, k == 0 or alpha == 0 only scales C and never reads A or B.
 * work: gemmWorkspaceBytes(m, n, k) bytes of scratch.
 */
export function sgemm(transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, b: usize, beta: f32, c: usize, work: usize): void {
  gemm(transA, transB, m, n, k, alpha, a, transA ? m : k, b, beta, c, work);
}

/**
 * Rows r0 .. r1-1 of sgemm's C, for threads that split C by rows. Each row is
 * computed exactly as sgemm computes it (the same k blocks, in the same
 * order), so any split gives sgemm's result bit for bit.
 */
export function sgemmRows(transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, b: usize, beta: f32, c: usize, work: usize, r0: i32, r1: i32): void {
  const aRows = transA ? a + (<usize>r0 << 2) : a + <usize>r0 * k * 4;
  gemm(transA, transB, r1 - r0, n, k, alpha, aRows, transA ? m : k, b, beta, c + <usize>r0 * n * 4, work);
}

/** sgemm where A's rows (columns when transA) are lda floats apart. */
function gemm(transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, beta: f32, c: usize, work: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) {
    scaleC(c, m * n, beta);
    return;
  }
  const tile = work;
  const bPack = tile + TILE_BYTES;
  const kcMax = min(k, KC);
  const aPack = bPack + <usize>roundUp64(kcMax * roundUp8(min(n, NC)) * 4);
  const ldc = <usize>n << 2;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      if (transB) packBTransposed(b + (<usize>jc * k + pc) * 4, <usize>k << 2, kc, nc, bPack);
      else packB(b + (<usize>pc * n + jc) * 4, <usize>n << 2, kc, nc, bPack);
      // Later k blocks accumulate onto the first one's result.
      const betaBlock: f32 = pc == 0 ? beta : 1;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        let aBlock: usize, ldaBytes: usize;
        if (transA) {
          transposeA(a + (<usize>pc * lda + ic) * 4, <usize>lda << 2, mc, kc, aPack);
          aBlock = aPack; ldaBytes = <usize>kc << 2;
        } else {
          aBlock = a + (<usize>ic * lda + pc) * 4; ldaBytes = <usize>lda << 2;
        }
        gemmPacked(mc, nc, kc, aBlock, ldaBytes, bPack, c + <usize>ic * ldc + (<usize>jc << 2), ldc, alpha, betaBlock, tile);
      }
    }
  }
}
