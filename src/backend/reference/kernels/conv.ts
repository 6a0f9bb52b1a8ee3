// Plain references for assembly/conv.ts: direct loops over the definition of
// a 2-D convolution (cross-correlation, as in PyTorch), NCHW, zero padding.
import type { ConvGeometry } from '../../backend.js';
import type { FArray } from './types.js';

/** y[b, o, oy, ox] = sum over ci, i, j of x[b, ci, oy*s + i - pad, ox*s + j - pad] * w[o, ci, i, j]. */
export function conv2dForwardRef(x: FArray, w: FArray, y: FArray, g: ConvGeometry): void {
  const { n, c, h, w: width, oc, kh, kw, stride, pad, oh, ow } = g;
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < oc; o++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let sum = 0;
          for (let ci = 0; ci < c; ci++) {
            for (let i = 0; i < kh; i++) {
              const iy = oy * stride + i - pad;
              if (iy < 0 || iy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const ix = ox * stride + j - pad;
                if (ix < 0 || ix >= width) continue;
                sum += x[((b * c + ci) * h + iy) * width + ix] * w[((o * c + ci) * kh + i) * kw + j];
              }
            }
          }
          y[((b * oc + o) * oh + oy) * ow + ox] = sum;
        }
      }
    }
  }
}

/** dx = d(sum dy * y) / dx: every product of the forward sends dy * w back to its input pixel. Overwrites dx. */
export function conv2dBackwardInputRef(dy: FArray, w: FArray, dx: FArray, g: ConvGeometry): void {
  const { n, c, h, w: width, oc, kh, kw, stride, pad, oh, ow } = g;
  dx.fill(0, 0, n * c * h * width);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < oc; o++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const d = dy[((b * oc + o) * oh + oy) * ow + ox];
          for (let ci = 0; ci < c; ci++) {
            for (let i = 0; i < kh; i++) {
              const iy = oy * stride + i - pad;
              if (iy < 0 || iy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const ix = ox * stride + j - pad;
                if (ix < 0 || ix >= width) continue;
                dx[((b * c + ci) * h + iy) * width + ix] += d * w[((o * c + ci) * kh + i) * kw + j];
              }
            }
          }
        }
      }
    }
  }
}

/** dw[o, ci, i, j] = sum over the batch and output pixels of dy * x at the pixel the tap saw. Overwrites dw. */
export function conv2dBackwardFilterRef(x: FArray, dy: FArray, dw: FArray, g: ConvGeometry): void {
  const { n, c, h, w: width, oc, kh, kw, stride, pad, oh, ow } = g;
  for (let o = 0; o < oc; o++) {
    for (let ci = 0; ci < c; ci++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          let sum = 0;
          for (let b = 0; b < n; b++) {
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * stride + i - pad;
              if (iy < 0 || iy >= h) continue;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * stride + j - pad;
                if (ix < 0 || ix >= width) continue;
                sum += dy[((b * oc + o) * oh + oy) * ow + ox] * x[((b * c + ci) * h + iy) * width + ix];
              }
            }
          }
          dw[((o * c + ci) * kh + i) * kw + j] = sum;
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
            col[(row * oh + oy) * ow + ox] = inside ? x[(ci * h + iy) * width + ix] : 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2colRef: adds every column entry back onto its pixel of x (the caller zeroes x). */
export function col2imRef(col: FArray, x: FArray, g: ConvGeometry): void {
  const { c, h, w: width, kh, kw, stride, pad, oh, ow } = g;
  for (let ci = 0; ci < c; ci++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = (ci * kh + i) * kw + j;
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const iy = oy * stride + i - pad;
            const ix = ox * stride + j - pad;
            if (iy >= 0 && iy < h && ix >= 0 && ix < width) x[(ci * h + iy) * width + ix] += col[(row * oh + oy) * ow + ox];
          }
        }
      }
    }
  }
}
