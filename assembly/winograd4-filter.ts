// Winograd F(3x3, 4x4) for the filter gradient of 3x3 convolutions at stride
// 1 with one pixel of zero padding, NCHW: assembly/winograd-filter.ts's
// F(3x3, 2x2) with 4x4 dY tiles and 6x6 input patches, the dual of the
// forward's F(4x4, 3x3) (assembly/winograd4.ts) by the same trilinear
// argument as in winograd-filter.ts's header:
//
//   dW[o, c] = G^T [ sum over tiles and images (A z A^T) . (B^T d B) ] G
//
// with F(4,3)'s B^T (6x6), A (6x4, the transpose of its A^T) and G (6x3), z
// the 4x4 dY tile and d the 6x6 patch of the zero-padded image at the tile's
// origin (4 ty, 4 tx). Points 0, 1, -1, 2, -2 and infinity:
//   A = [1  0 0  0;     G^T = [1/4 -1/6 -1/6 1/24  1/24 0;
//        1  1 1  1;             0  -1/6  1/6 1/12 -1/12 0;
//        1 -1 1 -1;             0  -1/6 -1/6  1/6   1/6 1]
//        1  2 4  8;
//        1 -2 4 -8;
//        0  0 0  1]
// A has no sign worth moving (its rows are sums and alternating sums, which
// cost the same), and G's sixths cannot move into A exactly (scaling a point
// by a power of two changes no rounding), so both are used as they stand:
// the dY transform has integer weights, the sixths are paid once per chunk
// in the output transform.
//
// 36 GEMMs M[xi] (c x oc) = V[xi] (c x tiles) * Z[xi] (tiles x oc), 36
// multiplies per (tile of 16 output pixels, c, oc) where four F(3,2) tiles
// cost 64 and the direct sum 144. The steps, blocks and dense packing are
// winograd-filter.ts's, with 36 planes instead of 16:
//   1. V = B^T d B: winograd4.ts's inputTransform, whose packed panels
//      ([panel][c][8] per xi, tile t in lane t % 8 of panel t / 8) are the
//      filter's layout;
//   2. Z = A z A^T, vectorised over 8 output channels, from the channels-last
//      copy of the image's dY (winograd-filter.ts's transposeDy), rows first
//      (through tmp) then columns;
//   3. winograd-filter.ts's flushBlock (4 x 8 register tiles) for 36 points.
// The output transform G^T M G runs once per chunk; the order of every sum
// depends on the chunk's images alone (assembly/conv.ts's fixed chunks).
// The chunk's driver and workspace are winograd-filter.ts's (filterChunkFor),
// given these transforms.
//
// Workspace layout (byte offsets from work, each part 64-byte aligned; the
// 36 planes of V, Z and M are PLANE_PAD bytes longer than their contents):
//   tmp    TMP_BYTES               inputTransform's row pass; the dY and
//                                  output transforms' intermediate vectors
//   spill  SPILL4_BYTES            inputTransform's straddling groups; the
//                                  output transform's last oc % 4 columns
//   xp     [c][hp][wp] + XP_SLACK  the image zero-padded as in winograd4.ts
//   dyT    [4 tilesY][4 tilesX][ocp]  one image's dY channels-last, ocp =
//                                  oc rounded up to 8, zero past h, w and oc
//   V      [36][cap][c][8]         cap panels of 8 tiles
//   Z      [36][ocp / 8][cap * 8][8]
//   M      [36][c][ocp]
//
// Numerics: V is the forward's (weights up to 25); Z entries combine the 16
// dY values of a tile with weights up to 64; each result combines the 36
// entries of M with weights up to 1/4. Against float64 on ResNet-32's
// stages at batch 2 and 64 (bench/winograd-error.ts --filter): max |dW -
// dW64| / max |dW64| 1.1e-6 to 9.5e-6, 3-10x F(3x3, 2x2)'s, at most 10 % of
// the kernel tests' tolerance.
//
// Speed against F(3x3, 2x2) (bench/winograd.bench.ts --filter43, one thread,
// a busy machine, medians of interleaved ratios; bench/RESULTS.md "Winograd
// F(3x3, 4x4) for the filter gradient"): 1.25-1.6x on ResNet-32's 16->16
// @32x32 and 32->32 @16x16 at batch 64 and 1; on 64->64 @8x8 1.2-1.3x at
// batch 64 and 128 but 0.83-0.91x in chunks of one image (batch 12 and
// below), so images under 12x12 take it only in chunks of 3 images or more
// (winograd4FilterApplies).
//
// Reference: src/backend/reference/kernels/conv.ts (conv2dBackwardFilterRef);
// test/kernels/winograd.test.ts.
import { inputTransform as inputTransform4, MODE4, SPILL4_BYTES, TMP_BYTES } from './winograd4';
import { FILTER_MODE, filterBytesFor, filterChunkFor, filterPrepareFor } from './winograd-filter';

/**
 * Which backward-filter convolutions take F(3x3, 4x4) rather than F(3x3,
 * 2x2): 0 none, 1 those where it measured faster, 2 every one it can do.
 * Follows WINOGRAD4_MODE (and is off where WINOGRAD_FILTER_MODE, or
 * WINOGRAD_MODE, is 0) unless WINOGRAD4_FILTER_MODE is given (asc --use):
 * the forced F(4,3) build of the tests forces both directions, and a bench
 * can switch this one alone.
 */
// @ts-expect-error: an optional compile-time constant
const FILTER4_MODE: i32 = isDefined(WINOGRAD4_FILTER_MODE) ? WINOGRAD4_FILTER_MODE : FILTER_MODE == 0 ? 0 : MODE4;

/**
 * Whether the backward filter takes F(3x3, 4x4) for chunks of at least
 * chunkImages images each: 3x3, stride 1, padding 1, and (FILTER4_MODE 1)
 * where it won the A/B against F(3x3, 2x2) (bench/winograd.bench.ts
 * --filter43, bench/RESULTS.md "Winograd F(3x3, 4x4) for the filter
 * gradient"):
 * - c >= 4, where F(3x3, 2x2) applies at all;
 * - h, w >= 12: 12x12 and up won or tied in chunks of one image as of
 *   several (16->16 @32x32 1.25-1.4x, 32->32 @16x16 1.25-1.6x, 12x12 to
 *   17x17 1.1-1.3x at batch 16);
 * - h, w >= 7 in chunks of 3 images or more: 64->64 @8x8 won 1.16x at 3
 *   images a chunk (batch 36), 1.23-1.26x at 4 to 11 (batch 48 to 128), tied
 *   at 2 (1.06x) and lost at 1 (0.82-0.85x): the output transform of 36
 *   points is paid per chunk, for few tiles.
 * The chunks are fixed by the batch size alone (assembly/conv.ts), so all
 * threads and chunks of a call take the same path.
 */
// biome-ignore lint/correctness/noUnusedFunctionParameters: oc is part of the conv geometry every caller passes in one order (c, h, w, oc, kh, kw, stride, pad); the rule does not depend on it today
export function winograd4FilterApplies(chunkImages: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, pad: i32): bool {
  if (kh != 3 || kw != 3 || stride != 1 || pad != 1 || FILTER4_MODE == 0) return false;
  if (FILTER4_MODE == 2) return true;
  if (c < 4) return false;
  return (h >= 12 && w >= 12) || (chunkImages >= 3 && h >= 7 && w >= 7);
}

/** Bytes of tmp and spill, before xp. */
const HEAD_BYTES: i32 = TMP_BYTES + SPILL4_BYTES;

/** Scratch bytes of winograd4FilterChunk (the batch size does not matter). */
export function winograd4FilterBytes(c: i32, h: i32, w: i32, oc: i32): i32 {
  return filterBytesFor(36, 4, HEAD_BYTES, c, h, w, oc);
}

// --- dY transform ----------------------------------------------------------------

/**
 * A times the column (z0, z1, z2, z3): z0, z0 + z1 + z2 + z3, z0 - z1 + z2 -
 * z3, z0 + 2 z1 + 4 z2 + 8 z3, z0 - 2 z1 + 4 z2 - 8 z3, z3, stored step bytes
 * apart from dst (the even and odd parts shared by each pair of rows).
 */
@inline function transformColumnA(z0: v128, z1: v128, z2: v128, z3: v128, dst: usize, step: usize): void {
  const even = f32x4.add(z0, z2), odd = f32x4.add(z1, z3);
  const even4 = f32x4.add(z0, f32x4.mul(z2, f32x4.splat(4)));
  const odd8 = f32x4.mul(f32x4.add(z1, f32x4.mul(z3, f32x4.splat(4))), f32x4.splat(2));
  v128.store(dst, z0);
  v128.store(dst + step, f32x4.add(even, odd));
  v128.store(dst + 2 * step, f32x4.sub(even, odd));
  v128.store(dst + 3 * step, f32x4.add(even4, odd8));
  v128.store(dst + 4 * step, f32x4.sub(even4, odd8));
  v128.store(dst + 5 * step, z3);
}

/**
 * Z = A z A^T for tile rows ty0 .. ty0+rows-1 of the image in dyT (rows wp4
 * pixels long), as tiles t0, t0+1, ... of the block's packed panels at zb
 * (xi = 6 a + b planes zxi bytes apart, panels of 8 output channels zPanel
 * bytes apart). Each row of z times A^T into tmp (24 vectors), then A down
 * each column.
 */
function dyTransform(dyT: usize, ocp: i32, wp4: i32, tilesX: i32, ty0: i32, rows: i32,
  zb: usize, zxi: usize, zPanel: usize, t0: i32, tmp: usize): void {
  const ldp = <usize>ocp << 2, ldr = <usize>wp4 * ldp;
  for (let r = 0; r < rows; r++) {
    const row = dyT + <usize>(4 * (ty0 + r)) * ldr;
    for (let x = 0; x < tilesX; x++) {
      let src = row + <usize>(4 * x) * ldp;
      let dst = zb + (<usize>(t0 + r * tilesX + x) << 5);
      for (let q = 0; q < ocp; q += 8) {
        for (let half = 0; half < 2; half++) {
          const s = src + (<usize>half << 4), d = dst + (<usize>half << 4);
          for (let i = 0; i < 4; i++) {
            const si = s + <usize>i * ldr;
            transformColumnA(v128.load(si), v128.load(si + ldp), v128.load(si + 2 * ldp), v128.load(si + 3 * ldp),
              tmp + <usize>(6 * i) * 16, 16);
          }
          for (let b = 0; b < 6; b++) {
            const p = tmp + <usize>b * 16;
            transformColumnA(v128.load(p), v128.load(p, 96), v128.load(p, 192), v128.load(p, 288), d + <usize>b * zxi, 6 * zxi);
          }
        }
        src += 32; dst += zPanel;
      }
    }
  }
}

/** The SegmentTransforms of F(3x3, 4x4): winograd4.ts's inputTransform, then dyTransform. */
function segmentTransforms(xp: usize, c: i32, hp: i32, wp: i32, dyT: usize, ocp: i32, tilesX: i32, ty0: i32, rows: i32,
  t0: i32, v: usize, vxi: usize, z: usize, zxi: usize, zPanel: usize, tmp: usize, spill: usize): void {
  inputTransform4(xp, c, hp, wp, tilesX, ty0, rows, v, vxi, tmp, spill, t0);
  dyTransform(dyT, ocp, 4 * tilesX, tilesX, ty0, rows, z, zxi, zPanel, t0, tmp);
}

// --- output transform ----------------------------------------------------------

/**
 * G^T times the column (m0..m5): its 3 rows stored step bytes apart from dst,
 * each with one division by 6 (a multiply by its float32):
 * (m0 / 4) + (r / 4 - p) / 6, (s / 2 - q) / 6 and (r - p) / 6 + m5, where p,
 * q = m1 +- m2 and r, s = m3 +- m4 (quartering and halving are exact).
 */
@inline function transformColumnGT(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, step: usize): void {
  const sixth = f32x4.splat(<f32>(1.0 / 6.0)), quarter = f32x4.splat(0.25);
  const p = f32x4.add(m1, m2), q = f32x4.sub(m1, m2), r = f32x4.add(m3, m4), s = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.mul(m0, quarter), f32x4.mul(f32x4.sub(f32x4.mul(r, quarter), p), sixth)));
  v128.store(dst + step, f32x4.mul(f32x4.sub(f32x4.mul(s, f32x4.splat(0.5)), q), sixth));
  v128.store(dst + 2 * step, f32x4.add(f32x4.mul(f32x4.sub(r, p), sixth), m5));
}

/**
 * dwT [c*9, oc] = G^T M G for every (input, output channel), 4 output
 * channels at a time (the last oc % 4 through spill): G^T down each column b
 * of M into tmp[3 b + i] (18 vectors), then G across each row i.
 */
function outputTransform(m: usize, mxi: usize, c: i32, oc: i32, ocp: i32, dwT: usize, tmp: usize, spill: usize): void {
  const ldm = <usize>ocp << 2, ldw = <usize>oc << 2;
  for (let ci = 0; ci < c; ci++) {
    for (let o = 0; o < oc; o += 4) {
      const p = m + <usize>ci * ldm + (<usize>o << 2);
      for (let b = 0; b < 6; b++) {
        const pb = p + <usize>b * mxi;
        transformColumnGT(v128.load(pb), v128.load(pb + 6 * mxi), v128.load(pb + 12 * mxi), v128.load(pb + 18 * mxi),
          v128.load(pb + 24 * mxi), v128.load(pb + 30 * mxi), tmp + <usize>(3 * b) * 16, 16);
      }
      const full = o + 4 <= oc;
      const dst = full ? dwT + <usize>(ci * 9) * ldw + (<usize>o << 2) : spill;
      const step = full ? ldw : 16;
      for (let i = 0; i < 3; i++) {
        const pi = tmp + <usize>i * 16;
        transformColumnGT(v128.load(pi), v128.load(pi, 48), v128.load(pi, 96), v128.load(pi, 144), v128.load(pi, 192),
          v128.load(pi, 240), dst + <usize>(3 * i) * step, step);
      }
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

/** Clears what winograd4FilterChunk expects zero: once per call, before its chunks. */
export function winograd4FilterPrepare(c: i32, h: i32, w: i32, oc: i32, work: usize): void {
  filterPrepareFor(4, HEAD_BYTES, c, h, w, oc, work);
}

/**
 * dwT [c*9, oc] = sum over the n images of x [n, c, h, w] and dy [n, oc, h, w]
 * of the filter gradient (3x3, stride 1, padding 1), in a fixed order that
 * depends on these n images alone: winogradFilterChunk's contract. work:
 * winograd4FilterBytes bytes, prepared by winograd4FilterPrepare. Overwrites dwT.
 */
export function winograd4FilterChunk(x: usize, dy: usize, dwT: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  work: usize): void {
  filterChunkFor(36, 4, TMP_BYTES, HEAD_BYTES, segmentTransforms, outputTransform, x, dy, dwT, n, c, h, w, oc, work);
}
