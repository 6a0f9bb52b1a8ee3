// Winograd F(4x4, 3x3) convolution (Lavin & Gray, "Fast algorithms for
// convolutional neural networks", CVPR 2016) for 3x3 filters at stride 1 with
// one pixel of zero padding, NCHW: assembly/winograd.ts's F(2x2, 3x3) with
// 4x4 output tiles computed from 6x6 input patches,
//
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
//
// so 36 multiplies per (tile, oc, c) for 16 outputs (2.25 per output, F(2,3)
// 4, direct 9): 36 GEMMs M[xi] (oc x tiles) = U[xi] (oc x c) * V[xi] (c x tiles).
// The steps, the blocks of tiles and the workspace are F(2,3)'s (read its
// header), with 36 planes instead of 16 and these differences:
//   - a block holds whole tile rows of one image or, where an image has fewer
//     than tilesPerBlock tiles (8x8: 4 tiles), several whole images, so the
//     GEMMs' 8-column panels stay full; xp holds one padded image per image
//     of a block. GEMM columns are independent, so an image's bits do not
//     depend on which images share its block (any split of the batch over
//     threads gives the same bits);
//   - the input transform gathers column k of 4 horizontally adjacent tiles
//     (4 pixels apart) by a 4x4 transpose of 4 loads, plus two shuffles for
//     columns 4 and 5; its row pass goes through tmp (36 vectors) before the
//     column pass, so that at most 12 vectors are live;
//   - the output transform writes 4 contiguous pixels per tile and row, again
//     after a 4x4 transpose.
//
// Transforms (points 0, 1, -1, 2, -2 and infinity; Lavin & Gray, eq. 10):
//   B^T = [4  0 -5  0 1 0;     G = [ 1/4     0     0;    A^T = [1 1  1 1  1 0;
//          0 -4 -4  1 1 0;          -1/6  -1/6  -1/6;           0 1 -1 2 -2 0;
//          0  4 -4 -1 1 0;          -1/6   1/6  -1/6;           0 1  1 4  4 0;
//          0 -2 -1  2 1 0;          1/24  1/12   1/6;           0 1 -1 8 -8 1]
//          0  2 -1 -2 1 0;          1/24 -1/12   1/6;
//          0  4  0 -5 0 1]             0     0     1]
//
// Numerics: V combines up to 36 pixels with weights up to 25, and each output
// combines the 36 entries of M with weights up to 64, so float32 rounding is
// amplified more than in F(2,3); the filter transform rounds 1/6 and 1/24.
// Against float64 on ResNet-32's three stages (bench/winograd-error.ts,
// forward and backward input, inputs signed or post-ReLU, scaled 1 to 100,
// both builds): max |y - y64| / max |y64| 1.6e-6 to 6.6e-6, about 10x
// F(2,3)'s (1.7e-7 to 4.3e-7) and 3-8x the direct conv's (3.3e-7 to
// 1.2e-6); at most 2.2 % of the kernel tests' tolerance (F(2,3) 0.1 %,
// direct 0.2 %). With the output transform's passes in the order (A^T M) A
// (2026-12-08): 1.5e-6 to 6.6e-6, at most 2.0 % (relaxed build). Non-finite
// inputs spread to the whole 4x4 tile.
//
// Speed against F(2,3) (bench/winograd.bench.ts --f43, relaxed SIMD, one
// thread, a busy machine: medians of interleaved ratios): 1.1-1.9x on
// ResNet-32's 16->16 @32x32 and 32->32 @16x16 at batch 64 and 1; on
// 64->64 @8x8 1.2-1.8x at batch 64, at batch 1 1.18x with the filter
// transformed once and 0.8x without; images from 7x7 up take F(4,3)
// (winograd4Applies).
//
// Reference: src/backend/reference/kernels/conv.ts (conv2dForwardRef,
// conv2dForwardAffineRef); test/kernels/winograd.test.ts.
import { epilogue1, epilogue4, gemmU, MODE, padImage, PLANE_PAD, roundUp64, roundUp8, zeroF32 } from './winograd';

/**
 * Tiles per block (whole tile rows or whole images up to at least this
 * many): F(2,3)'s 16, and more under 64 input channels, so that a block of
 * V holds about 1024 values per point (c x tiles). At 16 channels 64 tiles
 * ran 1.13-1.14x 16 tiles (16->16 @32x32, batch 64); at 32 and 64 channels
 * 32 to 128 tiles changed nothing or lost (bench/RESULTS.md). Columns of
 * the GEMMs are independent, so the block size changes no bit.
 */
@inline function tilesPerBlock(c: i32): i32 {
  return max(16, 1024 / c);
}
/** Bytes of tmp: the 36 vectors between the passes of one transform. */
export const TMP_BYTES: i32 = 36 * 16;
/** Bytes of the spill area: one tile group's 36 vectors when they cannot be stored in place. */
export const SPILL4_BYTES: i32 = 36 * 16;

/**
 * Which convolutions forward() runs with F(4,3) rather than F(2,3): 0 none,
 * 1 those where it measured faster (the default where WINOGRAD_MODE is), 2
 * every one Winograd can do. WINOGRAD_MODE 0 (direct only) and 2 (F(2,3)
 * everywhere) switch it off unless WINOGRAD4_MODE is given (asc --use), so
 * benches and tests can pit the three paths against each other.
 */
// @ts-expect-error: an optional compile-time constant
export const MODE4: i32 = isDefined(WINOGRAD4_MODE) ? WINOGRAD4_MODE : MODE == 1 ? 1 : 0;

/**
 * Whether forward() takes F(4,3): 3x3, stride 1, padding 1 on both axes, and
 * (MODE4 1) where it won the A/B against F(2,3) (bench/winograd.bench.ts
 * --f43, bench/RESULTS.md "Winograd F(4,3)" and "F(4,3) down to 7x7"):
 * - c >= 8 and oc >= 8, where F(2,3) applies at all;
 * - h, w >= 7: 12x12 and up won at batch 1 (32->32 @12x12 1.1x, @16x16
 *   1.3x, 16->16 @32x32 1.4x) and at batch 64 (1.1-1.75x); 64->64 at 8x8
 *   and 7x7 won 1.1-1.3x from 4 images on, and at 1 image with the filter
 *   transformed once (inference plans, 1.18x) since gemmU's 4-column
 *   kernel stopped computing the empty half of one image's panel; it loses
 *   at 1 image where the filter is transformed per call (0.8x: eval-mode
 *   model.forward() on one image; training runs many).
 * Depends on one image's geometry only, as winogradApplies, so that threads
 * given different numbers of images choose alike.
 */
export function winograd4Applies(c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, padH: i32, padW: i32): bool {
  if (kh != 3 || kw != 3 || stride != 1 || padH != 1 || padW != 1 || MODE4 == 0) return false;
  if (MODE4 == 2) return true;
  return c >= 8 && oc >= 8 && h >= 7 && w >= 7;
}

/** Tile rows per block. */
@inline function blockRows(tilesX: i32, tilesY: i32, c: i32): i32 {
  return min(tilesY, max(1, (tilesPerBlock(c) + tilesX - 1) / tilesX));
}

/** Whole images per block: 1 unless an image has fewer than tilesPerBlock tiles. */
@inline function imagesPerBlock(tilesX: i32, tilesY: i32, c: i32): i32 {
  const tiles = tilesX * tilesY, block = tilesPerBlock(c);
  return tiles >= block ? 1 : (block + tiles - 1) / tiles;
}

/** Bytes of U (36 planes, PLANE_PAD apart) for oc x c filters: winograd4TransformFilter's output. */
export function winograd4UBytes(c: i32, oc: i32): i32 {
  return roundUp64(36 * (oc * c * 4 + PLANE_PAD));
}

/** Scratch bytes of winograd4Forward for one image geometry (the batch size does not matter). */
export function winograd4Bytes(c: i32, h: i32, w: i32, oc: i32): i32 {
  const tilesX = (w + 3) >> 2, tilesY = (h + 3) >> 2;
  const images = imagesPerBlock(tilesX, tilesY, c);
  const cols = roundUp8(images * blockRows(tilesX, tilesY, c) * tilesX);
  const hp = 4 * tilesY + 2, wp = 4 * tilesX + 2;
  return TMP_BYTES + SPILL4_BYTES + winograd4UBytes(c, oc) + roundUp64((images * c * hp * wp + 32) * 4) +
    roundUp64(36 * (c * cols * 4 + PLANE_PAD)) + roundUp64(36 * (oc * cols * 4 + PLANE_PAD) + 64);
}

// --- filter transform ----------------------------------------------------------

/**
 * G times the column (a, b, e): its 6 rows stored step bytes apart from dst,
 * with the sums that rows 1-4 share written out (rows 3 and 4 as
 * (a/4 + e +- b/2) / 6 = a/24 +- b/12 + e/6).
 */
@inline function transformColumnG(a: v128, b: v128, e: v128, dst: usize, step: usize): void {
  const quarter = f32x4.mul(a, f32x4.splat(0.25));
  const ae = f32x4.add(a, e), minusSixth = f32x4.splat(<f32>(-1.0 / 6.0));
  const p = f32x4.add(quarter, e), q = f32x4.mul(b, f32x4.splat(0.5)), sixth = f32x4.splat(<f32>(1.0 / 6.0));
  v128.store(dst, quarter);
  v128.store(dst + step, f32x4.mul(f32x4.add(ae, b), minusSixth));
  v128.store(dst + 2 * step, f32x4.mul(f32x4.sub(ae, b), minusSixth));
  v128.store(dst + 3 * step, f32x4.mul(f32x4.add(p, q), sixth));
  v128.store(dst + 4 * step, f32x4.mul(f32x4.sub(p, q), sixth));
  v128.store(dst + 5 * step, e);
}

/** Tap t of the 4 filters at g0..g3. */
@inline function tap4(g0: usize, g1: usize, g2: usize, g3: usize, t: i32): v128 {
  const o = <usize>t << 2;
  return f32x4(load<f32>(g0 + o), load<f32>(g1 + o), load<f32>(g2 + o), load<f32>(g3 + o));
}

/**
 * G g G^T of the 4 filters (3x3 each) at g0..g3, one per lane: point xi =
 * 6 i + k at dst + xi * step. G g (6 x 3) goes through tmp (18 vectors).
 */
function transformFilters(g0: usize, g1: usize, g2: usize, g3: usize, dst: usize, step: usize, tmp: usize): void {
  for (let j = 0; j < 3; j++) {
    transformColumnG(tap4(g0, g1, g2, g3, j), tap4(g0, g1, g2, g3, 3 + j), tap4(g0, g1, g2, g3, 6 + j), tmp + <usize>j * 16, 48);
  }
  for (let i = 0; i < 6; i++) {
    const p = tmp + <usize>(i * 3) * 16;
    transformColumnG(v128.load(p), v128.load(p, 16), v128.load(p, 32), dst + <usize>(6 * i) * step, step);
  }
}

/**
 * U[xi] for every filter wt[o, ci] in gemmU's A layout (assembly/winograd.ts,
 * filterTransform): rows in groups of 4 interleaved per ci, then the last
 * oc % 4 rows plain. Four filters at a time: 4 output channels of one input
 * channel (one vector store per point), or for the last rows 4 input
 * channels of one output channel (contiguous too), a group past the last
 * input channel through spill, lane by lane.
 */
function filterTransform(wt: usize, oc: i32, c: i32, u: usize, plane: usize, tmp: usize, spill: usize): void {
  const oc4 = oc & ~3;
  const ld = <usize>(c * 36);
  for (let o = 0; o < oc4; o += 4) {
    for (let ci = 0; ci < c; ci++) {
      const g = wt + <usize>((o * c + ci) * 9) * 4;
      transformFilters(g, g + ld, g + 2 * ld, g + 3 * ld, u + <usize>(o * c + ci * 4) * 4, plane, tmp);
    }
  }
  for (let o = oc4; o < oc; o++) {
    for (let ci = 0; ci < c; ci += 4) {
      const lanes = min(4, c - ci);
      const g = wt + <usize>((o * c + ci) * 9) * 4;
      const dst = u + <usize>(o * c + ci) * 4;
      if (lanes == 4) {
        transformFilters(g, g + 36, g + 72, g + 108, dst, plane, tmp);
      } else {
        // Past the last input channel, lanes repeat filter ci (computed, not stored).
        transformFilters(g, lanes > 1 ? g + 36 : g, lanes > 2 ? g + 72 : g, g, spill, 16, tmp);
        for (let xi = 0; xi < 36; xi++) {
          for (let l = 0; l < lanes; l++) store<f32>(dst + <usize>xi * plane + (<usize>l << 2), load<f32>(spill + <usize>(xi * 16 + l * 4)));
        }
      }
    }
  }
}

// --- input transform -----------------------------------------------------------

/**
 * B^T's row applied along one row of the patch (d0..d5 of 4 tiles), the 6
 * results stored step bytes apart from dst. Written as sums that share
 * their differences: e0 = 4 d0 - 5 d2 + d4, ..., e5 = 4 d1 - 5 d3 + d5.
 */
@inline function transformRowB(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, dst: usize, step: usize): void {
  const four = f32x4.splat(4), two = f32x4.splat(2);
  const d42 = f32x4.sub(d4, d2);
  v128.store(dst, f32x4.add(d42, f32x4.mul(four, f32x4.sub(d0, d2))));
  v128.store(dst + step, f32x4.sub(f32x4.add(d3, d4), f32x4.mul(four, f32x4.add(d1, d2))));
  v128.store(dst + 2 * step, f32x4.add(f32x4.sub(d4, d3), f32x4.mul(four, f32x4.sub(d1, d2))));
  const t = f32x4.mul(two, f32x4.sub(d3, d1));
  v128.store(dst + 3 * step, f32x4.add(d42, t));
  v128.store(dst + 4 * step, f32x4.sub(d42, t));
  v128.store(dst + 5 * step, f32x4.add(f32x4.sub(d5, d3), f32x4.mul(four, f32x4.sub(d1, d3))));
}

/**
 * V = B^T d B for tile rows ty0 .. ty0+rows-1 of the padded image xp (all c
 * channels) as tiles t0, t0 + 1, ... of the block's packed panels at v (the
 * 36 planes vxi bytes apart). Four tiles at a time; a row's last group of
 * fewer tiles is computed whole (reading past the row into xp's finite
 * values or slack) and stored in place where its 4 lanes fit in one panel:
 * the extra lanes belong to later tiles of the block, which overwrite them,
 * or to columns past the block's tiles, which are ignored. The panel layout
 * is the filter gradient's too (assembly/winograd4-filter.ts).
 */
export function inputTransform(xp: usize, c: i32, hp: i32, wp: i32, tilesX: i32, ty0: i32, rows: i32,
  v: usize, vxi: usize, tmp: usize, spill: usize, t0: i32): void {
  const ldx = <usize>wp << 2;
  const panelBytes = <usize>c << 5;
  for (let ci = 0; ci < c; ci++) {
    for (let r = 0; r < rows; r++) {
      const rowBase = xp + <usize>((ci * hp + 4 * (ty0 + r)) * wp) * 4;
      for (let x = 0; x < tilesX; x += 4) {
        const j = t0 + r * tilesX + x;
        const inPlace = (j & 7) <= 4;
        const dst = inPlace ? v + <usize>(j >> 3) * panelBytes + (<usize>ci << 5) + (<usize>(j & 7) << 2) : spill;
        const step = inPlace ? vxi : 16;
        // Rows of d times B, into tmp[6 row + k].
        let q = rowBase + (<usize>x << 4);
        for (let row = 0; row < 6; row++) {
          const r0 = v128.load(q), r1 = v128.load(q, 16), r2 = v128.load(q, 32), r3 = v128.load(q, 48);
          const next = v128.load(q, 64);
          const s0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), s1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
          const s2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), s3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          const d0 = i32x4.shuffle(s0, s1, 0, 1, 4, 5), d1 = i32x4.shuffle(s0, s1, 2, 3, 6, 7);
          const d2 = i32x4.shuffle(s2, s3, 0, 1, 4, 5), d3 = i32x4.shuffle(s2, s3, 2, 3, 6, 7);
          const d4 = i32x4.shuffle(d0, next, 1, 2, 3, 4), d5 = i32x4.shuffle(d1, next, 1, 2, 3, 5);
          transformRowB(d0, d1, d2, d3, d4, d5, tmp + <usize>(row * 6) * 16, 16);
          q += ldx;
        }
        // Then B^T down each column k: V[6 i + k].
        for (let k = 0; k < 6; k++) {
          const p = tmp + <usize>k * 16;
          transformRowB(v128.load(p), v128.load(p, 96), v128.load(p, 192), v128.load(p, 288), v128.load(p, 384), v128.load(p, 480),
            dst + <usize>k * step, 6 * step);
        }
        if (!inPlace) {
          const count = min(4, tilesX - x);
          for (let l = 0; l < count; l++) {
            const jl = j + l;
            const d = v + <usize>(jl >> 3) * panelBytes + (<usize>ci << 5) + (<usize>(jl & 7) << 2);
            for (let xi = 0; xi < 36; xi++) store<f32>(d + <usize>xi * vxi, load<f32>(spill + <usize>(xi * 16 + l * 4)));
          }
        }
      }
    }
  }
}

// --- output transform ----------------------------------------------------------

// A^T's 4 rows applied to m0..m5, from the shared sums a = m1 + m2, b = m1 - m2,
// c = m3 + m4, d = m3 - m4: one formula each, for transformRowA and the
// output transform's second pass, which keeps its results in registers.
@inline function rowA0(m0: v128, a: v128, c: v128): v128 {
  return f32x4.add(f32x4.add(m0, a), c);
}
@inline function rowA1(b: v128, d: v128): v128 {
  return f32x4.add(b, f32x4.mul(d, f32x4.splat(2)));
}
@inline function rowA2(a: v128, c: v128): v128 {
  return f32x4.add(a, f32x4.mul(c, f32x4.splat(4)));
}
@inline function rowA3(b: v128, d: v128, m5: v128): v128 {
  return f32x4.add(f32x4.add(b, f32x4.mul(d, f32x4.splat(8))), m5);
}

/** A^T's rows applied to m0..m5: the 4 results step bytes apart from dst. */
@inline function transformRowA(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, step: usize): void {
  const a = f32x4.add(m1, m2), b = f32x4.sub(m1, m2), c = f32x4.add(m3, m4), d = f32x4.sub(m3, m4);
  v128.store(dst, rowA0(m0, a, c));
  v128.store(dst + step, rowA1(b, d));
  v128.store(dst + 2 * step, rowA2(a, c));
  v128.store(dst + 3 * step, rowA3(b, d, m5));
}

/**
 * Y = A^T M A for tiles t0 .. of the block (tile rows ty0 .. ty0+rows-1 of
 * one image), written into y [oc, oh, ow] with y = act(y * scale[o] +
 * shift[o] + res) where scale != 0.
 */
function outputTransform(m: usize, mxi: usize, ldm: usize, oc: i32, tilesX: i32, ty0: i32, rows: i32, t0: i32,
  y: usize, oh: i32, ow: i32, scale: usize, shift: usize, res: usize, relu: bool, tmp: usize): void {
  const affine = scale != 0;
  const ldy = <usize>ow << 2;
  for (let o = 0; o < oc; o++) {
    const s: f32 = affine ? load<f32>(scale + (<usize>o << 2)) : 1;
    const t: f32 = affine ? load<f32>(shift + (<usize>o << 2)) : 0;
    const sv = f32x4.splat(s), tv = f32x4.splat(t);
    const mo = m + <usize>o * ldm;
    const yo = <usize>(o * oh * ow) << 2;
    for (let r = 0; r < rows; r++) {
      const oy = 4 * (ty0 + r);
      const rowsOut = min(4, oh - oy);
      for (let x = 0; x < tilesX; x += 4) {
        const p = mo + (<usize>(t0 + r * tilesX + x) << 2);
        // (A^T M) A: down each column k of M first (S = A^T M into tmp[6 p + k]), then across
        // each needed row i of S, whose 4 results (y[i][0..3]) stay in registers for the
        // transpose: no round trip through memory between the second pass and the stores.
        for (let k = 0; k < 6; k++) {
          const pk = p + <usize>k * mxi;
          transformRowA(v128.load(pk), v128.load(pk + 6 * mxi), v128.load(pk + 12 * mxi), v128.load(pk + 18 * mxi),
            v128.load(pk + 24 * mxi), v128.load(pk + 30 * mxi), tmp + <usize>k * 16, 96);
        }
        // Output row oy + i: the 4 tiles' 4 pixels each, by a transpose of (y[i][0..3]).
        const ox = 4 * x;
        const full = ox + 16 <= ow;
        const count = min(4, tilesX - x);
        // An edge group's transposed row goes out through tmp[24 .. 28), past S.
        const pr = tmp + <usize>24 * 16;
        for (let i = 0; i < rowsOut; i++) {
          const ps = tmp + <usize>(6 * i) * 16;
          // transformRowA, its results kept in registers.
          const m1 = v128.load(ps, 16), m2 = v128.load(ps, 32), m3 = v128.load(ps, 48), m4 = v128.load(ps, 64);
          const a = f32x4.add(m1, m2), b = f32x4.sub(m1, m2), c = f32x4.add(m3, m4), d = f32x4.sub(m3, m4);
          const r0 = rowA0(v128.load(ps), a, c), r1 = rowA1(b, d), r2 = rowA2(a, c), r3 = rowA3(b, d, v128.load(ps, 80));
          const s0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), s1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
          const s2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), s3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          const off = yo + <usize>((oy + i) * ow + ox) * 4;
          let v0 = i32x4.shuffle(s0, s1, 0, 1, 4, 5), v1 = i32x4.shuffle(s0, s1, 2, 3, 6, 7);
          let v2 = i32x4.shuffle(s2, s3, 0, 1, 4, 5), v3 = i32x4.shuffle(s2, s3, 2, 3, 6, 7);
          if (full) {
            if (affine) {
              const rp = res != 0 ? res + off : 0;
              v0 = epilogue4(v0, sv, tv, rp, relu);
              v1 = epilogue4(v1, sv, tv, rp != 0 ? rp + 16 : 0, relu);
              v2 = epilogue4(v2, sv, tv, rp != 0 ? rp + 32 : 0, relu);
              v3 = epilogue4(v3, sv, tv, rp != 0 ? rp + 48 : 0, relu);
            }
            const dst = y + off;
            v128.store(dst, v0); v128.store(dst, v1, 16); v128.store(dst, v2, 32); v128.store(dst, v3, 48);
          } else {
            // An edge group: fewer than 4 tiles, or the last cut by the right edge. Whole tiles
            // still go out as vectors (an image 8 wide has only such groups of 2).
            v128.store(pr, v0); v128.store(pr, v1, 16); v128.store(pr, v2, 32); v128.store(pr, v3, 48);
            for (let l = 0; l < count; l++) {
              const e0 = off + (<usize>l << 4), src = pr + (<usize>l << 4);
              const px = ox + 4 * l;
              if (px + 4 <= ow) {
                let vl = v128.load(src);
                if (affine) vl = epilogue4(vl, sv, tv, res != 0 ? res + e0 : 0, relu);
                v128.store(y + e0, vl);
                continue;
              }
              for (let cc = 0; cc < ow - px; cc++) {
                const e = e0 + (<usize>cc << 2);
                const val = load<f32>(src + (<usize>cc << 2));
                store<f32>(y + e, affine ? epilogue1(val, s, t, res != 0 ? res + e : 0, relu) : val);
              }
            }
          }
        }
      }
    }
  }
}

// --- the kernel ------------------------------------------------------------------

/**
 * U of the filters wt [oc, c, 3, 3] into u (winograd4UBytes(c, oc) bytes), as
 * winograd4Forward computes it. work: TMP_BYTES + SPILL4_BYTES at least
 * (winograd4Bytes gives more).
 */
export function winograd4TransformFilter(wt: usize, oc: i32, c: i32, u: usize, work: usize): void {
  filterTransform(wt, oc, c, u, (<usize>(oc * c) << 2) + PLANE_PAD, work, work + TMP_BYTES);
}

/**
 * y [n, oc, h, w] = conv(x [n, c, h, w], wt [oc, c, 3, 3]), stride 1, padding
 * 1; where scale != 0, then y = act(y * scale[o] + shift[o] + res) (res
 * [n, oc, h, w] or 0, act = ReLU where relu): winogradForward's contract.
 * work: winograd4Bytes(c, h, w, oc) bytes. Overwrites y.
 */
export function winograd4Forward(x: usize, wt: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  work: usize, scale: usize, shift: usize, res: usize, relu: bool): void {
  const u = work + TMP_BYTES + SPILL4_BYTES;
  winograd4TransformFilter(wt, oc, c, u, work);
  winograd4ForwardU(x, u, y, n, c, h, w, oc, work, scale, shift, res, relu);
}

/**
 * winograd4Forward with the filters already transformed: u as
 * winograd4TransformFilter wrote it (read only, so threads can share it).
 * work: winograd4Bytes(c, h, w, oc) bytes (its U part is left alone when u
 * lies elsewhere).
 */
export function winograd4ForwardU(x: usize, u: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  work: usize, scale: usize, shift: usize, res: usize, relu: bool): void {
  const tilesX = (w + 3) >> 2, tilesY = (h + 3) >> 2;
  const tiles = tilesX * tilesY;
  const R = blockRows(tilesX, tilesY, c), images = imagesPerBlock(tilesX, tilesY, c);
  const cols = roundUp8(images * R * tilesX);
  const hp = 4 * tilesY + 2, wp = 4 * tilesX + 2;
  const tmp = work;
  const spill = tmp + TMP_BYTES;
  const uxi = (<usize>(oc * c) << 2) + PLANE_PAD;
  const xp = spill + SPILL4_BYTES + <usize>winograd4UBytes(c, oc);
  const xpImage = <usize>(c * hp * wp) << 2;
  const v = xp + <usize>roundUp64((images * c * hp * wp + 32) * 4);
  const vxi = (<usize>(c * cols) << 2) + PLANE_PAD;
  const m = v + <usize>roundUp64(36 * <i32>vxi);
  const ldm = <usize>cols << 2;
  const mxi = <usize>oc * ldm + PLANE_PAD;

  // Borders and slack stay zero (each image overwrites only the interior);
  // lanes of V past a block's tiles, never written or written with finite
  // garbage, cannot hold NaNs or denormals from earlier use of the workspace.
  zeroF32(xp, min(images, n) * c * hp * wp + 32);
  zeroF32(v, 9 * <i32>vxi);
  const P = h * w;
  for (let b0 = 0; b0 < n; b0 += images) {
    const nb = min(images, n - b0);
    for (let i = 0; i < nb; i++) padImage(x + <usize>((b0 + i) * c * P) * 4, c, h, w, hp, wp, xp + <usize>i * xpImage);
    for (let ty0 = 0; ty0 < tilesY; ty0 += R) {
      const rows = min(R, tilesY - ty0);
      for (let i = 0; i < nb; i++) inputTransform(xp + <usize>i * xpImage, c, hp, wp, tilesX, ty0, rows, v, vxi, tmp, spill, i * tiles);
      const count = nb * rows * tilesX;
      for (let xi = 0; xi < 36; xi++) {
        gemmU(oc, count, c, u + <usize>xi * uxi, v + <usize>xi * vxi, m + <usize>xi * mxi, ldm);
      }
      for (let i = 0; i < nb; i++) {
        const b = b0 + i;
        outputTransform(m, mxi, ldm, oc, tilesX, ty0, rows, i * tiles, y + <usize>(b * oc * P) * 4, h, w,
          scale, shift, res != 0 ? res + <usize>(b * oc * P) * 4 : 0, relu, tmp);
      }
    }
  }
}
