// Winograd F(2x2, 3x3) convolution (Lavin & Gray, "Fast algorithms for
// convolutional neural networks", CVPR 2016) for 3x3 filters at stride 1 with
// one pixel of zero padding on each side, NCHW. Each 2x2 block of outputs
// ("tile") is computed from the 4x4 input patch d under it as
//
//   Y = A^T [ (G g G^T) . (B^T d B) ] A          (. = elementwise, per (oc, c), summed over c)
//
// which costs 16 multiplies per (tile, oc, c) instead of the direct 36: the
// sum over c of the elementwise products is, for each of the 16 transform
// points xi, a GEMM  M[xi] (oc x tiles) = U[xi] (oc x c) * V[xi] (c x tiles).
//
// Per image, in blocks of whole tile rows (about TILES_PER_BLOCK tiles, so
// that V and M of a block stay in L1/L2 between the three steps):
//   1. input transform  V = B^T d B of every tile of the block, all channels;
//   2. 16 GEMMs on assembly/gemm.ts's 4 x 8 register tile (a local copy,
//      gemmU, that reads A packed by the filter transform);
//   3. output transform Y = A^T M A, writing the 2x2 (or, at an odd right or
//      bottom edge, partial) outputs, with the inference epilogue
//      (y * scale + shift + residual, ReLU) applied on the way out, so the
//      fusion of conv2dForwardAffine stays one pass.
// The filter transform U = G g G^T is done once per call, or once for all
// calls where the caller keeps U (winogradTransformFilter, then
// winogradForwardU: assembly/conv.ts's prepared-filter forward, which
// inference plans use; bench/RESULTS.md "Inference plans").
//
// Workspace layout (byte offsets from work, each part 64-byte aligned; the
// 16 planes of U, V and M are PLANE_PAD bytes longer than their contents):
//   spill    256                 one tile group's 16 vectors when it cannot be
//                                stored in place (edges, panel straddles)
//   U        [16][oc/4][c][4]    per xi, the GEMM's A with rows in groups of
//            (+ [oc%4][c])       4 interleaved per ci, then the last oc % 4
//                                rows plain: row o starts at o * c floats
//   xp       [c][hp][wp] + 16    the image, zero-padded to hp = 2*tilesY + 2
//                                rows and wp = 2*tilesX + 2 columns (one
//                                extra zero row/column where h/w is odd),
//                                plus slack for the last group's wide loads
//   V        [16][nPanels][c][8] per xi, a ready packed B block (gemm.ts's
//                                panel layout): tile j of the block is lane
//                                j % 8 of panel j / 8, so no pack pass
//   M        [16][oc][ldm] + 16  ldm = nPanels * 8 columns, row-major C
// Lanes of V past a block's last tile are zeroed once per call and never
// written; their M columns are computed and ignored (GEMM columns are
// independent, so they do not disturb the real ones).
//
// Transforms (F(2,3), the paper's eq. 7):
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
// Both data transforms run on f32x4 vectors of 4 horizontally adjacent
// tiles: the tiles are 2 pixels apart, so the four values of one tile
// column are a stride-2 gather, made from two loads and one shuffle (as in
// assembly/conv.ts's im2colPanel at stride 2).
//
// Numerics: F(2,3) in float32 rounds differently from the direct sum: inputs
// enter V as sums and differences of up to 4 pixels, and 9 entries of M are
// combined per output, so cancellation can cost a few ulps of the largest
// input in a tile. Against float64, on the kernel tests' inputs in [-1, 1),
// its worst error was 0.6-0.9 % of the tests' tolerance, the direct conv's
// 0.9-1.5 % (its 16 sums over c are 9x shorter than the direct one over
// c * 9). Non-finite inputs spread to the whole 2x2 tile (0 * Inf).
//
// Everything is per image, and each output depends only on its own image, so
// any split of the batch over threads gives the same bits.
//
// assembly/winograd-filter.ts reuses the input transform (and padImage) for
// the backward filter, Winograd F(3x3, 2x2) with the same points.
//
// Reference: src/backend/reference/kernels/conv.ts (conv2dForwardRef,
// conv2dForwardAffineRef); test/kernels/winograd.test.ts.
import { madd, transpose4x4Store } from './simd';

/**
 * Tiles per block: whole tile rows up to at least this many tiles. 16 keeps
 * V and M of a 16-channel block at 16 KiB each; 8, 24 and 32 measured the
 * same within the noise (bench/RESULTS.md).
 */
const TILES_PER_BLOCK: i32 = 16;
/**
 * Bytes added to the stride between the 16 planes of U, V and M. Unpadded,
 * the strides are multiples of 4 KiB at 16-64 channels and the 16 stores (or
 * loads) of one tile group all fall in one L1 set; padding V and M made
 * 64->64 @8x8 (batch 64) 17 % faster, padding U the batch-1 call 1.7x faster.
 */
export const PLANE_PAD: i32 = 64;
/** Bytes of the spill area: 16 vectors. */
export const SPILL_BYTES: i32 = 256;

@inline export function roundUp64(bytes: i32): i32 {
  return (bytes + 63) & ~63;
}

@inline export function roundUp8(x: i32): i32 {
  return (x + 7) & ~7;
}

/** Tile rows per block for an image tilesX tiles wide and tilesY tall. */
@inline function blockRows(tilesX: i32, tilesY: i32): i32 {
  return min(tilesY, max(1, (TILES_PER_BLOCK + tilesX - 1) / tilesX));
}

/**
 * Which convolutions forward() runs with Winograd: 0 none, 1 those where it
 * measured faster (the default), 2 every one it can do. Benches build the
 * other modes with asc --use WINOGRAD_MODE=0|2 to A/B both paths through the
 * same exports.
 */
// @ts-expect-error: an optional compile-time constant
export const MODE: i32 = isDefined(WINOGRAD_MODE) ? WINOGRAD_MODE : 1;

/**
 * Whether forward() takes a Winograd path for this geometry (F(4,3) where
 * assembly/winograd4.ts's winograd4Applies says so, else F(2,3)): 3x3, stride
 * 1, padding 1 on both axes, and (MODE 1) where it won the A/B of
 * bench/winograd.bench.ts (bench/RESULTS.md, "Winograd F(2,3)"):
 * - c >= 8 and oc >= 8: below, the GEMMs' depth c is too short to pay for
 *   the transforms (4->4 0.76x, 4->8 0.90x, 8->4 0.93x, 3->16 0.95x;
 *   8->8 1.16x);
 * - h, w >= 2 and at least 2 tiles: a single row or column wastes half of
 *   every 2x2 tile (1x32 0.70x) and one tile fills 1/8 of a GEMM panel
 *   (2x2 0.9x; 3x3 1.17x).
 * Depends on one image's geometry only, never the batch size, so that
 * threads given different numbers of images choose alike.
 */
export function winogradApplies(c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, padH: i32, padW: i32): bool {
  if (kh != 3 || kw != 3 || stride != 1 || padH != 1 || padW != 1 || MODE == 0) return false;
  if (MODE == 2) return true;
  return c >= 8 && oc >= 8 && h >= 2 && w >= 2 && h * w > 4;
}

/** Bytes of U (16 planes, PLANE_PAD apart) for oc x c filters: winogradTransformFilter's output. */
export function winogradUBytes(c: i32, oc: i32): i32 {
  return roundUp64(16 * (oc * c * 4 + PLANE_PAD));
}

/** Scratch bytes of winogradForward for one image geometry (the batch size does not matter). */
export function winogradBytes(c: i32, h: i32, w: i32, oc: i32): i32 {
  const tilesX = (w + 1) >> 1, tilesY = (h + 1) >> 1;
  const cols = roundUp8(blockRows(tilesX, tilesY) * tilesX);
  const hp = 2 * tilesY + 2, wp = 2 * tilesX + 2;
  return SPILL_BYTES + winogradUBytes(c, oc) + roundUp64((c * hp * wp + 16) * 4) +
    roundUp64(16 * (c * cols * 4 + PLANE_PAD)) + roundUp64(16 * (oc * cols * 4 + PLANE_PAD) + 64);
}

// --- filter transform ----------------------------------------------------------

/** G g G^T's row combination: (a + b + e) / 2 and (a - b + e) / 2 (halving is exact). */
@inline function gPlus(a: v128, b: v128, e: v128): v128 {
  return f32x4.mul(f32x4.add(f32x4.add(a, b), e), f32x4.splat(0.5));
}

@inline function gMinus(a: v128, b: v128, e: v128): v128 {
  return f32x4.mul(f32x4.add(f32x4.sub(a, b), e), f32x4.splat(0.5));
}

/** Tap t of 4 filters ld bytes apart from g (a strided gather). */
@inline function tap(g: usize, ld: usize, t: i32): v128 {
  const p = g + (<usize>t << 2);
  return f32x4(load<f32>(p), load<f32>(p + ld), load<f32>(p + 2 * ld), load<f32>(p + 3 * ld));
}

/**
 * Row r of G g (its taps a, b, e) times G^T: U planes 4r .. 4r+3 (plane
 * bytes apart) at dst.
 */
@inline function storeURow(dst: usize, plane: usize, a: v128, b: v128, e: v128): void {
  v128.store(dst, a);
  v128.store(dst + plane, gPlus(a, b, e));
  v128.store(dst + 2 * plane, gMinus(a, b, e));
  v128.store(dst + 3 * plane, e);
}

/**
 * U[xi] = (G g G^T)[xi / 4][xi % 4] for every filter g = wt[o, ci] (3 x 3), in
 * the GEMM's A layout (see gemmU): each plane (plane bytes apart) holds the
 * rows o in groups of 4, interleaved per ci ([oc / 4][c][4]), then the
 * oc % 4 last rows one after another ([c] each). Row o always starts at
 * byte o * c * 4. Four output channels at a time; at batch 1 this costs
 * about as much as a few images, so it is vectorised too.
 */
function filterTransform(wt: usize, oc: i32, c: i32, u: usize, plane: usize): void {
  const oc4 = oc & ~3;
  const ld = <usize>(c * 36);
  for (let o = 0; o < oc4; o += 4) {
    for (let ci = 0; ci < c; ci++) {
      const g = wt + <usize>((o * c + ci) * 9) * 4;
      const dst = u + <usize>(o * c + ci * 4) * 4;
      const g00 = tap(g, ld, 0), g01 = tap(g, ld, 1), g02 = tap(g, ld, 2);
      const g20 = tap(g, ld, 6), g21 = tap(g, ld, 7), g22 = tap(g, ld, 8);
      storeURow(dst, plane, g00, g01, g02);
      storeURow(dst + 12 * plane, plane, g20, g21, g22);
      const g10 = tap(g, ld, 3), g11 = tap(g, ld, 4), g12 = tap(g, ld, 5);
      storeURow(dst + 4 * plane, plane, gPlus(g00, g10, g20), gPlus(g01, g11, g21), gPlus(g02, g12, g22));
      storeURow(dst + 8 * plane, plane, gMinus(g00, g10, g20), gMinus(g01, g11, g21), gMinus(g02, g12, g22));
    }
  }
  // The last oc % 4 rows: the same f32 operations, one filter at a time.
  for (let f = oc4 * c; f < oc * c; f++) {
    const g = wt + <usize>(f * 9) * 4;
    const dst = u + (<usize>f << 2);
    for (let r = 0; r < 4; r++) {
      let a: f32, b: f32, e: f32;
      if (r == 0 || r == 3) {
        const q = g + <usize>(r == 0 ? 0 : 24);
        a = load<f32>(q); b = load<f32>(q, 4); e = load<f32>(q, 8);
      } else {
        const sgn: f32 = r == 1 ? 1 : -1;
        a = (load<f32>(g) + sgn * load<f32>(g, 12) + load<f32>(g, 24)) * 0.5;
        b = (load<f32>(g, 4) + sgn * load<f32>(g, 16) + load<f32>(g, 28)) * 0.5;
        e = (load<f32>(g, 8) + sgn * load<f32>(g, 20) + load<f32>(g, 32)) * 0.5;
      }
      const row = dst + <usize>(4 * r) * plane;
      store<f32>(row, a);
      store<f32>(row + plane, (a + b + e) * 0.5);
      store<f32>(row + 2 * plane, (a - b + e) * 0.5);
      store<f32>(row + 3 * plane, e);
    }
  }
}

// --- the 16 GEMMs ----------------------------------------------------------------

/**
 * M[0..4, 0..8) = A * P for 4 rows of A packed [kc][4] at a and a packed
 * kc x 8 panel P at p: assembly/gemm.ts's 4 x 8 tile, with A packed so that
 * one pointer (immediate offsets) walks it, and no alpha/beta. The depth kc
 * is only c (16 at ResNet's first stage), so the loop's bookkeeping counts:
 * with gemm.ts's gemmPacked reading U row-major in place (4 row pointers),
 * 16->16 @32x32 ran 1.32x the direct conv, with this 1.46x (bench/RESULTS.md).
 */
@inline function kernel4x8(kc: i32, a: usize, p: usize, m: usize, ldm: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = p + (<usize>kc << 5);
  do {
    const b0 = v128.load(p), b1 = v128.load(p, 16);
    let s = v128.load32_splat(a);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a, 4);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a, 8);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a, 12);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a += 16; p += 32;
  } while (p < end);
  v128.store(m, c00); v128.store(m, c01, 16); m += ldm;
  v128.store(m, c10); v128.store(m, c11, 16); m += ldm;
  v128.store(m, c20); v128.store(m, c21, 16); m += ldm;
  v128.store(m, c30); v128.store(m, c31, 16);
}

/** One row of A (kc contiguous floats at a): the oc % 4 leftover rows. */
function kernel1x8(kc: i32, a: usize, p: usize, m: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const end = p + (<usize>kc << 5);
  do {
    const s = v128.load32_splat(a);
    c0 = madd(s, v128.load(p), c0);
    c1 = madd(s, v128.load(p, 16), c1);
    a += 4; p += 32;
  } while (p < end);
  v128.store(m, c0); v128.store(m, c1, 16);
}

/**
 * M[o .. o+8, 4 columns] = U * V for a panel with at most 4 live columns
 * (one 8x8 image's 4 F(4,3) tiles): 8 output channels as two vectors of U
 * (its [oc / 4][c][4] layout) times each column of V broadcast, 8
 * accumulators, so no work on the panel's 4 empty lanes. Each M entry is
 * the same sum of the same products in the same order as kernel4x8's (the
 * factors of each madd exchanged), so the same bits. The accumulators hold
 * columns; a 4x4 transpose stores them as rows.
 */
@inline function kernel8x4(kc: i32, a: usize, a4: usize, p: usize, m: usize, ldm: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = p + (<usize>kc << 5);
  do {
    const u0 = v128.load(a), u1 = v128.load(a4);
    let s = v128.load32_splat(p);
    c00 = madd(u0, s, c00); c01 = madd(u1, s, c01);
    s = v128.load32_splat(p, 4);
    c10 = madd(u0, s, c10); c11 = madd(u1, s, c11);
    s = v128.load32_splat(p, 8);
    c20 = madd(u0, s, c20); c21 = madd(u1, s, c21);
    s = v128.load32_splat(p, 12);
    c30 = madd(u0, s, c30); c31 = madd(u1, s, c31);
    a += 16; a4 += 16; p += 32;
  } while (p < end);
  transpose4x4Store(c00, c10, c20, c30, m, ldm);
  transpose4x4Store(c01, c11, c21, c31, m + 4 * ldm, ldm);
}

/**
 * M (oc x count, rows ldm bytes apart) = U (oc x c, filterTransform's layout)
 * * V (c x count in packed 8-column panels, lanes past count finite); c >= 1.
 * A last panel of at most 4 columns takes kernel8x4 where oc is a multiple
 * of 8; elsewhere whole panels are computed (M has room for them).
 */
export function gemmU(oc: i32, count: i32, c: i32, u: usize, v: usize, m: usize, ldm: usize): void {
  const oc4 = oc & ~3;
  const panelBytes = <usize>c << 5, rowBytes = <usize>c << 2;
  for (let j0 = 0; j0 < count; j0 += 8) {
    const p = v + <usize>(j0 >> 3) * panelBytes;
    const mj = m + (<usize>j0 << 2);
    let o = 0;
    if (count - j0 <= 4 && (oc & 7) == 0) {
      for (; o < oc; o += 8) {
        const a = u + <usize>o * rowBytes;
        kernel8x4(c, a, a + 4 * rowBytes, p, mj + <usize>o * ldm, ldm);
      }
      continue;
    }
    for (; o < oc4; o += 4) kernel4x8(c, u + <usize>o * rowBytes, p, mj + <usize>o * ldm, ldm);
    for (; o < oc; o++) kernel1x8(c, u + <usize>o * rowBytes, p, mj + <usize>o * ldm);
  }
}

// --- input transform -----------------------------------------------------------

/** Zeroes count floats at dst. */
export function zeroF32(dst: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(dst + (<usize>i << 2), f32x4.splat(0));
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), 0);
}

/** Copies image x [c, h, w] into the interior (from row 1, column 1) of xp [c, hp, wp]. */
export function padImage(x: usize, c: i32, h: i32, w: i32, hp: i32, wp: i32, xp: usize): void {
  for (let ci = 0; ci < c; ci++) {
    for (let iy = 0; iy < h; iy++) {
      const dst = xp + <usize>((ci * hp + iy + 1) * wp + 1) * 4;
      const src = x + <usize>((ci * h + iy) * w) * 4;
      let i = 0;
      for (; i + 4 <= w; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
      for (; i < w; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
    }
  }
}

/** Columns 2x, 2x+2, 2x+4, 2x+6 of the 8 floats at a, b (the stride-2 gather of 4 tiles' column 0 or 2). */
@inline function evens(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 0, 2, 4, 6);
}

/** The odd columns of the 8 floats at a, b (column 1 or 3 of 4 tiles). */
@inline function odds(a: v128, b: v128): v128 {
  return i32x4.shuffle(a, b, 1, 3, 5, 7);
}

/**
 * V = B^T d B for tile rows ty0 .. ty0+rows-1 of the padded image xp, all c
 * channels, into the block's packed panels at v (xi planes vxi bytes apart),
 * as tiles t0, t0 + 1, ... of the block (the forward starts each block at
 * 0; the backward filter packs the tiles of several images densely).
 * Where overrun, a row's last group of fewer than 4 tiles is stored whole
 * when it fits in its panel: its extra lanes (finite values of xp) belong
 * to later tiles, which overwrite them, or are zeroed by the caller.
 */
export function inputTransform(xp: usize, c: i32, hp: i32, wp: i32, tilesX: i32, ty0: i32, rows: i32,
  v: usize, vxi: usize, spill: usize, t0: i32 = 0, overrun: bool = false): void {
  const ldx = <usize>wp << 2;
  const panelBytes = <usize>c << 5;
  for (let ci = 0; ci < c; ci++) {
    for (let r = 0; r < rows; r++) {
      const rowBase = xp + <usize>((ci * hp + 2 * (ty0 + r)) * wp) * 4;
      for (let x = 0; x < tilesX; x += 4) {
        const j = t0 + r * tilesX + x;
        const q0 = rowBase + (<usize>x << 3), q1 = q0 + ldx, q2 = q1 + ldx, q3 = q2 + ldx;
        const inPlace = (overrun || x + 4 <= tilesX) && (j & 7) <= 4;
        const dst = inPlace ? v + <usize>(j >> 3) * panelBytes + (<usize>ci << 5) + (<usize>(j & 7) << 2) : spill;
        const step = inPlace ? vxi : 16;
        // Each row of d times B (d B: columns c0 - c2, c1 + c2, c2 - c1, c1 - c3), then B^T
        // down the columns (rows 1 = d1 + d2, 2 = d2 - d1, 0 = d0 - d2, 3 = d1 - d3). Rows 1
        // and 2 first, so that at most two rows of d B (8 vectors) are live at a time.
        let a = v128.load(q1), b = v128.load(q1, 16), a2 = v128.load(q1, 8), b2 = v128.load(q1, 24);
        let c0 = evens(a, b), c1 = odds(a, b), c2 = evens(a2, b2), c3 = odds(a2, b2);
        const e10 = f32x4.sub(c0, c2), e11 = f32x4.add(c1, c2), e12 = f32x4.sub(c2, c1), e13 = f32x4.sub(c1, c3);
        a = v128.load(q2); b = v128.load(q2, 16); a2 = v128.load(q2, 8); b2 = v128.load(q2, 24);
        c0 = evens(a, b); c1 = odds(a, b); c2 = evens(a2, b2); c3 = odds(a2, b2);
        const e20 = f32x4.sub(c0, c2), e21 = f32x4.add(c1, c2), e22 = f32x4.sub(c2, c1), e23 = f32x4.sub(c1, c3);
        v128.store(dst + 4 * step, f32x4.add(e10, e20));
        v128.store(dst + 5 * step, f32x4.add(e11, e21));
        v128.store(dst + 6 * step, f32x4.add(e12, e22));
        v128.store(dst + 7 * step, f32x4.add(e13, e23));
        v128.store(dst + 8 * step, f32x4.sub(e20, e10));
        v128.store(dst + 9 * step, f32x4.sub(e21, e11));
        v128.store(dst + 10 * step, f32x4.sub(e22, e12));
        v128.store(dst + 11 * step, f32x4.sub(e23, e13));
        a = v128.load(q0); b = v128.load(q0, 16); a2 = v128.load(q0, 8); b2 = v128.load(q0, 24);
        c0 = evens(a, b); c1 = odds(a, b); c2 = evens(a2, b2); c3 = odds(a2, b2);
        v128.store(dst, f32x4.sub(f32x4.sub(c0, c2), e20));
        v128.store(dst + step, f32x4.sub(f32x4.add(c1, c2), e21));
        v128.store(dst + 2 * step, f32x4.sub(f32x4.sub(c2, c1), e22));
        v128.store(dst + 3 * step, f32x4.sub(f32x4.sub(c1, c3), e23));
        a = v128.load(q3); b = v128.load(q3, 16); a2 = v128.load(q3, 8); b2 = v128.load(q3, 24);
        c0 = evens(a, b); c1 = odds(a, b); c2 = evens(a2, b2); c3 = odds(a2, b2);
        v128.store(dst + 12 * step, f32x4.sub(e10, f32x4.sub(c0, c2)));
        v128.store(dst + 13 * step, f32x4.sub(e11, f32x4.add(c1, c2)));
        v128.store(dst + 14 * step, f32x4.sub(e12, f32x4.sub(c2, c1)));
        v128.store(dst + 15 * step, f32x4.sub(e13, f32x4.sub(c1, c3)));
        if (!inPlace) {
          const count = min(4, tilesX - x);
          for (let l = 0; l < count; l++) {
            const jl = j + l;
            const d = v + <usize>(jl >> 3) * panelBytes + (<usize>ci << 5) + (<usize>(jl & 7) << 2);
            for (let xi = 0; xi < 16; xi++) {
              store<f32>(d + <usize>xi * vxi, load<f32>(spill + <usize>(xi * 16 + l * 4)));
            }
          }
        }
      }
    }
  }
}

// --- output transform ----------------------------------------------------------

/** y * s + t (+ the residual), then max(y, 0) where relu: affineEpilogue's vector step. */
@inline export function epilogue4(v: v128, sv: v128, tv: v128, rp: usize, relu: bool): v128 {
  v = madd(v, sv, tv);
  if (rp != 0) v = f32x4.add(v, v128.load(rp));
  if (relu) v = f32x4.max(v, f32x4.splat(0));
  return v;
}

/** epilogue4 for one value (at an edge): y * s + t (+ the residual at rp), then max(y, 0) where relu. */
@inline export function epilogue1(v: f32, s: f32, t: f32, rp: usize, relu: bool): f32 {
  v = v * s + t;
  if (rp != 0) v += load<f32>(rp);
  if (relu) v = max<f32>(v, 0);
  return v;
}

/**
 * Y = A^T M A for the block's tiles, written into y [oc, oh, ow] (one image),
 * with y = act(y * scale[o] + shift[o] + res) where scale != 0.
 */
function outputTransform(m: usize, mxi: usize, ldm: usize, oc: i32, tilesX: i32, ty0: i32, rows: i32,
  y: usize, oh: i32, ow: i32, scale: usize, shift: usize, res: usize, relu: bool, spill: usize): void {
  const affine = scale != 0;
  const ldy = <usize>ow << 2;
  for (let o = 0; o < oc; o++) {
    const s: f32 = affine ? load<f32>(scale + (<usize>o << 2)) : 1;
    const t: f32 = affine ? load<f32>(shift + (<usize>o << 2)) : 0;
    const sv = f32x4.splat(s), tv = f32x4.splat(t);
    const mo = m + <usize>o * ldm;
    const yo = <usize>(o * oh * ow) << 2;
    for (let r = 0; r < rows; r++) {
      const oy = 2 * (ty0 + r);
      for (let x = 0; x < tilesX; x += 4) {
        const p = mo + (<usize>(r * tilesX + x) << 2);
        // A^T M: rows 0+1+2 and 1-2-3 of M, column by column; then times A across.
        let m0 = v128.load(p), m1 = v128.load(p + 4 * mxi), m2 = v128.load(p + 8 * mxi), m3 = v128.load(p + 12 * mxi);
        const s00 = f32x4.add(f32x4.add(m0, m1), m2), s10 = f32x4.sub(f32x4.sub(m1, m2), m3);
        m0 = v128.load(p + mxi); m1 = v128.load(p + 5 * mxi); m2 = v128.load(p + 9 * mxi); m3 = v128.load(p + 13 * mxi);
        const s01 = f32x4.add(f32x4.add(m0, m1), m2), s11 = f32x4.sub(f32x4.sub(m1, m2), m3);
        m0 = v128.load(p + 2 * mxi); m1 = v128.load(p + 6 * mxi); m2 = v128.load(p + 10 * mxi); m3 = v128.load(p + 14 * mxi);
        const s02 = f32x4.add(f32x4.add(m0, m1), m2), s12 = f32x4.sub(f32x4.sub(m1, m2), m3);
        m0 = v128.load(p + 3 * mxi); m1 = v128.load(p + 7 * mxi); m2 = v128.load(p + 11 * mxi); m3 = v128.load(p + 15 * mxi);
        const s03 = f32x4.add(f32x4.add(m0, m1), m2), s13 = f32x4.sub(f32x4.sub(m1, m2), m3);
        const y00 = f32x4.add(f32x4.add(s00, s01), s02), y01 = f32x4.sub(f32x4.sub(s01, s02), s03);
        const y10 = f32x4.add(f32x4.add(s10, s11), s12), y11 = f32x4.sub(f32x4.sub(s11, s12), s13);
        // Output rows oy and oy + 1, pixels 2x .. 2x+7: the tiles' pairs interleaved.
        let a0 = i32x4.shuffle(y00, y01, 0, 4, 1, 5), a1 = i32x4.shuffle(y00, y01, 2, 6, 3, 7);
        let b0 = i32x4.shuffle(y10, y11, 0, 4, 1, 5), b1 = i32x4.shuffle(y10, y11, 2, 6, 3, 7);
        const off = yo + <usize>(oy * ow + 2 * x) * 4;
        if (2 * x + 8 <= ow && oy + 2 <= oh) {
          const q = y + off;
          if (affine) {
            const rp = res != 0 ? res + off : 0;
            a0 = epilogue4(a0, sv, tv, rp, relu);
            a1 = epilogue4(a1, sv, tv, rp != 0 ? rp + 16 : 0, relu);
            b0 = epilogue4(b0, sv, tv, rp != 0 ? rp + ldy : 0, relu);
            b1 = epilogue4(b1, sv, tv, rp != 0 ? rp + ldy + 16 : 0, relu);
          }
          v128.store(q, a0); v128.store(q, a1, 16);
          v128.store(q + ldy, b0); v128.store(q + ldy, b1, 16);
        } else {
          // An edge group: fewer than 4 tiles, or a tile cut by the right or bottom edge.
          v128.store(spill, a0); v128.store(spill, a1, 16);
          v128.store(spill, b0, 32); v128.store(spill, b1, 48);
          const cols = min(8, ow - 2 * x), rowsOut = min(2, oh - oy);
          for (let rr = 0; rr < rowsOut; rr++) {
            for (let cc = 0; cc < cols; cc++) {
              const e = off + <usize>(rr * ow + cc) * 4;
              const val = load<f32>(spill + <usize>(rr * 8 + cc) * 4);
              store<f32>(y + e, affine ? epilogue1(val, s, t, res != 0 ? res + e : 0, relu) : val);
            }
          }
        }
      }
    }
  }
}

// --- the kernel ------------------------------------------------------------------

/** U of the filters wt [oc, c, 3, 3] into u (winogradUBytes(c, oc) bytes), as winogradForward computes it. */
export function winogradTransformFilter(wt: usize, oc: i32, c: i32, u: usize): void {
  filterTransform(wt, oc, c, u, (<usize>(oc * c) << 2) + PLANE_PAD);
}

/**
 * y [n, oc, h, w] = conv(x [n, c, h, w], wt [oc, c, 3, 3]), stride 1, padding
 * 1; where scale != 0, then y = act(y * scale[o] + shift[o] + res) as in
 * assembly/conv.ts's affineEpilogue (res [n, oc, h, w] or 0, act = ReLU where
 * relu). work: winogradBytes(c, h, w, oc) bytes. Overwrites y.
 */
export function winogradForward(x: usize, wt: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  work: usize, scale: usize, shift: usize, res: usize, relu: bool): void {
  const u = work + SPILL_BYTES;
  winogradTransformFilter(wt, oc, c, u);
  winogradForwardU(x, u, y, n, c, h, w, oc, work, scale, shift, res, relu);
}

/**
 * winogradForward with the filters already transformed: u as
 * winogradTransformFilter wrote it (read only, so threads can share it).
 * work: winogradBytes(c, h, w, oc) bytes (its U part is left alone when u
 * lies elsewhere).
 */
export function winogradForwardU(x: usize, u: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  work: usize, scale: usize, shift: usize, res: usize, relu: bool): void {
  const tilesX = (w + 1) >> 1, tilesY = (h + 1) >> 1;
  const R = blockRows(tilesX, tilesY);
  const cols = roundUp8(R * tilesX);
  const hp = 2 * tilesY + 2, wp = 2 * tilesX + 2;
  const spill = work;
  const uxi = (<usize>(oc * c) << 2) + PLANE_PAD;
  const xp = spill + SPILL_BYTES + <usize>winogradUBytes(c, oc);
  const v = xp + <usize>roundUp64((c * hp * wp + 16) * 4);
  const vxi = (<usize>(c * cols) << 2) + PLANE_PAD;
  const m = v + <usize>roundUp64(16 * <i32>vxi);
  const ldm = <usize>cols << 2;
  const mxi = <usize>oc * ldm + PLANE_PAD;

  // Borders (and the slack read by the last group's loads) stay zero; each
  // image overwrites only the interior.
  zeroF32(xp, c * hp * wp + 16);
  // Only blocks of a tile count that is not a multiple of 8 leave lanes of V
  // unwritten; zeroed, they cannot hold NaNs or denormals (slow) from
  // earlier use of the workspace.
  if (((R * tilesX) & 7) != 0 || (((tilesY % R) * tilesX) & 7) != 0) zeroF32(v, 4 * <i32>vxi);
  const P = h * w;
  for (let b = 0; b < n; b++) {
    padImage(x + <usize>(b * c * P) * 4, c, h, w, hp, wp, xp);
    const yb = y + <usize>(b * oc * P) * 4;
    const rb = res != 0 ? res + <usize>(b * oc * P) * 4 : 0;
    for (let ty0 = 0; ty0 < tilesY; ty0 += R) {
      const rows = min(R, tilesY - ty0);
      const count = rows * tilesX;
      inputTransform(xp, c, hp, wp, tilesX, ty0, rows, v, vxi, spill);
      for (let xi = 0; xi < 16; xi++) {
        gemmU(oc, count, c, u + <usize>xi * uxi, v + <usize>xi * vxi, m + <usize>xi * mxi, ldm);
      }
      outputTransform(m, mxi, ldm, oc, tilesX, ty0, rows, yb, h, w, scale, shift, rb, relu, spill);
    }
  }
}
