/**
 * Cutout (DeVries & Taylor 2017) on CHW byte images: one size x size square
 * set to 0 in every channel, its centre uniform over the image, clipped at
 * the borders (so near an edge less than size^2 pixels are cut).
 *
 * The reference code zeroes the normalised tensor (the mean colour); on bytes,
 * before normalisation as the long-tail code bases place it (PaCo, NCL:
 * `ToTensor(), Cutout(...), Normalize(...)`), the square is black, the same
 * value as the crop's zero padding. The square covers rows
 * [cy - floor(size / 2), cy - floor(size / 2) + size): for even sizes that is
 * the reference's [cy - size // 2, cy + size // 2); for odd sizes the
 * reference cuts size - 1, this cuts size.
 * Pure TypeScript, no Node imports.
 */
import type { ImageShape } from './augment.js';
import type { MT19937 } from './mt19937.js';

/** The square's centre (row, column). */
export interface CutoutParams {
  cy: number;
  cx: number;
}

/** Draws the centre: row (randomInterval(h - 1)), then column, as the reference's np.random.randint(h), randint(w). */
export function sampleCutout(rng: MT19937, shape: ImageShape): CutoutParams {
  const cy = rng.randomInterval(shape.h - 1);
  const cx = rng.randomInterval(shape.w - 1);
  return { cy, cx };
}

/** The image with the size x size square at `params` zeroed (a new array). */
export function cutout(img: Uint8Array, shape: ImageShape, size: number, params: CutoutParams): Uint8Array {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`cutout: size must be a non-negative integer, got ${size}`);
  const { c, h, w } = shape;
  const out = img.slice();
  const y0 = Math.max(0, params.cy - Math.floor(size / 2));
  const y1 = Math.min(h, params.cy - Math.floor(size / 2) + size);
  const x0 = Math.max(0, params.cx - Math.floor(size / 2));
  const x1 = Math.min(w, params.cx - Math.floor(size / 2) + size);
  for (let ch = 0; ch < c; ch++) {
    for (let y = y0; y < y1; y++) out.fill(0, (ch * h + y) * w + x0, (ch * h + y) * w + Math.max(x0, x1));
  }
  return out;
}
