/**
 * A small PNG decoder for `predict`: 8-bit greyscale, grey+alpha, RGB, RGBA
 * and palette images, non-interlaced. The zlib inflate is injected (node:zlib
 * in Node, DecompressionStream elsewhere) so this file stays runtime-neutral;
 * it is given the exact size the header allows (height x (width x channels +
 * 1 filter byte)) and must not produce more, so a small file cannot inflate
 * into gigabytes. Image data longer than the header allows is refused.
 */
export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, row-major, 4 bytes a pixel. */
  rgba: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** zlib inflate of `data` into at most `maxBytes` (throwing when the stream holds more). */
export type BoundedInflate = (data: Uint8Array, maxBytes: number) => Uint8Array;

export function decodePng(bytes: Uint8Array, inflate: BoundedInflate, name = 'image'): DecodedImage {
  const fail = (why: string): never => {
    throw new Error(`${name}: not a PNG this decoder reads: ${why}`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('bad signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
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
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      depth = data[8];
      colorType = data[9];
      interlace = data[12];
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + length;
  }
  if (width === 0 || height === 0) fail('no IHDR or an empty image');
  if (width * height > 1 << 26) fail(`${width}x${height} is too large`);
  if (depth !== 8) fail(`bit depth ${depth} (only 8 is supported)`);
  if (interlace !== 0) fail('interlaced images are not supported');
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!channels) fail(`colour type ${colorType}`);
  if (colorType === 3 && !palette) fail('palette image without PLTE');
  const joined = new Uint8Array(idat.reduce((s, d) => s + d.length, 0));
  let off = 0;
  for (const d of idat) joined.set(d, (off += d.length) - d.length);
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Uint8Array;
  try {
    raw = inflate(joined, expected);
  } catch (e) {
    return fail(`corrupt image data (${(e as Error).message})`);
  }
  if (raw.length < expected) fail('image data is truncated');
  if (raw.length > expected) fail(`image data holds ${raw.length - expected} bytes more than ${width}x${height} allows`);
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let p: number;
      switch (filter) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: {
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: return fail(`unknown filter type ${filter} on row ${y}`);
      }
      out[i] = (line[i] + p) & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    let r: number, g: number, b: number, alpha = 255;
    if (colorType === 3) {
      const k = pixels[s];
      if (k * 3 + 2 >= palette!.length) fail(`palette index ${k} out of range`);
      [r, g, b] = [palette![k * 3], palette![k * 3 + 1], palette![k * 3 + 2]];
      if (transparency && k < transparency.length) alpha = transparency[k];
    } else if (channels <= 2) {
      r = g = b = pixels[s];
      if (channels === 2) alpha = pixels[s + 1];
    } else {
      [r, g, b] = [pixels[s], pixels[s + 1], pixels[s + 2]];
      if (channels === 4) alpha = pixels[s + 3];
    }
    rgba.set([r, g, b, alpha], i * 4);
  }
  return { width, height, rgba };
}

/**
 * RGBA pixels to the model's input bytes (NCHW, c = 1 or 3) at h x w: nearest
 * neighbour resizing, alpha composited on black, luminance for one channel.
 */
export function rgbaToImage(img: DecodedImage, c: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(c * h * w);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / h));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / w));
      const p = (sy * img.width + sx) * 4;
      const a = img.rgba[p + 3] / 255;
      const rgb = [img.rgba[p] * a, img.rgba[p + 1] * a, img.rgba[p + 2] * a];
      if (c === 1) out[y * w + x] = Math.round(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]);
      else for (let ch = 0; ch < 3; ch++) out[(ch * h + y) * w + x] = Math.round(rgb[ch]);
    }
  }
  return out;
}
