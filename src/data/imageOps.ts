/**
 * The image operations of AutoAugment on CHW byte images (1 or 3 channels),
 * each reproducing what Pillow (9.x, the version the reference code runs on)
 * does to an 'L' or 'RGB' image: the same sampling rule, the same rounding,
 * the same float32 arithmetic where Pillow's C code uses float. Every op
 * returns a new array. Pure TypeScript, no Node imports.
 *
 * Checked against Pillow on random images in test/data/imageOps.test.ts:
 * every op at every policy level and sign matched exactly there (280 cases
 * on each of three image shapes). Where the arithmetic could still differ:
 * - sharpness: the 3x3 smoothing sums in float32 in Pillow's order, but
 *   compilers may fuse or reorder float operations there; a sum that lands
 *   within float rounding of .5 can round the other way (one level), so its
 *   test allows one level.
 * - rotate: Pillow rounds cos and sin to 15 decimals with Python's round();
 *   ours rounds with Math.round(x * 1e15) / 1e15, which can differ in the last
 *   bit. Only a sample landing within that bit of a pixel edge after the
 *   16.16 fixed-point step would pick the neighbouring pixel; none did.
 * Rotations by exact multiples of 90 degrees, which Pillow turns into
 * transposes, are not used by any policy and take the general path here.
 */
import type { ImageShape } from './augment.js';

/** Pillow's ImagingBlend(degenerate, image, factor): the enhancers' output, float32 arithmetic as in Blend.c. */
function blend(degenerate: Uint8Array, img: Uint8Array, factor: number): Uint8Array {
  const alpha = Math.fround(factor);
  if (alpha === 0) return degenerate.slice();
  if (alpha === 1) return img.slice();
  const out = new Uint8Array(img.length);
  const inside = alpha >= 0 && alpha <= 1;
  for (let i = 0; i < img.length; i++) {
    const a = degenerate[i];
    const v = Math.fround(a + Math.fround(alpha * (img[i] - a)));
    // C's (UINT8) cast of a float truncates; extrapolation clips first.
    out[i] = inside ? Math.trunc(v) : v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return out;
}

/** Pillow's RGB -> L conversion (ITU-R 601-2 luma in 16-bit fixed point): one plane of h * w. */
export function luminance(img: Uint8Array, shape: ImageShape): Uint8Array {
  const plane = shape.h * shape.w;
  if (shape.c === 1) return img.slice(0, plane);
  if (shape.c !== 3) throw new RangeError(`luminance: images need 1 or 3 channels, got ${shape.c}`);
  const out = new Uint8Array(plane);
  for (let p = 0; p < plane; p++) {
    out[p] = (img[p] * 19595 + img[plane + p] * 38470 + img[2 * plane + p] * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** Applies a 256-entry table to every channel. */
function lookup(img: Uint8Array, lut: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = lut[img[i]];
  return out;
}

/** 255 - v (ImageOps.invert). */
export function invert(img: Uint8Array): Uint8Array {
  return lookup(
    img,
    Array.from({ length: 256 }, (_, v) => 255 - v),
  );
}

/** Keeps the top `bits` (1..8) of every value (ImageOps.posterize). */
export function posterize(img: Uint8Array, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new RangeError(`posterize: bits must be an integer in 1..8, got ${bits}`);
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  return lookup(
    img,
    Array.from({ length: 256 }, (_, v) => v & mask),
  );
}

/** Inverts values >= threshold (ImageOps.solarize; the policy's thresholds are fractional). */
export function solarize(img: Uint8Array, threshold: number): Uint8Array {
  return lookup(
    img,
    Array.from({ length: 256 }, (_, v) => (v < threshold ? v : 255 - v)),
  );
}

/** Per-channel histograms (256 bins each). */
function histograms(img: Uint8Array, shape: ImageShape): Int32Array[] {
  const plane = shape.h * shape.w;
  return Array.from({ length: shape.c }, (_, ch) => {
    const h = new Int32Array(256);
    for (let p = 0; p < plane; p++) h[img[ch * plane + p]]++;
    return h;
  });
}

/** Applies one table per channel. */
function lookupPerChannel(img: Uint8Array, shape: ImageShape, luts: ArrayLike<number>[]): Uint8Array {
  const plane = shape.h * shape.w;
  const out = new Uint8Array(img.length);
  for (let ch = 0; ch < shape.c; ch++) {
    const lut = luts[ch];
    for (let p = ch * plane; p < (ch + 1) * plane; p++) out[p] = lut[img[p]];
  }
  return out;
}

/** Stretches each channel's [min, max] to [0, 255] (ImageOps.autocontrast, cutoff 0). */
export function autocontrast(img: Uint8Array, shape: ImageShape): Uint8Array {
  const luts = histograms(img, shape).map((h) => {
    let lo = 0;
    while (lo < 255 && !h[lo]) lo++;
    let hi = 255;
    while (hi > 0 && !h[hi]) hi--;
    if (hi <= lo) return Array.from({ length: 256 }, (_, v) => v);
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    return Array.from({ length: 256 }, (_, v) => Math.min(255, Math.max(0, Math.trunc(v * scale + offset))));
  });
  return lookupPerChannel(img, shape, luts);
}

/** Histogram equalisation per channel (ImageOps.equalize, its integer steps). */
export function equalize(img: Uint8Array, shape: ImageShape): Uint8Array {
  const luts = histograms(img, shape).map((h) => {
    const used = Array.from(h).filter((v) => v > 0);
    const identity = Array.from({ length: 256 }, (_, v) => v);
    if (used.length <= 1) return identity;
    const step = Math.floor((used.reduce((a, b) => a + b, 0) - used[used.length - 1]) / 255);
    if (!step) return identity;
    const lut = new Array<number>(256);
    let n = Math.floor(step / 2);
    for (let v = 0; v < 256; v++) {
      lut[v] = Math.min(255, Math.floor(n / step));
      n += h[v];
    }
    return lut;
  });
  return lookupPerChannel(img, shape, luts);
}

/** ImageEnhance.Color: blend with the luminance image (grey images are unchanged). */
export function color(img: Uint8Array, shape: ImageShape, factor: number): Uint8Array {
  if (shape.c === 1) return blend(img, img, factor);
  const l = luminance(img, shape);
  const grey = new Uint8Array(img.length);
  for (let ch = 0; ch < shape.c; ch++) grey.set(l, ch * l.length);
  return blend(grey, img, factor);
}

/** ImageEnhance.Contrast: blend with a flat image at the rounded mean luminance. */
export function contrast(img: Uint8Array, shape: ImageShape, factor: number): Uint8Array {
  const l = luminance(img, shape);
  let sum = 0;
  for (const v of l) sum += v;
  const mean = Math.trunc(sum / l.length + 0.5);
  return blend(new Uint8Array(img.length).fill(mean), img, factor);
}

/** ImageEnhance.Brightness: blend with black. */
export function brightness(img: Uint8Array, factor: number): Uint8Array {
  return blend(new Uint8Array(img.length), img, factor);
}

/**
 * ImageEnhance.Sharpness: blend with ImageFilter.SMOOTH (3x3 kernel
 * [1 1 1; 1 5 1; 1 1 1] / 13, border pixels copied unchanged, rounded).
 */
export function sharpness(img: Uint8Array, shape: ImageShape, factor: number): Uint8Array {
  const { c, h, w } = shape;
  const smooth = img.slice();
  const k1 = Math.fround(1 / 13);
  const k5 = Math.fround(5 / 13);
  const f = Math.fround;
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        let ss = 0.5;
        for (let dy = 1; dy >= -1; dy--) {
          const row = base + (y + dy) * w + x;
          const centre = dy === 0 ? k5 : k1;
          const part = f(f(f(img[row - 1] * k1) + f(img[row] * centre)) + f(img[row + 1] * k1));
          ss = f(ss + part);
        }
        smooth[base + y * w + x] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
    }
  }
  return blend(smooth, img, factor);
}

/** An affine map from output to input pixel coordinates, Pillow's (a, b, c, d, e, f): x_in = a x + b y + c, y_in = d x + e y + f. */
export type AffineMatrix = readonly [number, number, number, number, number, number];

/**
 * Image.transform(size, AFFINE, matrix, NEAREST, fillcolor=fill): Pillow's two
 * nearest-neighbour engines, ImagingScaleAffine (no rotation or shear, double
 * arithmetic) and affine_fixed (16.16 fixed point), sampling at pixel centres.
 */
export function affineNearest(img: Uint8Array, shape: ImageShape, m: AffineMatrix, fill: number): Uint8Array {
  const { c, h, w } = shape;
  const out = new Uint8Array(img.length).fill(fill);
  const coord = (v: number) => (v < 0 ? -1 : Math.trunc(v));
  if (m[1] === 0 && m[3] === 0) {
    const xin = new Int32Array(w);
    let xo = m[2] + m[0] * 0.5;
    for (let x = 0; x < w; x++) {
      xin[x] = coord(xo);
      xo += m[0];
    }
    let yo = m[5] + m[4] * 0.5;
    for (let y = 0; y < h; y++) {
      const yi = coord(yo);
      yo += m[4];
      if (yi < 0 || yi >= h) continue;
      for (let x = 0; x < w; x++) {
        if (xin[x] < 0 || xin[x] >= w) continue;
        for (let ch = 0; ch < c; ch++) out[(ch * h + y) * w + x] = img[(ch * h + yi) * w + xin[x]];
      }
    }
    return out;
  }
  const fix = (v: number) => Math.floor(v * 65536 + 0.5);
  const a0 = fix(m[0]);
  const a1 = fix(m[1]);
  const a3 = fix(m[3]);
  const a4 = fix(m[4]);
  let a2 = fix(m[2] + m[0] * 0.5 + m[1] * 0.5);
  let a5 = fix(m[5] + m[3] * 0.5 + m[4] * 0.5);
  for (let y = 0; y < h; y++) {
    let xx = a2;
    let yy = a5;
    for (let x = 0; x < w; x++) {
      const xi = xx >> 16;
      const yi = yy >> 16;
      if (xi >= 0 && xi < w && yi >= 0 && yi < h) {
        for (let ch = 0; ch < c; ch++) out[(ch * h + y) * w + x] = img[(ch * h + yi) * w + xi];
      }
      xx += a0;
      yy += a3;
    }
    a2 += a1;
    a5 += a4;
  }
  return out;
}

/** Pillow's cubic (Geometry.c's BICUBIC macro, a = -1) through four samples at offset d. */
function cubic(v1: number, v2: number, v3: number, v4: number, d: number): number {
  const p2 = -v1 + v3;
  const p3 = 2 * (v1 - v2) + v3 - v4;
  const p4 = -v1 + v2 - v3 + v4;
  return v2 + d * (p2 + d * (p3 + d * p4));
}

/**
 * Image.transform(size, AFFINE, matrix, BICUBIC, fillcolor=fill): Pillow's
 * generic engine with bicubic_filter32RGB / bicubic_filter8, including its
 * edge rule (the first row clamps to the image, later rows outside repeat the
 * row before) and its truncating conversion to bytes.
 */
export function affineBicubic(img: Uint8Array, shape: ImageShape, m: AffineMatrix, fill: number): Uint8Array {
  const { c, h, w } = shape;
  const out = new Uint8Array(img.length).fill(fill);
  const clipX = (x: number) => (x < 0 ? 0 : x < w ? x : w - 1);
  const clipY = (y: number) => (y < 0 ? 0 : y < h ? y : h - 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
      let yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
      if (xin < 0 || xin >= w || yin < 0 || yin >= h) continue;
      xin -= 0.5;
      yin -= 0.5;
      const fx = Math.floor(xin);
      const fy = Math.floor(yin);
      const dx = xin - fx;
      const dy = yin - fy;
      const x0 = clipX(fx - 1);
      const x1 = clipX(fx);
      const x2 = clipX(fx + 1);
      const x3 = clipX(fx + 2);
      const y0 = fy - 1;
      for (let ch = 0; ch < c; ch++) {
        const plane = ch * h * w;
        const row = (r: number) => {
          const o = plane + r * w;
          return cubic(img[o + x0], img[o + x1], img[o + x2], img[o + x3], dx);
        };
        const v1 = row(clipY(y0));
        const v2 = y0 + 1 >= 0 && y0 + 1 < h ? row(y0 + 1) : v1;
        const v3 = y0 + 2 >= 0 && y0 + 2 < h ? row(y0 + 2) : v2;
        const v4 = y0 + 3 >= 0 && y0 + 3 < h ? row(y0 + 3) : v3;
        const v = cubic(v1, v2, v3, v4, dy);
        out[plane + y * w + x] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
      }
    }
  }
  return out;
}

/** Python's round(v, 15), closely enough (see the header). */
function round15(v: number): number {
  return Math.round(v * 1e15) / 1e15;
}

/** Image.rotate(degrees) (counter-clockwise about the centre, nearest neighbour), outside filled with `fill`. */
export function rotate(img: Uint8Array, shape: ImageShape, degrees: number, fill: number): Uint8Array {
  if (degrees % 360 === 0) return img.slice();
  const angle = (-degrees * Math.PI) / 180;
  const cos = round15(Math.cos(angle));
  const sin = round15(Math.sin(angle));
  const cx = shape.w / 2;
  const cy = shape.h / 2;
  const m: AffineMatrix = [cos, sin, cos * -cx + sin * -cy + cx, -sin, cos, -sin * -cx + cos * -cy + cy];
  return affineNearest(img, shape, m, fill);
}

/** Shear along x: x_in = x + m y (bicubic), as AutoAugment's ShearX. */
export function shearX(img: Uint8Array, shape: ImageShape, m: number, fill: number): Uint8Array {
  return affineBicubic(img, shape, [1, m, 0, 0, 1, 0], fill);
}

/** Shear along y: y_in = m x + y (bicubic), as AutoAugment's ShearY. */
export function shearY(img: Uint8Array, shape: ImageShape, m: number, fill: number): Uint8Array {
  return affineBicubic(img, shape, [1, 0, 0, m, 1, 0], fill);
}

/** x_in = x + pixels (nearest): content moves left by `pixels`. */
export function translateX(img: Uint8Array, shape: ImageShape, pixels: number, fill: number): Uint8Array {
  return affineNearest(img, shape, [1, 0, pixels, 0, 1, 0], fill);
}

/** y_in = y + pixels (nearest): content moves up by `pixels`. */
export function translateY(img: Uint8Array, shape: ImageShape, pixels: number, fill: number): Uint8Array {
  return affineNearest(img, shape, [1, 0, 0, 0, 1, pixels], fill);
}
