// 2-D convolution (cross-correlation, as in PyTorch), NCHW, zero padding, no
// bias, as GEMMs over im2col columns (Chellapilla et al., "High performance
// convolutional neural networks for document processing", 2006):
//
//   forward          Y_b[oc, P] = W[oc, K] * col(X_b)[K, P]      K = c*kh*kw, P = oh*ow
//   backward filter  dW^T[K, oc] = sum_b col(X_b)[K, P] * dY_b^T[P, oc]
//   backward input   stride 1: a forward convolution of dY with the flipped,
//                    channel-swapped filter (no col2im); otherwise
//                    dcol = W^T * dY_b, then col2im.
//
// The forward never stores the columns: each image is copied once into a
// zero-padded buffer, and for 8 output pixels of one row at stride 1 the
// micro-kernel reads the 8 input pixels of every tap straight from it (a
// table of tap offsets replaces the packed panel). Other pixel groups are
// im2col'ed into one packed 8-column panel for assembly/gemm.ts's kernel.
// The backward filter runs with the columns as A (read in place) and the
// small dY^T as B, so only dY (c*kh*kw times smaller) needs a transposing pack.
//
// 3x3 stride-1 convolutions with one pixel of padding and at least 8 channels
// in and out (every ResNet-32 conv but the stem and the stride-2 ones, in the
// forward and the flipped backward input) take Winograd instead: F(4x4, 3x3)
// on images of at least 12x12 (assembly/winograd4.ts, 1.1-1.75x faster than
// F(2,3) there), F(2x2, 3x3) on smaller ones (assembly/winograd.ts, 1.5-2x
// faster than the direct conv where it applies). Their backward
// filter (at least 4 input channels and 8 tiles per image) takes Winograd
// F(3x3, 2x2) per batch chunk: assembly/winograd-filter.ts, 1.7-2.2x; on
// images of at least 12x12, F(3x3, 4x4): assembly/winograd4-filter.ts,
// 1.25-1.6x faster than F(3x3, 2x2) there.
//
// References: src/backend/reference/kernels/conv.ts.
import { gemmPacked, gemmWorkspaceBytes, sgemm, TILE_BYTES } from './gemm';
import { madd } from './simd';
import { winogradApplies, winogradBytes, winogradForward, winogradForwardU, winogradTransformFilter, winogradUBytes } from './winograd';
import {
  winograd4Applies,
  winograd4Bytes,
  winograd4Forward,
  winograd4ForwardU,
  winograd4TransformFilter,
  winograd4UBytes,
} from './winograd4';
import { winogradFilterApplies, winogradFilterBytes, winogradFilterChunk, winogradFilterPrepare } from './winograd-filter';
import { winograd4FilterApplies, winograd4FilterBytes, winograd4FilterChunk, winograd4FilterPrepare } from './winograd4-filter';

@inline function roundUp64(bytes: i32): i32 {
  return (bytes + 63) & ~63;
}

/** Scratch bytes any of the three conv kernels needs for this geometry. */
export function conv2dWorkspaceBytes(n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32,
  stride: i32, pad: i32, oh: i32, ow: i32): i32 {
  const K = c * kh * kw, P = oh * ow;
  const fwd = forwardBytes(c, h, w, oc, kh, kw, stride, pad, pad);
  const inputFlipped = roundUp64(oc * K * 4) + forwardBytes(oc, oh, ow, c, kh, kw, 1, max(0, kh - 1 - pad), max(0, kw - 1 - pad));
  const inputCol2im = roundUp64(K * P * 4) + gemmWorkspaceBytes(K, P, oc);
  const filter = filterBytes(n, c, h, w, oc, kh, kw, stride, pad, oh, ow) + roundUp64(conv2dBackwardFilterChunks(n) * K * oc * 4);
  return max(max(fwd, inputFlipped), max(inputCol2im, filter));
}

// --- small vector helpers ------------------------------------------------------

@inline function zeroF32(dst: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(dst + (<usize>i << 2), f32x4.splat(0));
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), 0);
}

@inline function copyF32(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

@inline function addF32(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const d = dst + (<usize>i << 2);
    v128.store(d, f32x4.add(v128.load(d), v128.load(src + (<usize>i << 2))));
  }
  for (; i < count; i++) {
    const d = dst + (<usize>i << 2);
    store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>i << 2)));
  }
}

// --- im2col / col2im ---------------------------------------------------------------

/**
 * One image x [c, h, w] to columns [c*kh*kw, oh*ow]:
 * col[(ci*kh + i)*kw + j, oy*ow + ox] = x[ci, oy*stride + i - pad, ox*stride + j - pad], 0 outside.
 */
export function im2col(x: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, stride: i32, pad: i32,
  oh: i32, ow: i32, col: usize): void {
  let dst = col;
  for (let ci = 0; ci < c; ci++) {
    const xc = x + <usize>(ci * h * w) * 4;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // Output columns whose input pixel is inside the row: ox*stride + j - pad in [0, w).
        const lo = stride == 1 ? min(ow, max(0, pad - j)) : 0;
        const hi = stride == 1 ? max(lo, min(ow, w + pad - j)) : 0;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * stride + i - pad;
          if (iy < 0 || iy >= h) {
            zeroF32(dst, ow);
          } else if (stride == 1) {
            zeroF32(dst, lo);
            copyF32(dst + (<usize>lo << 2), xc + <usize>(iy * w + lo + j - pad) * 4, hi - lo);
            zeroF32(dst + (<usize>hi << 2), ow - hi);
          } else {
            const xrow = xc + <usize>(iy * w) * 4;
            for (let ox = 0; ox < ow; ox++) {
              const ix = ox * stride + j - pad;
              store<f32>(dst + (<usize>ox << 2), ix >= 0 && ix < w ? load<f32>(xrow + (<usize>ix << 2)) : 0);
            }
          }
          dst += <usize>ow << 2;
        }
      }
    }
  }
}

/** The adjoint of im2col: adds each column entry onto its pixel of x [c, h, w] (the caller zeroes x). */
export function col2im(col: usize, c: i32, h: i32, w: i32, kh: i32, kw: i32, stride: i32, pad: i32,
  oh: i32, ow: i32, x: usize): void {
  let src = col;
  for (let ci = 0; ci < c; ci++) {
    const xc = x + <usize>(ci * h * w) * 4;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const lo = stride == 1 ? min(ow, max(0, pad - j)) : 0;
        const hi = stride == 1 ? max(lo, min(ow, w + pad - j)) : 0;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * stride + i - pad;
          if (iy >= 0 && iy < h) {
            if (stride == 1) {
              addF32(xc + <usize>(iy * w + lo + j - pad) * 4, src + (<usize>lo << 2), hi - lo);
            } else {
              const xrow = xc + <usize>(iy * w) * 4;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * stride + j - pad;
                if (ix >= 0 && ix < w) {
                  const p = xrow + (<usize>ix << 2);
                  store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>ox << 2)));
                }
              }
            }
          }
          src += <usize>ow << 2;
        }
      }
    }
  }
}

/**
 * Copies one image x [c, h, w] into the interior of xp [c, h + 2*padH, w + 2*padW],
 * whose border the caller has zeroed, so that im2colPanel needs no bounds checks.
 */
function padImage(x: usize, c: i32, h: i32, w: i32, padH: i32, padW: i32, xp: usize): void {
  const wp = w + 2 * padW, hp = h + 2 * padH;
  for (let ci = 0; ci < c; ci++) {
    for (let iy = 0; iy < h; iy++) {
      copyF32(xp + <usize>((ci * hp + iy + padH) * wp + padW) * 4, x + <usize>((ci * h + iy) * w) * 4, w);
    }
  }
}

/**
 * im2col of a zero-padded image xp [c, hp, wp] (see padImage): no bounds
 * checks, each column row segment is a plain copy at stride 1.
 */
function im2colPadded(xp: usize, c: i32, hp: i32, wp: i32, kh: i32, kw: i32, stride: i32,
  oh: i32, ow: i32, col: usize): void {
  let dst = col;
  for (let ci = 0; ci < c; ci++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let oy = 0; oy < oh; oy++) {
          const src = xp + <usize>((ci * hp + oy * stride + i) * wp + j) * 4;
          if (stride == 1) {
            copyF32(dst, src, ow);
          } else {
            for (let ox = 0; ox < ow; ox++) store<f32>(dst + (<usize>ox << 2), load<f32>(src + <usize>(ox * stride) * 4));
          }
          dst += <usize>ow << 2;
        }
      }
    }
  }
}

/**
 * im2col of output pixels p0 .. p0+7 of one zero-padded image xp [c, hp, wp],
 * written as one packed GEMM panel: dst[kk*8 + jj] = col[kk, p0 + jj], 0 past
 * the last pixel. Every tap is inside xp, so pixels within one output row take
 * two vector copies per tap at stride 1 (two shuffles at stride 2); panels
 * that wrap a row go lane by lane.
 */
function im2colPanel(xp: usize, c: i32, hp: i32, wp: i32, kh: i32, kw: i32, stride: i32,
  oh: i32, ow: i32, p0: i32, dst: usize): void {
  const oy = p0 / ow, ox0 = p0 - oy * ow;
  if (ox0 + 8 <= ow) {
    const ix0 = ox0 * stride;
    // Stride 2 reads 16 floats from ix0 + j; where that passes the row's end, go lane by lane.
    const wideOk = ix0 + kw - 1 + 16 <= wp;
    for (let ci = 0; ci < c; ci++) {
      for (let i = 0; i < kh; i++) {
        const row = xp + <usize>((ci * hp + oy * stride + i) * wp + ix0) * 4;
        for (let j = 0; j < kw; j++) {
          const s = row + (<usize>j << 2);
          if (stride == 1) {
            v128.store(dst, v128.load(s));
            v128.store(dst, v128.load(s, 16), 16);
          } else if (stride == 2 && wideOk) {
            v128.store(dst, i32x4.shuffle(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
            v128.store(dst, i32x4.shuffle(v128.load(s, 32), v128.load(s, 48), 0, 2, 4, 6), 16);
          } else {
            for (let jj = 0; jj < 8; jj++) {
              store<f32>(dst + (<usize>jj << 2), load<f32>(s + <usize>(jj * stride) * 4));
            }
          }
          dst += 32;
        }
      }
    }
    return;
  }
  const P = oh * ow;
  for (let jj = 0; jj < 8; jj++) {
    const p = p0 + jj;
    let d = dst + (<usize>jj << 2);
    if (p >= P) {
      for (let kk = 0; kk < c * kh * kw; kk++) store<f32>(d + (<usize>kk << 5), 0);
      continue;
    }
    const py = p / ow, px = p - py * ow;
    for (let ci = 0; ci < c; ci++) {
      for (let i = 0; i < kh; i++) {
        const row = xp + <usize>((ci * hp + py * stride + i) * wp + px * stride) * 4;
        for (let j = 0; j < kw; j++) {
          store<f32>(d, load<f32>(row + (<usize>j << 2)));
          d += 32;
        }
      }
    }
  }
}

// --- the three kernels -----------------------------------------------------------

/**
 * The stride-1 forward's micro-kernel: Y[0..4, 0..8) = W[0..4, 0..K) * B, where
 * row kk of B is the 8 floats at p + off[kk] (byte offsets) of the padded
 * image. Reading the image in place skips the im2col pack (about a tenth of
 * the forward's time at 16 channels); the 4 x 8 tile is assembly/gemm.ts's.
 */
@inline function convKernel4x8(kc: i32, a: usize, lda: usize, p: usize, off: usize, y: usize, ldy: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
  for (let kk = 0; kk < kc; kk++) {
    const q = p + load<u32>(off);
    const b0 = v128.load(q), b1 = v128.load(q, 16);
    let s = v128.load32_splat(a0);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a1);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a2);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a3);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; off += 4;
  }
  v128.store(y, c00); v128.store(y, c01, 16); y += ldy;
  v128.store(y, c10); v128.store(y, c11, 16); y += ldy;
  v128.store(y, c20); v128.store(y, c21, 16); y += ldy;
  v128.store(y, c30); v128.store(y, c31, 16);
}

/** The oc % 4 leftover rows of convKernel4x8, one at a time. */
function convKernel1x8(kc: i32, a: usize, p: usize, off: usize, y: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let kk = 0; kk < kc; kk++) {
    const q = p + load<u32>(off);
    const s = v128.load32_splat(a);
    c0 = madd(s, v128.load(q), c0);
    c1 = madd(s, v128.load(q, 16), c1);
    a += 4; off += 4;
  }
  v128.store(y, c0); v128.store(y, c1, 16);
}

/**
 * The inference epilogue, on one image's output [oc, P] while it is still in
 * cache: y = y * scale[o] + shift[o] (eval batch norm folded to an affine
 * map), + res (the residual, same layout) where res != 0, then max(y, 0)
 * where relu. Saves the three passes over memory (and the tensors) that
 * separate batch-norm, add and ReLU kernels would take.
 */
function affineEpilogue(y: usize, oc: i32, P: i32, scale: usize, shift: usize, res: usize, relu: bool): void {
  const zero = f32x4.splat(0);
  for (let o = 0; o < oc; o++) {
    const s = load<f32>(scale + (<usize>o << 2)), t = load<f32>(shift + (<usize>o << 2));
    const sv = f32x4.splat(s), tv = f32x4.splat(t);
    const row = y + <usize>(o * P) * 4, rrow = res + <usize>(o * P) * 4;
    let i = 0;
    for (; i + 4 <= P; i += 4) {
      const q = <usize>i << 2;
      let v = madd(v128.load(row + q), sv, tv);
      if (res != 0) v = f32x4.add(v, v128.load(rrow + q));
      if (relu) v = f32x4.max(v, zero);
      v128.store(row + q, v);
    }
    for (; i < P; i++) {
      const q = <usize>i << 2;
      let v = load<f32>(row + q) * s + t;
      if (res != 0) v += load<f32>(rrow + q);
      if (relu) v = max<f32>(v, 0);
      store<f32>(row + q, v);
    }
  }
}

/** forward()'s paths: the direct conv, Winograd F(2,3), Winograd F(4,3). */
const PATH_DIRECT: i32 = 0;
const PATH_WINOGRAD: i32 = 1;
const PATH_WINOGRAD4: i32 = 2;

/**
 * The path forward() takes for a geometry, decided here only: the workspace
 * size, the prepared filter's layout and the forward all follow it.
 */
function forwardPath(c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, padH: i32, padW: i32): i32 {
  if (winograd4Applies(c, h, w, oc, kh, kw, stride, padH, padW)) return PATH_WINOGRAD4;
  if (winogradApplies(c, h, w, oc, kh, kw, stride, padH, padW)) return PATH_WINOGRAD;
  return PATH_DIRECT;
}

/**
 * Forward with separate vertical and horizontal padding (the flipped
 * backward-input pass needs that); scale != 0 applies affineEpilogue to
 * each image (residual and relu as there).
 */
function forward(x: usize, wt: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32,
  stride: i32, padH: i32, padW: i32, oh: i32, ow: i32, work: usize,
  scale: usize = 0, shift: usize = 0, res: usize = 0, relu: bool = false): void {
  const path = forwardPath(c, h, w, oc, kh, kw, stride, padH, padW);
  if (path == PATH_WINOGRAD4) winograd4Forward(x, wt, y, n, c, h, w, oc, work, scale, shift, res, relu);
  else if (path == PATH_WINOGRAD) winogradForward(x, wt, y, n, c, h, w, oc, work, scale, shift, res, relu);
  else directForward(x, wt, y, n, c, h, w, oc, kh, kw, stride, padH, padW, oh, ow, work, scale, shift, res, relu);
}

/** forward()'s direct path: 8-pixel panels read in place from the padded image (convKernel4x8) or im2col'ed. */
function directForward(x: usize, wt: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32,
  stride: i32, padH: i32, padW: i32, oh: i32, ow: i32, work: usize,
  scale: usize, shift: usize, res: usize, relu: bool): void {
  const K = c * kh * kw, P = oh * ow;
  const hp = h + 2 * padH, wp = w + 2 * padW;
  const tile = work, panel = tile + TILE_BYTES;
  const off = panel + <usize>roundUp64(K * 32);
  const padded = padH > 0 || padW > 0;
  const xp = off + <usize>roundUp64(K * 4);
  // Byte offset of tap (ci, i, j) from its output pixel's top-left input pixel.
  for (let ci = 0; ci < c; ci++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) store<u32>(off + <usize>((ci * kh + i) * kw + j) * 4, ((ci * hp + i) * wp + j) * 4);
    }
  }
  // The border stays zero; each image overwrites only the interior.
  if (padded) zeroF32(xp, c * hp * wp);
  const lda = <usize>K << 2, ldy = <usize>P << 2;
  for (let b = 0; b < n; b++) {
    const xb = x + <usize>(b * c * h * w) * 4;
    if (padded) padImage(xb, c, h, w, padH, padW, xp);
    const src = padded ? xp : xb;
    const yb = y + <usize>(b * oc * P) * 4;
    for (let p0 = 0; p0 < P; p0 += 8) {
      const oy = p0 / ow, ox0 = p0 - oy * ow;
      const yp = yb + (<usize>p0 << 2);
      if (stride == 1 && ox0 + 8 <= ow) {
        const origin = src + <usize>(oy * wp + ox0) * 4;
        let o = 0;
        for (; o + 4 <= oc; o += 4) convKernel4x8(K, wt + <usize>o * lda, lda, origin, off, yp + <usize>o * ldy, ldy);
        for (; o < oc; o++) convKernel1x8(K, wt + <usize>o * lda, origin, off, yp + <usize>o * ldy);
      } else {
        im2colPanel(src, c, hp, wp, kh, kw, stride, oh, ow, p0, panel);
        gemmPacked(oc, min(8, P - p0), K, wt, lda, panel, yp, ldy, 1, 0, tile);
      }
    }
    if (scale != 0) affineEpilogue(yb, oc, P, scale, shift, res != 0 ? res + <usize>(b * oc * P) * 4 : 0, relu);
  }
}

/**
 * Whether forward() takes F(4,3) on an image under 12x12 where F(2,3) also
 * applies: there, filters prepared for plans of few images keep F(2,3)
 * (preparedPath below).
 */
@inline function smallImageF43(c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, padH: i32, padW: i32): bool {
  return forwardPath(c, h, w, oc, kh, kw, stride, padH, padW) == PATH_WINOGRAD4 && (h < 12 || w < 12) &&
    winogradApplies(c, h, w, oc, kh, kw, stride, padH, padW);
}

/** Scratch bytes of forward(), whichever path it or a prepared filter (F(2,3) under 12x12) takes. */
@inline function forwardBytes(c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, padH: i32, padW: i32): i32 {
  if (smallImageF43(c, h, w, oc, kh, kw, stride, padH, padW)) return max(winograd4Bytes(c, h, w, oc), winogradBytes(c, h, w, oc));
  const path = forwardPath(c, h, w, oc, kh, kw, stride, padH, padW);
  if (path == PATH_WINOGRAD4) return winograd4Bytes(c, h, w, oc);
  if (path == PATH_WINOGRAD) return winogradBytes(c, h, w, oc);
  return TILE_BYTES + roundUp64(c * kh * kw * 32) + roundUp64(c * kh * kw * 4) +
    roundUp64(c * (h + 2 * padH) * (w + 2 * padW) * 4);
}

/** y [n, oc, oh, ow] = conv(x [n, c, h, w], wt [oc, c, kh, kw]). Overwrites y. */
export function conv2dForward(x: usize, wt: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32, work: usize): void {
  forward(x, wt, y, n, c, h, w, oc, kh, kw, stride, pad, pad, oh, ow, work);
}

/**
 * Inference: y = act(conv(x, wt) * scale[o] + shift[o] + residual), act = ReLU
 * where relu != 0, residual [n, oc, oh, ow] or 0 for none. Overwrites y.
 */
export function conv2dForwardAffine(x: usize, wt: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32, work: usize,
  scale: usize, shift: usize, residual: usize, relu: i32): void {
  forward(x, wt, y, n, c, h, w, oc, kh, kw, stride, pad, pad, oh, ow, work, scale, shift, residual, relu != 0);
}

// --- inference with a prepared filter -----------------------------------------------
// conv2dForwardAffine transforms the filter on every call (Winograd's U =
// G g G^T: at batch 1 about an eighth of ResNet-32's kernel time). Inference
// plans, whose weights do not change, prepare it once: conv2dPrepareFilter
// writes the filter in the layout the geometry's path reads (U for F(2,3)
// and F(4,3), the plain weights for the direct conv, which packs nothing per
// call), and conv2dForwardAffinePrepared runs that path on it, the same
// arithmetic on the same values in the same order, so the same bits.

/** Plans of fewer images than this keep F(2,3) on images under 12x12 (preparedPath). */
const PLAN_F43_SMALL_IMAGE_MIN_BATCH: i32 = 4;

/**
 * The path of a filter prepared for plans of n images: forwardPath's, except
 * that plans of fewer than PLAN_F43_SMALL_IMAGE_MIN_BATCH images keep F(2,3)
 * on images under 12x12. In a batch-1 ResNet-32 plan F(4,3) on the 8x8 stage
 * cost 2.0-2.2 ms a call against 1.76 with F(2,3) (bench/RESULTS.md): its U,
 * 590 KB a layer at 64 channels, serves only one image's 4 tiles per read,
 * and nine such layers in a row push the rest out of the 2 MB L2.
 */
function preparedPath(n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, pad: i32): i32 {
  if (n < PLAN_F43_SMALL_IMAGE_MIN_BATCH && smallImageF43(c, h, w, oc, kh, kw, stride, pad, pad)) return PATH_WINOGRAD;
  return forwardPath(c, h, w, oc, kh, kw, stride, pad, pad);
}

/** Bytes of conv2dPrepareFilter's output for this geometry, for plans of n images. */
export function conv2dPreparedFilterBytes(n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32,
  stride: i32, pad: i32, oh: i32, ow: i32): i32 {
  const path = preparedPath(n, c, h, w, oc, kh, kw, stride, pad);
  if (path == PATH_WINOGRAD4) return winograd4UBytes(c, oc);
  if (path == PATH_WINOGRAD) return winogradUBytes(c, oc);
  return oc * c * kh * kw * 4;
}

/**
 * wt [oc, c, kh, kw] into prepared (conv2dPreparedFilterBytes) in the layout
 * of preparedPath for plans of n images, which it returns (pass it to
 * conv2dForwardAffinePrepared, at any batch size). work: conv2dWorkspaceBytes.
 */
export function conv2dPrepareFilter(wt: usize, prepared: usize, n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32,
  stride: i32, pad: i32, oh: i32, ow: i32, work: usize): i32 {
  const path = preparedPath(n, c, h, w, oc, kh, kw, stride, pad);
  if (path == PATH_WINOGRAD4) winograd4TransformFilter(wt, oc, c, prepared, work);
  else if (path == PATH_WINOGRAD) winogradTransformFilter(wt, oc, c, prepared);
  else copyF32(prepared, wt, oc * c * kh * kw);
  return path;
}

/**
 * conv2dForwardAffine reading a filter that conv2dPrepareFilter prepared for
 * this geometry (prepared is only read, so threads share it); path is what
 * that returned. Where the path is forwardPath's, the same bits as
 * conv2dForwardAffine. A filter prepared for a path this geometry never
 * takes traps: its layout would be read as garbage.
 */
export function conv2dForwardAffinePrepared(x: usize, prepared: usize, y: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32, work: usize,
  scale: usize, shift: usize, residual: usize, relu: i32, path: i32): void {
  if (path != forwardPath(c, h, w, oc, kh, kw, stride, pad, pad) && path != preparedPath(1, c, h, w, oc, kh, kw, stride, pad)) {
    unreachable();
  }
  if (path == PATH_WINOGRAD4) winograd4ForwardU(x, prepared, y, n, c, h, w, oc, work, scale, shift, residual, relu != 0);
  else if (path == PATH_WINOGRAD) winogradForwardU(x, prepared, y, n, c, h, w, oc, work, scale, shift, residual, relu != 0);
  else directForward(x, prepared, y, n, c, h, w, oc, kh, kw, stride, pad, pad, oh, ow, work, scale, shift, residual, relu != 0);
}

/** dx [n, c, h, w] from dy [n, oc, oh, ow] and wt. Overwrites dx. */
export function conv2dBackwardInput(dy: usize, wt: usize, dx: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32, work: usize): void {
  const K = c * kh * kw, P = oh * ow;
  const padH = kh - 1 - pad, padW = kw - 1 - pad;
  if (stride == 1 && padH >= 0 && padW >= 0 && oh + 2 * padH - kh + 1 == h && ow + 2 * padW - kw + 1 == w) {
    // dx[ci, y, x] = sum_{o,i,j} dy[o, y + pad - i, x + pad - j] * wt[o, ci, i, j]: a stride-1
    // forward conv of dy with padding k-1-pad and the filter wf[ci, o, i', j'] = wt[o, ci, kh-1-i', kw-1-j'].
    const wf = work;
    for (let o = 0; o < oc; o++) {
      for (let ci = 0; ci < c; ci++) {
        const src = wt + <usize>((o * c + ci) * kh * kw) * 4;
        const dst = wf + <usize>((ci * oc + o) * kh * kw) * 4;
        for (let t = 0; t < kh * kw; t++) {
          store<f32>(dst + (<usize>t << 2), load<f32>(src + <usize>(kh * kw - 1 - t) * 4));
        }
      }
    }
    forward(dy, wf, dx, n, oc, oh, ow, c, kh, kw, 1, padH, padW, h, w, work + <usize>roundUp64(oc * K * 4));
    return;
  }
  const dcol = work, gemmWork = work + <usize>roundUp64(K * P * 4);
  for (let b = 0; b < n; b++) {
    const dxb = dx + <usize>(b * c * h * w) * 4;
    sgemm(1, 0, K, P, oc, 1, wt, dy + <usize>(b * oc * P) * 4, 0, dcol, gemmWork);
    zeroF32(dxb, c * h * w);
    col2im(dcol, c, h, w, kh, kw, stride, pad, oh, ow, dxb);
  }
}

/**
 * The backward filter sums over the batch in FILTER_CHUNKS fixed chunks of
 * images (fewer when n is smaller): each chunk's dW^T is computed on its own,
 * then the chunks are added in order. The chunks do not depend on the thread
 * count, so threads that take whole chunks (src/backend/wasm/threads.ts) give
 * bit-identical results for any count. 12 chunks split evenly over 1, 2, 3,
 * 4, 6 or 12 threads; each costs one extra pass over dW^T.
 */
const FILTER_CHUNKS: i32 = 12;

/** How many chunks the backward filter splits a batch of n images into. */
export function conv2dBackwardFilterChunks(n: i32): i32 {
  return max(1, min(n, FILTER_CHUNKS));
}

/** The fewest images a chunk of a batch of n holds (the filter's tile size depends on it). */
@inline function chunkImages(n: i32): i32 {
  return n / conv2dBackwardFilterChunks(n);
}

/** Scratch bytes of filterChunk, or of winograd4FilterChunk or winogradFilterChunk where one is taken. */
@inline function filterBytes(n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32): i32 {
  if (winograd4FilterApplies(chunkImages(n), c, h, w, oc, kh, kw, stride, pad)) return winograd4FilterBytes(c, h, w, oc);
  if (winogradFilterApplies(c, h, w, oc, kh, kw, stride, pad)) return winogradFilterBytes(c, h, w, oc);
  const K = c * kh * kw, P = oh * ow;
  return roundUp64(K * P * 4) + roundUp64(c * (h + 2 * pad) * (w + 2 * pad) * 4) + gemmWorkspaceBytes(K, oc, P);
}

/** dwT [c*kh*kw, oc] = sum over the n images of col(x_b) * dy_b^T, in image order. Overwrites dwT. */
function filterChunk(x: usize, dy: usize, dwT: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32, work: usize): void {
  const K = c * kh * kw, P = oh * ow;
  const hp = h + 2 * pad, wp = w + 2 * pad;
  const col = work;
  const xp = col + <usize>roundUp64(K * P * 4);
  const gemmWork = xp + <usize>roundUp64(c * hp * wp * 4);
  // The border stays zero; each image overwrites only the interior.
  if (pad > 0) zeroF32(xp, c * hp * wp);
  for (let b = 0; b < n; b++) {
    const xb = x + <usize>(b * c * h * w) * 4;
    if (pad > 0) padImage(xb, c, h, w, pad, pad, xp);
    im2colPadded(pad > 0 ? xp : xb, c, hp, wp, kh, kw, stride, oh, ow, col);
    sgemm(0, 1, K, oc, P, 1, col, dy + <usize>(b * oc * P) * 4, b == 0 ? 0 : 1, dwT, gemmWork);
  }
}

/**
 * Chunks g0 .. g1-1 of conv2dBackwardFilterChunks(n): parts[g] (K * oc floats
 * each, K = c*kh*kw) = dW^T of the images of chunk g. work: conv2dWorkspaceBytes.
 */
export function conv2dBackwardFilterParts(x: usize, dy: usize, parts: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32, g0: i32, g1: i32, work: usize): void {
  const chunks = conv2dBackwardFilterChunks(n), K = c * kh * kw;
  const wino4 = winograd4FilterApplies(chunkImages(n), c, h, w, oc, kh, kw, stride, pad);
  const wino = !wino4 && winogradFilterApplies(c, h, w, oc, kh, kw, stride, pad);
  if (wino4) winograd4FilterPrepare(c, h, w, oc, work);
  if (wino) winogradFilterPrepare(c, h, w, oc, work);
  for (let g = g0; g < g1; g++) {
    const b0 = <i32>(<i64>g * n / chunks), b1 = <i32>(<i64>(g + 1) * n / chunks);
    if (wino4) {
      winograd4FilterChunk(x + <usize>(b0 * c * h * w) * 4, dy + <usize>(b0 * oc * oh * ow) * 4, parts + <usize>(g * K * oc) * 4,
        b1 - b0, c, h, w, oc, work);
      continue;
    }
    if (wino) {
      winogradFilterChunk(x + <usize>(b0 * c * h * w) * 4, dy + <usize>(b0 * oc * oh * ow) * 4, parts + <usize>(g * K * oc) * 4,
        b1 - b0, c, h, w, oc, work);
      continue;
    }
    filterChunk(x + <usize>(b0 * c * h * w) * 4, dy + <usize>(b0 * oc * oh * ow) * 4, parts + <usize>(g * K * oc) * 4,
      b1 - b0, c, h, w, oc, kh, kw, stride, pad, oh, ow, work);
  }
}

/** dw [oc, K] = (parts[0] + parts[1] + ... + parts[count-1])^T, added in that order. */
export function conv2dBackwardFilterReduce(parts: usize, count: i32, dw: usize, oc: i32, K: i32): void {
  const len = K * oc;
  for (let g = 1; g < count; g++) addF32(parts, parts + <usize>(g * len) * 4, len);
  // The filter is small, a scalar transpose is enough.
  for (let o = 0; o < oc; o++) {
    for (let kk = 0; kk < K; kk++) {
      store<f32>(dw + <usize>(o * K + kk) * 4, load<f32>(parts + <usize>(kk * oc + o) * 4));
    }
  }
}

/** dw [oc, c, kh, kw] = sum over the batch of dy * x at each tap. Overwrites dw. */
export function conv2dBackwardFilter(x: usize, dy: usize, dw: usize, n: i32, c: i32, h: i32, w: i32, oc: i32,
  kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32, work: usize): void {
  const chunks = conv2dBackwardFilterChunks(n);
  const parts = work + <usize>filterBytes(n, c, h, w, oc, kh, kw, stride, pad, oh, ow);
  conv2dBackwardFilterParts(x, dy, parts, n, c, h, w, oc, kh, kw, stride, pad, oh, ow, 0, chunks, work);
  conv2dBackwardFilterReduce(parts, chunks, dw, oc, c * kh * kw);
}
