/**
 * Augmentation and normalisation of byte images (CHW) into float32.
 * Pure TypeScript, no Node imports.
 *
 * The training transform of the CIFAR-LT recipe, as torchvision composes it:
 * `RandomCrop(size, padding=4)` (zero padding, then a size x size window at a
 * random offset), `RandomHorizontalFlip()`, `ToTensor()` (byte / 255),
 * `Normalize(mean, std)`. The crop keeps the input size, so 1x28x28
 * Fashion-MNIST stays 28x28 (the ResNet ends in global average pooling).
 */
import type { MT19937 } from './mt19937.js';

export interface ImageShape {
  c: number;
  h: number;
  w: number;
}

/**
 * One image's random choices. The crop window's top-left corner is (top, left)
 * in the padded image, each in [0, 2 * pad]; (pad, pad) is no shift.
 */
export interface AugmentParams {
  top: number;
  left: number;
  flip: boolean;
}

/** Random crop with `pad` pixels of zero padding and/or a random horizontal flip. */
export interface AugmentOptions {
  pad: number;
  flip: boolean;
}

/** The recipe's training augmentation: pad 4, random flip. */
export const DEFAULT_AUGMENT: Readonly<AugmentOptions> = { pad: 4, flip: true };

/**
 * Draws one image's parameters: top, then left (`randomInterval(2 * pad)` each,
 * as torchvision draws i then j), then the flip bit (`randomInterval(1)`).
 * Nothing is drawn for a disabled part.
 */
export function sampleAugment(rng: MT19937, opts: AugmentOptions): AugmentParams {
  const top = opts.pad > 0 ? rng.randomInterval(2 * opts.pad) : 0;
  const left = opts.pad > 0 ? rng.randomInterval(2 * opts.pad) : 0;
  const flip = opts.flip ? rng.randomInterval(1) === 1 : false;
  return { top, left, flip };
}

/** Horizontal mirror of a CHW byte image (a new array). */
export function hflip(img: Uint8Array, shape: ImageShape): Uint8Array {
  const { c, h, w } = shape;
  const out = new Uint8Array(c * h * w);
  for (let p = 0; p < c * h; p++) {
    const row = p * w;
    for (let x = 0; x < w; x++) out[row + x] = img[row + w - 1 - x];
  }
  return out;
}

/**
 * The h x w window at (top, left) of the image zero-padded by `pad` on every
 * side (a new array). top = left = pad returns the image unchanged.
 */
export function padCrop(img: Uint8Array, shape: ImageShape, pad: number, top: number, left: number): Uint8Array {
  const { c, h, w } = shape;
  const out = new Uint8Array(c * h * w);
  const dy = top - pad;
  const dx = left - pad;
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = x + dx;
        if (sx >= 0 && sx < w) out[(ch * h + y) * w + x] = img[(ch * h + sy) * w + sx];
      }
    }
  }
  return out;
}

/**
 * Per-channel lookup table: `lut[ch * 256 + v] = float32((v / 255 - mean[ch]) / std[ch])`.
 * Zero padding is byte 0, so padded pixels become -mean/std, as in torchvision.
 */
export function normalizationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  if (mean.length !== std.length || mean.length === 0) {
    throw new RangeError(`normalization: mean (${mean.length}) and std (${std.length}) need one value a channel`);
  }
  const lut = new Float32Array(256 * mean.length);
  for (let ch = 0; ch < mean.length; ch++) {
    if (!(std[ch] > 0)) throw new RangeError(`normalization: std[${ch}] = ${std[ch]} must be > 0`);
    for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - mean[ch]) / std[ch];
  }
  return lut;
}

/** Normalises a CHW byte image into float32 (no augmentation). */
export function normalize(img: Uint8Array, shape: ImageShape, mean: readonly number[], std: readonly number[]): Float32Array {
  const out = new Float32Array(shape.c * shape.h * shape.w);
  writeImage(img, 0, shape, null, 0, normalizationTable(mean, std), out, 0);
  return out;
}

/**
 * The fused path the batch iterator uses: crop (pad from `pad`, window from
 * `params`), flip, normalise through `lut`, from `src[srcOffset..]` into
 * `out[outOffset..]`. `params = null` copies and normalises only.
 * Equal to `normalize(hflip?(padCrop(img)))` element for element.
 */
export function writeImage(
  src: Uint8Array,
  srcOffset: number,
  shape: ImageShape,
  params: AugmentParams | null,
  pad: number,
  lut: Float32Array,
  out: Float32Array,
  outOffset: number,
): void {
  const { c, h, w } = shape;
  if (lut.length !== 256 * c) throw new RangeError(`writeImage: normalisation table for ${lut.length / 256} channels, image has ${c}`);
  const dy = params ? params.top - pad : 0;
  const dx = params ? params.left - pad : 0;
  const flip = params ? params.flip : false;
  for (let ch = 0; ch < c; ch++) {
    const base = ch * 256;
    const zero = lut[base];
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      const o = outOffset + (ch * h + y) * w;
      if (sy < 0 || sy >= h) {
        out.fill(zero, o, o + w);
        continue;
      }
      const row = srcOffset + (ch * h + sy) * w;
      for (let x = 0; x < w; x++) {
        // The flip mirrors the cropped window: output column x reads window column w-1-x.
        const sx = (flip ? w - 1 - x : x) + dx;
        out[o + x] = sx >= 0 && sx < w ? lut[base + src[row + sx]] : zero;
      }
    }
  }
}
