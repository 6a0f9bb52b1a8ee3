/**
 * JPEG decoding for image-folder data sets and `wasmtail predict`, by
 * jpeg-js (baseline and progressive, grey and YCbCr). Around it: the header
 * read first, so an image claiming too many pixels is refused before any
 * allocation and CMYK / YCCK files are refused by name rather than decoded
 * into wrong colours; EXIF orientation applied as Pillow's
 * `ImageOps.exif_transpose` does. Imported by the Node data path and the CLI
 * only: the engine and `wasmtail/infer` stay free of dependencies.
 */
import { decode } from 'jpeg-js';
import { MAX_IMAGE_PIXELS, type DecodedImage } from './png.js';

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

interface JpegHeader {
  width: number;
  height: number;
  components: number;
  /** The SOF marker's low nibble: 0/1 baseline/extended, 2 progressive, others unsupported. */
  process: number;
  /** EXIF orientation 1..8 (1 when absent). */
  orientation: number;
}

/** Orientation tag (0x0112) of an APP1 "Exif\0\0" segment's TIFF block, or 1. */
function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const u16 = (o: number) => view.getUint16(o, little);
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const entries = u16(ifd);
  for (let k = 0; k < entries; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > tiff.length) return 1;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

/** Walks the markers up to the first scan: frame size, components, coding process, orientation. */
function readJpegHeader(bytes: Uint8Array, fail: (why: string) => never): JpegHeader {
  let pos = 2;
  let orientation = 1;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return fail(`no marker at byte ${pos}`);
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const body = bytes.subarray(pos + 4, pos + 2 + length);
    if (pos + 2 + length > bytes.length) return fail('truncated header');
    if (marker === 0xe1 && body.length > 6 && String.fromCharCode(...body.subarray(0, 4)) === 'Exif') {
      orientation = exifOrientation(body.subarray(6));
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (body.length < 6) return fail('short frame header');
      return {
        height: (body[1] << 8) | body[2],
        width: (body[3] << 8) | body[4],
        components: body[5],
        process: marker & 0x0f,
        orientation,
      };
    }
    if (marker === 0xda) break;
    pos += 2 + length;
  }
  return fail('no frame header (SOF) before the image data');
}

/** Pixel (x, y) of the upright image, read from the stored one, for each EXIF orientation. */
function orient(img: DecodedImage, orientation: number): DecodedImage {
  if (orientation === 1) return img;
  const { width: W, height: H, rgba } = img;
  const swap = orientation >= 5;
  const w = swap ? H : W;
  const h = swap ? W : H;
  const out = new Uint8Array(rgba.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx: number, sy: number;
      switch (orientation) {
        case 2:
          sx = W - 1 - x;
          sy = y;
          break;
        case 3:
          sx = W - 1 - x;
          sy = H - 1 - y;
          break;
        case 4:
          sx = x;
          sy = H - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = H - 1 - x;
          break;
        case 7:
          sx = W - 1 - y;
          sy = H - 1 - x;
          break;
        default:
          sx = W - 1 - y;
          sy = x;
          break;
      }
      out.set(rgba.subarray((sy * W + sx) * 4, (sy * W + sx) * 4 + 4), (y * w + x) * 4);
    }
  }
  return { width: w, height: h, rgba: out };
}

/** A JPEG file's pixels, upright, as RGBA. Errors name the file and the cause. */
export function decodeJpeg(bytes: Uint8Array, name = 'image'): DecodedImage {
  const fail = (why: string): never => {
    throw new Error(`${name}: not a JPEG this decoder reads: ${why}`);
  };
  if (!isJpeg(bytes)) fail('bad signature');
  const header = readJpegHeader(bytes, fail);
  if (header.width === 0 || header.height === 0) fail(`empty image (${header.width}x${header.height})`);
  if (header.width * header.height > MAX_IMAGE_PIXELS) {
    fail(`${header.width}x${header.height} is too large (at most ${MAX_IMAGE_PIXELS} pixels)`);
  }
  if (header.components === 4)
    fail('CMYK / YCCK colour (4 components); convert it to RGB first (e.g. `convert in.jpg -colorspace sRGB out.jpg`)');
  if (header.components !== 1 && header.components !== 3) fail(`${header.components} colour components`);
  if (header.process > 2) fail(`coding process SOF${header.process} (only baseline and progressive Huffman JPEG)`);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    return fail(`corrupt image data (${(e as Error).message ?? String(e)})`);
  }
  return orient({ width: decoded.width, height: decoded.height, rgba: decoded.data }, header.orientation);
}
