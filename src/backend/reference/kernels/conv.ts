// Plain references for assembly/conv.ts: direct loops over the definition of
// a 2-D convolution (cross-correlation, as in PyTorch), NCHW, zero padding.
import type { ConvGeometry } from '../../backend.js';
import type { FArray } from './types.js';

/**
 * Calls tap(yi, xi, wi) for every product x[xi] * w[wi] that the forward adds
 * into y[yi] (flat NCHW indices of y, x and w), skipping the taps that fall on
 * the zero padding. The order is b, o, oy, ox, then ci, i, j.
 */
function forEachTap(g: ConvGeometry, tap: (yi: number, xi: number, wi: number) => void): void {
  const { n, c, h, w: width, oc, kh, kw, stride, pad, oh, ow } = g;
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < oc; o++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const yi = ((b * oc + o) * oh + oy) * ow + ox;
          for (let ci = 0; ci < c; ci++) {
            for (let i = 0; i < kh; i++) {
              const iy = oy * stride + i - pad;
              if (iy < 0 || iy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const ix = ox * stride + j - pad;
                if (ix < 0 || ix >= width) continue;
                tap(yi, ((b * c + ci) * h + iy) * width + ix, ((o * c + ci) * kh + i) * kw + j);
              }
            }
          }
        }
      }
    }
  }
}

/** y[b, o, oy, ox] = sum over ci, i, j of x[b, ci, oy*s + i - pad, ox*s + j - pad] * w[o, ci, i, j]. */
export function conv2dForwardRef(x: FArray, w: FArray, y: FArray, g: ConvGeometry): void {
  const sum = new Float64Array(g.n * g.oc * g.oh * g.ow); // float64 sums, rounded once on the way out
  forEachTap(g, (yi, xi, wi) => {
    sum[yi] += x[xi] * w[wi];
  });
  y.set(sum);
}

/** The inference fusion: y = act(conv(x, w) * scale[o] + shift[o] + residual), act = ReLU where relu (NaN stays NaN). */
export function conv2dForwardAffineRef(
  x: FArray,
  w: FArray,
  y: FArray,
  g: ConvGeometry,
  scale: FArray,
  shift: FArray,
  residual: FArray | null,
  relu: boolean,
): void {
  conv2dForwardRef(x, w, y, g);
  const P = g.oh * g.ow;
  for (let b = 0; b < g.n; b++) {
    for (let o = 0; o < g.oc; o++) {
      for (let p = 0; p < P; p++) {
        const i = (b * g.oc + o) * P + p;
        const v = y[i] * scale[o] + shift[o] + (residual ? residual[i] : 0);
        y[i] = relu ? Math.max(v, 0) : v;
      }
    }
  }
}

/** dx = d(sum dy * y) / dx: every product of the forward sends dy * w back to its input pixel. Overwrites dx. */
export function conv2dBackwardInputRef(dy: FArray, w: FArray, dx: FArray, g: ConvGeometry): void {
  dx.fill(0, 0, g.n * g.c * g.h * g.w);
  forEachTap(g, (yi, xi, wi) => {
    dx[xi] += dy[yi] * w[wi];
  });
}

/** dw[o, ci, i, j] = sum over the batch and output pixels of dy * x at the pixel the tap saw. Overwrites dw. */
export function conv2dBackwardFilterRef(x: FArray, dy: FArray, dw: FArray, g: ConvGeometry): void {
  const sum = new Float64Array(g.oc * g.c * g.kh * g.kw);
  forEachTap(g, (yi, xi, wi) => {
    sum[wi] += dy[yi] * x[xi];
  });
  dw.set(sum);
}

/**
 * Calls entry(k, xi) for every entry k = (row * oh + oy) * ow + ox, row =
 * (ci * kh + i) * kw + j, of one image's column matrix, with xi the index in
 * x [c, h, w] of the pixel x[ci, oy*s + i - pad, ox*s + j - pad] it holds, or
 * -1 where that pixel is zero padding.
 */
function forEachColumnEntry(g: ConvGeometry, entry: (k: number, xi: number) => void): void {
  const { c, h, w: width, kh, kw, stride, pad, oh, ow } = g;
  for (let ci = 0; ci < c; ci++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = (ci * kh + i) * kw + j;
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const iy = oy * stride + i - pad;
            const ix = ox * stride + j - pad;
            const inside = iy >= 0 && iy < h && ix >= 0 && ix < width;
            entry((row * oh + oy) * ow + ox, inside ? (ci * h + iy) * width + ix : -1);
          }
        }
      }
    }
  }
}

/**
 * One image x [c, h, w] to columns: col[(ci*kh + i)*kw + j, oy*ow + ox] =
 * x[ci, oy*s + i - pad, ox*s + j - pad], zero outside the image. Only g's
 * c, h, w, kh, kw, stride, pad, oh, ow are used.
 */
export function im2colRef(x: FArray, col: FArray, g: ConvGeometry): void {
  forEachColumnEntry(g, (k, xi) => {
    col[k] = xi < 0 ? 0 : x[xi];
  });
}

/** The adjoint of im2colRef: adds every column entry back onto its pixel of x (the caller zeroes x). */
export function col2imRef(col: FArray, x: FArray, g: ConvGeometry): void {
  forEachColumnEntry(g, (k, xi) => {
    if (xi >= 0) x[xi] += col[k];
  });
}
