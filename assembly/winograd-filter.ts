// Winograd F(3x3, 2x2) for the filter gradient of 3x3 convolutions at stride
// 1 with one pixel of zero padding, NCHW (Lavin & Gray, "Fast algorithms for
// convolutional neural networks", CVPR 2016, sec. 5; the same split as
// cuDNN's and NNPACK's Winograd weight gradient). The forward's 2x2 output
// tiles (assembly/winograd.ts) cut the sum over output pixels
//
//   dW[o, c, i, j] = sum_{b, y, x} dY[b, o, y, x] * xpad[b, c, y + i, x + j]
//
// into 2x2 pieces: per tile, the 3x3 correlation of the tile's 4x4 input
// patch d with its 2x2 dY tile z, which is Winograd's F(3, 2) in 2-D:
//
//   dW[o, c] = G'^T [ sum over tiles and images (A' z A'^T) . (B^T d B) ] G'
//
// The transforms follow from the forward's F(2, 3) (Y = A^T [(G g) . (B^T d)] A)
// by exchanging the roles of output and filter: the trilinear form
// sum_i z_i sum_k g_k d_{i+k} equals sum_xi (A z)_xi (G g)_xi (B^T d)_xi, so the
// correlation w_k = sum_i z_i d_{i+k} is G^T [(A z) . (B^T d)]. Same points
// (0, 1, -1, inf), so B^T d B is exactly the forward's input transform, reused
// here with its packed-panel output. A's last row is (0, -1); its sign is
// moved into the output transform (A' = S A, G' = S G, S = diag(1, 1, 1, -1);
// negation is exact), so the dY transform is adds and subtracts only:
//   B^T  = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]     (4x4 input patch)
//   A'   = [1 0; 1 1; 1 -1; 0 1]                         (2x2 dY tile)
//   G'^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 -1]     (3x3 result)
// For each of the 16 points xi the sum over tiles is a GEMM whose depth is
// the tile count:  M[xi] (c x oc) = V[xi] (c x tiles) * Z[xi] (tiles x oc).
// It costs 16 multiplies per (tile, c, oc) where the direct sum costs 36.
//
// Per batch chunk (assembly/conv.ts's fixed chunks, so that the thread count
// never changes a bit), in blocks of about TILES tiles, the tiles of one
// image's tile rows after another, packed densely across images (a 5x5
// image has 9 tiles: starting each image on a new 8-tile panel would
// compute 16 lanes for them):
//   1. V = B^T d B of the block's tiles, all channels: winograd.ts's
//      inputTransform, tile t of the block in lane t % 8 of panel t / 8
//      ([panel][c][8] per xi);
//   2. Z = A' z A'^T of the same tiles, vectorised over 8 output channels,
//      from a channels-last copy of the image's dY ([panel of 8 oc][tile][8]
//      per xi: gemm.ts's packed B panels, with the tiles as the depth);
//   3. 16 GEMMs on gemm.ts's 4 x 8 register tile, accumulating into M: 4
//      input channels broadcast from V (rows 32 bytes apart in a panel) times
//      8 output channels of Z.
// The output transform G'^T M G' runs once per chunk, writing the chunk's
// dW^T [c*9, oc] in the layout conv2dBackwardFilterReduce adds up. The
// order of every sum depends on the chunk's images alone.
//
// Workspace layout (byte offsets from work, each part 64-byte aligned; the
// 16 planes of V, Z and M are PLANE_PAD bytes longer than their contents, as
// in winograd.ts, to keep the 16 stores of one tile out of one L1 set):
//   spill  256                     inputTransform's straddling groups; the
//                                  output transform's last oc % 4 columns
//   xp     [c][hp][wp] + XP_SLACK  the image zero-padded as in winograd.ts
//   dyT    [2 tilesY][2 tilesX][ocp]  one image's dY channels-last, ocp =
//                                  oc rounded up to 8, zero past h, w and oc
//   V      [16][cap][c][8]         cap panels of 8 tiles
//   Z      [16][ocp / 8][cap * 8][8]
//   M      [16][c][ocp]
// The GEMMs stop at a block's last tile (its last panel is `live` tiles
// deep), so stale lanes of earlier blocks past it never reach the sums.
//
// Numerics: V is the forward's (sums of up to 4 pixels); Z entries are sums
// of up to 4 dY values; each M sums about n*h*w/4 products (the direct
// GEMM's depth is n*h*w), and each result combines up to 9 entries of M with
// weights 1, 1/2, 1/4. Against float64 on the tests' inputs in [-1, 1), see
// bench/RESULTS.md ("Backward filter").
//
// Reference: src/backend/reference/kernels/conv.ts (conv2dBackwardFilterRef);
// test/kernels/winograd.test.ts.
import { madd, transpose4x4Store } from './simd';
import { inputTransform, MODE, padImage, PLANE_PAD, roundUp64, roundUp8, SPILL_BYTES, zeroF32 } from './winograd';

/**
 * Tiles per block: the depth of each pass of the 16 GEMMs, whose 4 x 8
 * accumulators are loaded from and stored to M once per pass. 32, 128 and
 * 256 measured the same within the noise (bench/RESULTS.md).
 */
const TILES: i32 = 64;

/** Floats of xp past the padded image: the input transforms read up to 16 (F(3x3, 2x2)) or 32 (F(3x3, 4x4)) past its end. */
const XP_SLACK: i32 = 32;

/**
 * Which backward-filter convolutions take Winograd: 0 none, 1 those where it
 * measured faster, 2 every one it can do. Follows WINOGRAD_MODE unless
 * WINOGRAD_FILTER_MODE is given (asc --use), so that the forced build of the
 * tests forces both, and a bench can switch this one alone.
 */
// @ts-expect-error: an optional compile-time constant
export const FILTER_MODE: i32 = isDefined(WINOGRAD_FILTER_MODE) ? WINOGRAD_FILTER_MODE : MODE;

/**
 * Whether the backward filter takes the Winograd path: 3x3, stride 1,
 * padding 1, and (FILTER_MODE 1) where it won the A/B of
 * bench/winograd.bench.ts (bench/RESULTS.md, "Backward filter"):
 * - c >= 4: the input transform is paid per input channel and feeds GEMMs
 *   c rows tall (1->16 0.65x, 2->16 0.86x, 3->16 0.96x; 4->4 1.79x). Any oc:
 *   the direct path is worst at few output channels (16->1 1.84x);
 * - at least 8 tiles per image: below, a chunk of one image fills less than
 *   one 8-tile panel and the per-chunk output transform dominates (4x4:
 *   1.22x at batch 16, 0.94-0.98x at 1 to 4 images; 3x3 0.99x, 2x2 0.64x);
 * - tiles covering at most 4/3 of the image's pixels (odd h or w): a 2x2
 *   tile costs the same whether or not its last row or column exists (5x5,
 *   9 tiles for 25 pixels, 0.88x; 1x32 0.92x; 7x7 1.87x, 3x32 1.35x).
 * Depends on one image's geometry only, as the forward's rule: all threads
 * and chunks take the same path.
 */
// biome-ignore lint/correctness/noUnusedFunctionParameters: oc is part of the conv geometry every caller passes in one order (c, h, w, oc, kh, kw, stride, pad); the rule does not depend on it today
export function winogradFilterApplies(c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, pad: i32): bool {
  if (kh != 3 || kw != 3 || stride != 1 || pad != 1 || FILTER_MODE == 0) return false;
  if (FILTER_MODE == 2) return true;
  const tiles = ((h + 1) >> 1) * ((w + 1) >> 1);
  return c >= 4 && tiles >= 8 && 3 * tiles <= h * w;
}

/** Tile rows per segment: the whole image where it fits in a block. */
@inline function segmentRows(tilesX: i32, tilesY: i32): i32 {
  return tilesX * tilesY <= TILES ? tilesY : max(1, TILES / tilesX);
}

/** Panels (of 8 tiles) per block: TILES / 8, or one segment where that is larger. */
@inline function blockPanels(tilesX: i32, tilesY: i32): i32 {
  return max(TILES >> 3, (segmentRows(tilesX, tilesY) * tilesX + 7) >> 3);
}

/**
 * Scratch bytes of a chunk of the filter gradient by Winograd with dY tiles
 * `tile` pixels a side and `points` transform points (here tile 2, 16
 * points; assembly/winograd4-filter.ts tile 4, 36 points), `head` bytes of
 * scratch (tmp, spill) before xp: the layout of the header, whatever the
 * batch size.
 */
export function filterBytesFor(points: i32, tile: i32, head: i32, c: i32, h: i32, w: i32, oc: i32): i32 {
  const tilesX = (w + tile - 1) / tile, tilesY = (h + tile - 1) / tile;
  const cap = blockPanels(tilesX, tilesY), ocp = roundUp8(oc);
  const hp = tile * tilesY + 2, wp = tile * tilesX + 2;
  return head + roundUp64((c * hp * wp + XP_SLACK) * 4) + roundUp64(tile * tile * tilesY * tilesX * ocp * 4) +
    roundUp64(points * (cap * c * 32 + PLANE_PAD)) + roundUp64(points * (cap * ocp * 32 + PLANE_PAD)) +
    roundUp64(points * (c * ocp * 4 + PLANE_PAD));
}

/** Scratch bytes of winogradFilterChunk (the batch size does not matter). */
export function winogradFilterBytes(c: i32, h: i32, w: i32, oc: i32): i32 {
  return filterBytesFor(16, 2, SPILL_BYTES, c, h, w, oc);
}

// --- dY: channels-last copy and transform --------------------------------------

/**
 * One image's dy [oc, h, w] into dyT [y][x][ocp] (rows wp2 pixels long): a
 * transform vectorised over channels then needs no shuffles, and transposing
 * the 4 raw values of a tile costs a quarter of transposing its 16
 * transformed ones. Only the interior is written; the rest stays zero.
 */
function transposeDy(dy: usize, oc: i32, h: i32, w: i32, wp2: i32, ocp: i32, dyT: usize): void {
  const P = h * w;
  const ldo = <usize>P << 2, ldp = <usize>ocp << 2;
  const oc4 = oc & ~3;
  for (let y = 0; y < h; y++) {
    const srcRow = dy + <usize>(y * w) * 4, dstRow = dyT + <usize>(y * wp2) * ldp;
    let x = 0;
    for (; x + 4 <= w; x += 4) {
      const src = srcRow + (<usize>x << 2), dst = dstRow + <usize>x * ldp;
      let o = 0;
      for (; o < oc4; o += 4) {
        const s = src + <usize>o * ldo;
        transpose4x4Store(v128.load(s), v128.load(s + ldo), v128.load(s + 2 * ldo), v128.load(s + 3 * ldo),
          dst + (<usize>o << 2), ldp);
      }
      for (; o < oc; o++) {
        const s = src + <usize>o * ldo, d = dst + (<usize>o << 2);
        for (let k = 0; k < 4; k++) store<f32>(d + <usize>k * ldp, load<f32>(s + (<usize>k << 2)));
      }
    }
    for (; x < w; x++) {
      const src = srcRow + (<usize>x << 2), dst = dstRow + <usize>x * ldp;
      for (let o = 0; o < oc; o++) store<f32>(dst + (<usize>o << 2), load<f32>(src + <usize>o * ldo));
    }
  }
}

/** Row (a, b) times A'^T: a, a + b, a - b, b into 4 planes zxi bytes apart. */
@inline function storeZRow(dst: usize, zxi: usize, a: v128, b: v128): void {
  v128.store(dst, a);
  v128.store(dst + zxi, f32x4.add(a, b));
  v128.store(dst + 2 * zxi, f32x4.sub(a, b));
  v128.store(dst + 3 * zxi, b);
}

/**
 * Z = A' z A'^T for tile rows ty0 .. ty0+rows-1 of the image in dyT, as
 * tiles t0, t0+1, ... of the block's packed panels at zb (xi planes zxi
 * bytes apart, panels of 8 output channels zPanel bytes apart).
 */
function dyTransform(dyT: usize, ocp: i32, wp2: i32, tilesX: i32, ty0: i32, rows: i32,
  zb: usize, zxi: usize, zPanel: usize, t0: i32): void {
  const ldp = <usize>ocp << 2, ldr = <usize>wp2 * ldp;
  for (let r = 0; r < rows; r++) {
    const row = dyT + <usize>(2 * (ty0 + r)) * ldr;
    for (let x = 0; x < tilesX; x++) {
      let src = row + <usize>(2 * x) * ldp;
      let dst = zb + (<usize>(t0 + r * tilesX + x) << 5);
      for (let q = 0; q < ocp; q += 8) {
        for (let half = 0; half < 2; half++) {
          const s = src + (<usize>half << 4), d = dst + (<usize>half << 4);
          const y00 = v128.load(s), y01 = v128.load(s + ldp), y10 = v128.load(s + ldr), y11 = v128.load(s + ldr + ldp);
          // A' z: rows z0, z0 + z1, z0 - z1, z1; then each row times A'^T.
          storeZRow(d, zxi, y00, y01);
          storeZRow(d + 4 * zxi, zxi, f32x4.add(y00, y10), f32x4.add(y01, y11));
          storeZRow(d + 8 * zxi, zxi, f32x4.sub(y00, y10), f32x4.sub(y01, y11));
          storeZRow(d + 12 * zxi, zxi, y10, y11);
        }
        src += 32; dst += zPanel;
      }
    }
  }
}

// --- the GEMMs, one per point -----------------------------------------------------

/**
 * M[0..4, 0..8) (+)= V[4 rows, tiles] * Z[tiles, 8] over `panels` panels of 8
 * tiles, the last only `live` (1 to 8) deep: gemm.ts's 4 x 8 tile. The 4
 * rows are 4 input channels of V's [panel][c][8] layout, 32 bytes apart (one
 * pointer, immediate offsets), the next panel astep bytes on; Z is one
 * packed panel. The accumulators start from M where accumulate (no separate
 * add; the order of the sum is still fixed by the chunk's tiles alone). A
 * block's last panel stops at its last tile: an 8x8 image in F(3x3, 4x4)
 * is 4 tiles, and a chunk of one such image would otherwise multiply as
 * many zeros as values.
 */
@inline function kernel4x8(panels: i32, live: i32, a: usize, astep: usize, p: usize, m: usize, ldm: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (accumulate) {
    c00 = v128.load(m); c01 = v128.load(m, 16);
    c10 = v128.load(m + ldm); c11 = v128.load(m + ldm, 16);
    c20 = v128.load(m + 2 * ldm); c21 = v128.load(m + 2 * ldm, 16);
    c30 = v128.load(m + 3 * ldm); c31 = v128.load(m + 3 * ldm, 16);
  }
  for (let k = 0; k < panels; k++) {
    const end = p + (k + 1 < panels ? 256 : <usize>live << 5);
    do {
      const b0 = v128.load(p), b1 = v128.load(p, 16);
      let s = v128.load32_splat(a);
      c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
      s = v128.load32_splat(a, 32);
      c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
      s = v128.load32_splat(a, 64);
      c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
      s = v128.load32_splat(a, 96);
      c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
      a += 4; p += 32;
    } while (p < end);
    a += astep;
  }
  v128.store(m, c00); v128.store(m, c01, 16); m += ldm;
  v128.store(m, c10); v128.store(m, c11, 16); m += ldm;
  v128.store(m, c20); v128.store(m, c21, 16); m += ldm;
  v128.store(m, c30); v128.store(m, c31, 16);
}

/** One row of V: the c % 4 leftover input channels. */
function kernel1x8(panels: i32, live: i32, a: usize, astep: usize, p: usize, m: usize, accumulate: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  if (accumulate) { c0 = v128.load(m); c1 = v128.load(m, 16); }
  for (let k = 0; k < panels; k++) {
    const end = p + (k + 1 < panels ? 256 : <usize>live << 5);
    do {
      const s = v128.load32_splat(a);
      c0 = madd(s, v128.load(p), c0);
      c1 = madd(s, v128.load(p, 16), c1);
      a += 4; p += 32;
    } while (p < end);
    a += astep;
  }
  v128.store(m, c0); v128.store(m, c1, 16);
}

/**
 * The GEMMs of one block of `count` tiles, one per point (16 here, 36 for
 * F(3x3, 4x4) in assembly/winograd4-filter.ts): M[xi] (+)= V[xi] * Z[xi].
 */
function flushBlock(points: i32, c: i32, ocp: i32, count: i32, v: usize, vxi: usize, z: usize, zxi: usize, zPanel: usize,
  m: usize, mxi: usize, accumulate: bool): void {
  const panels = (count + 7) >> 3, live = count - 8 * (panels - 1);
  const c4 = c & ~3;
  const astep = <usize>(c * 32 - 32), ldm = <usize>ocp << 2;
  for (let xi = 0; xi < points; xi++) {
    const vx = v + <usize>xi * vxi, zx = z + <usize>xi * zxi, mx = m + <usize>xi * mxi;
    for (let q = 0; q < ocp; q += 8) {
      const p = zx + <usize>(q >> 3) * zPanel, mq = mx + (<usize>q << 2);
      let ci = 0;
      for (; ci < c4; ci += 4) kernel4x8(panels, live, vx + (<usize>ci << 5), astep, p, mq + <usize>ci * ldm, ldm, accumulate);
      for (; ci < c; ci++) kernel1x8(panels, live, vx + (<usize>ci << 5), astep, p, mq + <usize>ci * ldm, accumulate);
    }
  }
}

// --- output transform ----------------------------------------------------------

/** G'^T's rows on (m0, m1, m2, m3): m0 + h, (m1 - m2) / 2, h - m3 with h = (m1 + m2) / 2 (halving is exact). */
@inline function gRow0(m0: v128, h: v128): v128 { return f32x4.add(m0, h); }
@inline function gRow1(m1: v128, m2: v128): v128 { return f32x4.mul(f32x4.sub(m1, m2), f32x4.splat(0.5)); }
@inline function gRow2(h: v128, m3: v128): v128 { return f32x4.sub(h, m3); }
@inline function half(m1: v128, m2: v128): v128 { return f32x4.mul(f32x4.add(m1, m2), f32x4.splat(0.5)); }

/**
 * dwT [c*9, oc] = G'^T M G' for every (input, output channel), 4 output
 * channels at a time (the last oc % 4 through the spill area).
 */
// biome-ignore lint/correctness/noUnusedFunctionParameters: the OutputTransform signature; F(3x3, 2x2) needs no tmp
function outputTransform(m: usize, mxi: usize, c: i32, oc: i32, ocp: i32, dwT: usize, tmp: usize, spill: usize): void {
  const ldm = <usize>ocp << 2, ldw = <usize>oc << 2;
  for (let ci = 0; ci < c; ci++) {
    for (let o = 0; o < oc; o += 4) {
      const p = m + <usize>ci * ldm + (<usize>o << 2);
      // G'^T M: rows 0, 1, 2 of the result from rows 0-3 of M, column by column.
      let m0 = v128.load(p), m1 = v128.load(p + 4 * mxi), m2 = v128.load(p + 8 * mxi), m3 = v128.load(p + 12 * mxi);
      let h = half(m1, m2);
      const t00 = gRow0(m0, h), t10 = gRow1(m1, m2), t20 = gRow2(h, m3);
      m0 = v128.load(p + mxi); m1 = v128.load(p + 5 * mxi); m2 = v128.load(p + 9 * mxi); m3 = v128.load(p + 13 * mxi);
      h = half(m1, m2);
      const t01 = gRow0(m0, h), t11 = gRow1(m1, m2), t21 = gRow2(h, m3);
      m0 = v128.load(p + 2 * mxi); m1 = v128.load(p + 6 * mxi); m2 = v128.load(p + 10 * mxi); m3 = v128.load(p + 14 * mxi);
      h = half(m1, m2);
      const t02 = gRow0(m0, h), t12 = gRow1(m1, m2), t22 = gRow2(h, m3);
      m0 = v128.load(p + 3 * mxi); m1 = v128.load(p + 7 * mxi); m2 = v128.load(p + 11 * mxi); m3 = v128.load(p + 15 * mxi);
      h = half(m1, m2);
      const t03 = gRow0(m0, h), t13 = gRow1(m1, m2), t23 = gRow2(h, m3);
      // Then times G' across: taps (i, 0..2) of row i.
      const full = o + 4 <= oc;
      const dst = full ? dwT + <usize>(ci * 9) * ldw + (<usize>o << 2) : spill;
      const step = full ? ldw : 16;
      h = half(t01, t02);
      v128.store(dst, gRow0(t00, h)); v128.store(dst + step, gRow1(t01, t02)); v128.store(dst + 2 * step, gRow2(h, t03));
      h = half(t11, t12);
      v128.store(dst + 3 * step, gRow0(t10, h)); v128.store(dst + 4 * step, gRow1(t11, t12)); v128.store(dst + 5 * step, gRow2(h, t13));
      h = half(t21, t22);
      v128.store(dst + 6 * step, gRow0(t20, h)); v128.store(dst + 7 * step, gRow1(t21, t22)); v128.store(dst + 8 * step, gRow2(h, t23));
      if (!full) {
        for (let t = 0; t < 9; t++) {
          for (let l = 0; l < oc - o; l++) {
            store<f32>(dwT + <usize>(ci * 9 + t) * ldw + (<usize>(o + l) << 2), load<f32>(spill + <usize>(t * 16 + l * 4)));
          }
        }
      }
    }
  }
}

// --- the kernel ------------------------------------------------------------------

/**
 * V and Z of one segment (tile rows ty0 .. ty0+rows-1 of the image in xp and
 * of its dY in dyT) as tiles t0, t0+1, ... of the block at v and z.
 */
export type SegmentTransforms = (xp: usize, c: i32, hp: i32, wp: i32, dyT: usize, ocp: i32, tilesX: i32, ty0: i32, rows: i32,
  t0: i32, v: usize, vxi: usize, z: usize, zxi: usize, zPanel: usize, tmp: usize, spill: usize) => void;

/** dwT [c*9, oc] from M's points (planes mxi bytes apart, rows ocp floats long). */
export type OutputTransform = (m: usize, mxi: usize, c: i32, oc: i32, ocp: i32, dwT: usize, tmp: usize, spill: usize) => void;

/** F(3x3, 2x2)'s SegmentTransforms: winograd.ts's inputTransform, then dyTransform. */
// biome-ignore lint/correctness/noUnusedFunctionParameters: the SegmentTransforms signature; F(3x3, 2x2) needs no tmp
function segmentTransforms(xp: usize, c: i32, hp: i32, wp: i32, dyT: usize, ocp: i32, tilesX: i32, ty0: i32, rows: i32,
  t0: i32, v: usize, vxi: usize, z: usize, zxi: usize, zPanel: usize, tmp: usize, spill: usize): void {
  inputTransform(xp, c, hp, wp, tilesX, ty0, rows, v, vxi, spill, t0, true);
  dyTransform(dyT, ocp, 2 * tilesX, tilesX, ty0, rows, z, zxi, zPanel, t0);
}

/**
 * Clears what filterChunkFor expects zero (borders and slack of xp, borders
 * of dyT): once per call, before its chunks.
 */
export function filterPrepareFor(tile: i32, head: i32, c: i32, h: i32, w: i32, oc: i32, work: usize): void {
  const tilesX = (w + tile - 1) / tile, tilesY = (h + tile - 1) / tile, ocp = roundUp8(oc);
  const hp = tile * tilesY + 2, wp = tile * tilesX + 2;
  const xp = work + <usize>head;
  const dyT = xp + <usize>roundUp64((c * hp * wp + XP_SLACK) * 4);
  zeroF32(xp, c * hp * wp + XP_SLACK);
  zeroF32(dyT, tile * tile * tilesY * tilesX * ocp);
}

/** Clears what winogradFilterChunk expects zero: once per call, before its chunks. */
export function winogradFilterPrepare(c: i32, h: i32, w: i32, oc: i32, work: usize): void {
  filterPrepareFor(2, SPILL_BYTES, c, h, w, oc, work);
}

/**
 * dwT [c*9, oc] = sum over the n images of x [n, c, h, w] and dy [n, oc, h, w]
 * of the filter gradient (3x3, stride 1, padding 1) by Winograd with dY tiles
 * `tile` pixels a side, `points` points, these transforms and the layout of
 * the header (tmp at work, spill at work + spillAt, xp at work + head), in a
 * fixed order that depends on these n images alone. work: filterBytesFor
 * bytes, prepared by filterPrepareFor. Overwrites dwT.
 */
export function filterChunkFor(points: i32, tile: i32, spillAt: i32, head: i32, transforms: SegmentTransforms,
  output: OutputTransform, x: usize, dy: usize, dwT: usize, n: i32, c: i32, h: i32, w: i32, oc: i32, work: usize): void {
  const tilesX = (w + tile - 1) / tile, tilesY = (h + tile - 1) / tile, ocp = roundUp8(oc);
  const R = segmentRows(tilesX, tilesY), cap = blockPanels(tilesX, tilesY);
  const hp = tile * tilesY + 2, wp = tile * tilesX + 2;
  const tmp = work;
  const spill = work + <usize>spillAt;
  const xp = work + <usize>head;
  const dyT = xp + <usize>roundUp64((c * hp * wp + XP_SLACK) * 4);
  const v = dyT + <usize>roundUp64(tile * tile * tilesY * tilesX * ocp * 4);
  const vxi = <usize>(cap * c * 32 + PLANE_PAD);
  const z = v + <usize>roundUp64(points * <i32>vxi);
  const zPanel = <usize>(cap * 256);
  const zxi = <usize>(cap * ocp * 32 + PLANE_PAD);
  const m = z + <usize>roundUp64(points * <i32>zxi);
  const mxi = <usize>(c * ocp * 4 + PLANE_PAD);
  const P = h * w;
  // Tiles are packed densely: segment after segment, across images, so that
  // small images do not leave most of a panel empty.
  let used = 0;
  let accumulate = false;
  for (let b = 0; b < n; b++) {
    padImage(x + <usize>(b * c * P) * 4, c, h, w, hp, wp, xp);
    transposeDy(dy + <usize>(b * oc * P) * 4, oc, h, w, tile * tilesX, ocp, dyT);
    for (let ty0 = 0; ty0 < tilesY; ty0 += R) {
      const rows = min(R, tilesY - ty0), count = rows * tilesX;
      if (used + count > cap * 8) {
        flushBlock(points, c, ocp, used, v, vxi, z, zxi, zPanel, m, mxi, accumulate);
        accumulate = true;
        used = 0;
      }
      transforms(xp, c, hp, wp, dyT, ocp, tilesX, ty0, rows, used, v, vxi, z, zxi, zPanel, tmp, spill);
      used += count;
    }
  }
  flushBlock(points, c, ocp, used, v, vxi, z, zxi, zPanel, m, mxi, accumulate);
  output(m, mxi, c, oc, ocp, dwT, tmp, spill);
}

/**
 * dwT [c*9, oc] = sum over the n images of x [n, c, h, w] and dy [n, oc, h, w]
 * of the filter gradient (3x3, stride 1, padding 1), in a fixed order that
 * depends on these n images alone. work: winogradFilterBytes bytes, prepared
 * by winogradFilterPrepare. Overwrites dwT.
 */
export function winogradFilterChunk(x: usize, dy: usize, dwT: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  work: usize): void {
  filterChunkFor(16, 2, 0, SPILL_BYTES, segmentTransforms, outputTransform, x, dy, dwT, n, c, h, w, oc, work);
}
