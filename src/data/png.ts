/**
 * A small PNG decoder for `predict` and image-folder data sets: every colour
 * type (grey, grey + alpha, RGB, RGBA, palette), every bit depth the format
 * allows (1, 2, 4, 8, 16), tRNS transparency and Adam7 interlacing. The zlib
 * inflate is injected (node:zlib in Node, DecompressionStream elsewhere) so
 * this file stays runtime-neutral.
 */
import { resizePlanes } from './resize.js';

export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, row-major, 4 bytes a pixel. */
  rgba: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** The largest image (width x height) a decoder here allocates for: 64 Mpixel, 256 MB of RGBA. */
export const MAX_IMAGE_PIXELS = 1 << 26;

/** Samples a pixel for each colour type. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Bit depths each colour type allows (PNG spec, table 11.1). */
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: number;
}

/** Adam7's seven passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** The passes of an image as (x0, y0, dx, dy, columns, rows); one pass covering it all when not interlaced. */
function passesOf(h: PngHeader): [number, number, number, number, number, number][] {
  const passes = h.interlace ? ADAM7 : ([[0, 0, 1, 1]] as const);
  return passes
    .map(
      ([x0, y0, dx, dy]) =>
        [x0, y0, dx, dy, Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy)] as [
          number,
          number,
          number,
          number,
          number,
          number,
        ],
    )
    .filter(([, , , , cols, rows]) => cols > 0 && rows > 0);
}

/** Bytes of one filtered scanline of `cols` pixels. */
function rowBytes(h: PngHeader, cols: number): number {
  return Math.ceil((cols * CHANNELS[h.colorType] * h.depth) / 8);
}

/** The inflated size the header implies: what a decoder may allocate for, known before inflating. */
function expectedRawBytes(h: PngHeader): number {
  return passesOf(h).reduce((s, [, , , , cols, rows]) => s + rows * (rowBytes(h, cols) + 1), 0);
}

/** Undoes the per-row filters of one pass in place (PNG spec, section 9). */
function unfilterPass(raw: Uint8Array, start: number, stride: number, rows: number, bpp: number, fail: (why: string) => never): Uint8Array {
  const pixels = new Uint8Array(rows * stride);
  for (let y = 0; y < rows; y++) {
    const filter = raw[start + y * (stride + 1)];
    const line = raw.subarray(start + y * (stride + 1) + 1, start + (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      let p: number;
      switch (filter) {
        case 0:
          p = 0;
          break;
        case 1:
          p = a;
          break;
        case 2:
          p = b;
          break;
        case 3:
          p = (a + b) >> 1;
          break;
        case 4: {
          const pa = Math.abs(b - c),
            pb = Math.abs(a - c),
            pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          return fail(`unknown filter type ${filter} on row ${y}`);
      }
      out[i] = (line[i] + p) & 255;
    }
  }
  return pixels;
}

/** Sample k of an unfiltered row at the header's bit depth (sub-byte samples are packed high bit first). */
function sampleAt(row: Uint8Array, k: number, depth: number): number {
  if (depth === 8) return row[k];
  if (depth === 16) return (row[2 * k] << 8) | row[2 * k + 1];
  const bit = k * depth;
  return (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

/**
 * The image's pixels as RGBA bytes. 16-bit samples keep their high byte (as
 * libpng's strip_16 and Pillow's RGB(A) modes); 1/2/4-bit grey is scaled to
 * 0..255; tRNS makes a palette entry, grey level or RGB colour transparent.
 */
function toRgba(
  h: PngHeader,
  raw: Uint8Array,
  palette: Uint8Array | null,
  transparency: Uint8Array | null,
  fail: (why: string) => never,
): Uint8Array {
  const channels = CHANNELS[h.colorType];
  const bpp = Math.max(1, (channels * h.depth) >> 3);
  const rgba = new Uint8Array(h.width * h.height * 4);
  const max = (1 << h.depth) - 1;
  const to8 = h.depth === 16 ? (v: number) => v >> 8 : h.depth === 8 ? (v: number) => v : (v: number) => Math.round((v * 255) / max);
  const key =
    transparency && (h.colorType === 0 || h.colorType === 2)
      ? Array.from({ length: channels }, (_, k) => (transparency[2 * k] << 8) | transparency[2 * k + 1])
      : null;
  let start = 0;
  for (const [x0, y0, dx, dy, cols, rows] of passesOf(h)) {
    const stride = rowBytes(h, cols);
    const pixels = unfilterPass(raw, start, stride, rows, bpp, fail);
    start += rows * (stride + 1);
    const sample = [0, 0, 0, 0];
    for (let r = 0; r < rows; r++) {
      const row = pixels.subarray(r * stride, (r + 1) * stride);
      for (let col = 0; col < cols; col++) {
        for (let k = 0; k < channels; k++) sample[k] = sampleAt(row, col * channels + k, h.depth);
        const o = ((y0 + r * dy) * h.width + x0 + col * dx) * 4;
        if (h.colorType === 3) {
          const i = sample[0];
          if (!palette || i * 3 + 2 >= palette.length) return fail(`palette index ${i} out of range`);
          rgba[o] = palette[i * 3];
          rgba[o + 1] = palette[i * 3 + 1];
          rgba[o + 2] = palette[i * 3 + 2];
          rgba[o + 3] = transparency && i < transparency.length ? transparency[i] : 255;
          continue;
        }
        const grey = channels <= 2;
        rgba[o] = to8(sample[0]);
        rgba[o + 1] = to8(sample[grey ? 0 : 1]);
        rgba[o + 2] = to8(sample[grey ? 0 : 2]);
        rgba[o + 3] = channels === 2 ? to8(sample[1]) : channels === 4 ? to8(sample[3]) : 255;
        if (key?.every((v, k) => v === sample[k])) rgba[o + 3] = 0;
      }
    }
  }
  return rgba;
}

/**
 * Decodes a PNG to RGBA. `inflate` gets the joined IDAT data and the size the
 * header implies (`expectedBytes`): an inflate that stops there (node:zlib's
 * `maxOutputLength`) bounds the memory a decompression bomb can take.
 */
/** zlib inflate of `data` into at most `maxBytes` (throwing when the stream holds more). */
export type BoundedInflate = (data: Uint8Array, maxBytes: number) => Uint8Array;

export function decodePng(bytes: Uint8Array, inflate: BoundedInflate, name = 'image'): DecodedImage {
  const fail = (why: string): never => {
    throw new Error(`${name}: not a PNG this decoder reads: ${why}`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('bad signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let header: PngHeader | null = null;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + length > bytes.length) fail(`chunk ${type} runs past the end of the file`);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      if (length < 13) fail('short IHDR');
      header = {
        width: view.getUint32(pos + 8),
        height: view.getUint32(pos + 12),
        depth: data[8],
        colorType: data[9],
        interlace: data[12],
      };
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + length;
  }
  if (!header || header.width === 0 || header.height === 0) return fail('no IHDR or an empty image');
  const { width, height, depth, colorType } = header;
  // Refused on the header's word, before anything is inflated or allocated.
  if (width * height > MAX_IMAGE_PIXELS) fail(`${width}x${height} is too large (at most ${MAX_IMAGE_PIXELS} pixels)`);
  if (!(colorType in CHANNELS)) fail(`colour type ${colorType}`);
  if (!DEPTHS[colorType].includes(depth)) fail(`bit depth ${depth} is not valid for colour type ${colorType}`);
  if (header.interlace > 1) fail(`interlace method ${header.interlace}`);
  if (colorType === 3 && !palette) fail('palette image without PLTE');
  if (idat.length === 0) fail('no image data (IDAT)');
  const joined = new Uint8Array(idat.reduce((s, d) => s + d.length, 0));
  let off = 0;
  for (const d of idat) {
    joined.set(d, off);
    off += d.length;
  }
  let raw: Uint8Array;
  try {
    raw = inflate(joined, expectedRawBytes(header));
  } catch (e) {
    return fail(`corrupt image data (${(e as Error).message})`);
  }
  const expected = expectedRawBytes(header);
  if (raw.length < expected) fail('image data is truncated');
  if (raw.length > expected) fail(`image data holds ${raw.length - expected} bytes more than ${width}x${height} allows`);
  return { width, height, rgba: toRgba(header, raw, palette, transparency, fail) };
}

/**
 * RGBA pixels to the model's input bytes (NCHW, c = 1 or 3) at h x w: alpha
 * composited on black, luminance (ITU-R 601, as Pillow's 'L') for one
 * channel, then area averaging when shrinking and bilinear when enlarging
 * (resize.ts). Training on image folders and predict both go through here,
 * so a model sees the same pixels in both.
 */
export function rgbaToImage(img: DecodedImage, c: number, h: number, w: number): Uint8Array {
  const n = img.width * img.height;
  const planes = new Float32Array(c * n);
  for (let i = 0; i < n; i++) {
    const a = img.rgba[i * 4 + 3] / 255;
    const r = img.rgba[i * 4] * a,
      g = img.rgba[i * 4 + 1] * a,
      b = img.rgba[i * 4 + 2] * a;
    if (c === 1) planes[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    else {
      planes[i] = r;
      planes[n + i] = g;
      planes[2 * n + i] = b;
    }
  }
  const resized = img.width === w && img.height === h ? planes : resizePlanes(planes, c, img.height, img.width, h, w);
  const out = new Uint8Array(c * h * w);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(resized[i])));
  return out;
}
