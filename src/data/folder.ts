/**
 * Image folders in torchvision's ImageFolder layout: `root/train/<class>/*`
 * and `root/test/<class>/*` (or `root/val/`), class names the folder names,
 * sorted; PNG and JPEG files (recognised by their bytes; other names are
 * ignored, as ImageFolder does), each resized to a square of `size` pixels
 * (area averaging when shrinking, bilinear when enlarging) with 3 channels,
 * or 1 with `grey`. Node-only.
 *
 * Decoding happens once: the pixels are written to a cache file under
 * `root/.wasmtail-cache/`, keyed by the split's file list with sizes and
 * modification times and the output size, so later epochs (they use the
 * in-memory set) and later runs read no image file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { inflateBounded } from './decompress.js';
import type { Dataset } from './dataset.js';
import { DataFormatError } from './formats.js';
import { decodeJpeg, isJpeg } from './jpeg.js';
import { type DecodedImage, decodePng, rgbaToImage } from './png.js';

export interface ImageFolderOptions {
  /** Output side in pixels (square). */
  size: number;
  /** 1 (luminance) or 3 (RGB). */
  channels: 1 | 3;
  /** Skip unreadable images (listed in the result) instead of stopping. */
  skipBad: boolean;
  /** Class names to label with (the training split's); default: this split's folders. */
  classNames?: readonly string[];
  /** Called after each decoded image (not when the cache is read). */
  onProgress?: (done: number, total: number) => void;
}

export interface BadImage {
  file: string;
  error: string;
}

export interface ImageFolderSplit {
  dataset: Dataset;
  /** The image files kept, in the data set's order. */
  files: string[];
  skipped: BadImage[];
  /** The cache file, whether it was read (true) or written (false), and why it could not be written. */
  cache: { file: string; hit: boolean; writeError?: string };
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** The folder of a split: `train/`, or `test/` then `val/` for the test split. */
export function splitFolder(root: string, split: 'train' | 'test'): string {
  const names = split === 'train' ? ['train'] : ['test', 'val'];
  for (const name of names) {
    const dir = join(root, name);
    if (existsSync(dir) && statSync(dir).isDirectory()) return dir;
  }
  throw new DataFormatError(
    join(root, names[0]),
    `not found: an image folder needs ${split === 'train' ? 'train/<class>/' : 'test/<class>/ or val/<class>/'} ` +
      'with one folder of images a class (torchvision ImageFolder layout)',
  );
}

function visibleEntries(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort();
}

/** Class folders (sorted) and the image files of each, sorted. */
export function listImageFolder(dir: string): { classNames: string[]; files: { file: string; className: string }[] } {
  const classNames = visibleEntries(dir).filter((n) => statSync(join(dir, n)).isDirectory());
  if (classNames.length === 0) throw new DataFormatError(dir, 'holds no class folders (expected one folder of images a class)');
  const files: { file: string; className: string }[] = [];
  for (const className of classNames) {
    const folder = join(dir, className);
    const images = visibleEntries(folder).filter((n) => IMAGE_EXTENSIONS.has(n.slice(n.lastIndexOf('.')).toLowerCase()));
    if (images.length === 0) throw new DataFormatError(folder, 'holds no .png, .jpg or .jpeg file');
    for (const name of images) files.push({ file: join(folder, name), className });
  }
  return { classNames, files };
}

/** One image file to the model's input bytes (NCHW); errors name the file and the cause. */
export function imageFileToPixels(file: string, size: number, channels: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new DataFormatError(file, `cannot be read (${(e as Error).message})`);
  }
  if (bytes.length === 0) throw new DataFormatError(file, 'is empty (0 bytes)');
  let image: DecodedImage;
  if (isJpeg(bytes)) image = decodeJpeg(bytes, file);
  else if (bytes[0] === 0x89 && bytes[1] === 0x50) image = decodePng(bytes, inflateBounded, file);
  else throw new DataFormatError(file, 'is neither a PNG nor a JPEG (by its first bytes)');
  return rgbaToImage(image, channels, size, size);
}

const CACHE_MAGIC = 'wasmtail-image-cache-1\n';

function cacheKey(root: string, files: string[], opts: ImageFolderOptions, classNames: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version: CACHE_MAGIC, size: opts.size, channels: opts.channels, skipBad: opts.skipBad, classNames }));
  for (const file of files) {
    const st = statSync(file);
    hash.update(`${relative(root, file)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

interface CacheHeader {
  n: number;
  c: number;
  size: number;
  classNames: string[];
  files: string[];
  skipped: BadImage[];
}

function readCache(file: string): { header: CacheHeader; labels: Int32Array; images: Uint8Array } | null {
  if (!existsSync(file)) return null;
  try {
    const bytes = readFileSync(file);
    const magic = Buffer.from(CACHE_MAGIC);
    if (!bytes.subarray(0, magic.length).equals(magic)) return null;
    const headerLength = bytes.readUInt32LE(magic.length);
    const start = magic.length + 4;
    const header = JSON.parse(bytes.subarray(start, start + headerLength).toString('utf8')) as CacheHeader;
    const body = start + headerLength;
    const pixels = header.n * header.c * header.size * header.size;
    if (bytes.length !== body + 4 * header.n + pixels) return null;
    const labels = new Int32Array(header.n);
    new Uint8Array(labels.buffer).set(bytes.subarray(body, body + 4 * header.n));
    const images = new Uint8Array(pixels);
    images.set(bytes.subarray(body + 4 * header.n));
    return { header, labels, images };
  } catch {
    // A damaged cache is rebuilt from the images.
    return null;
  }
}

/** Writes the cache beside a temporary name and renames it into place; returns why it failed, if it did. */
function writeCache(file: string, header: CacheHeader, labels: Int32Array, images: Uint8Array): string | undefined {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(
      tmp,
      Buffer.concat([Buffer.from(CACHE_MAGIC), length, json, new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength), images]),
    );
    renameSync(tmp, file);
    return undefined;
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing was written.
    }
    return (e as Error).message;
  }
}

/**
 * One split of an image folder, decoded (or read from its cache). Unreadable
 * images stop it with an error listing them (file and cause), unless
 * `skipBad`, when they are left out and returned in `skipped`.
 */
export function loadImageFolder(root: string, split: 'train' | 'test', opts: ImageFolderOptions): ImageFolderSplit {
  const dir = splitFolder(root, split);
  const listing = listImageFolder(dir);
  const classNames = opts.classNames ? [...opts.classNames] : listing.classNames;
  for (const name of listing.classNames) {
    if (!classNames.includes(name)) {
      throw new DataFormatError(
        join(dir, name),
        `is a class the training split does not have (training classes: ${classNames.join(', ')})`,
      );
    }
  }
  const all = listing.files.map((f) => f.file);
  const cacheFile = join(root, '.wasmtail-cache', `${split}-${cacheKey(root, all, opts, classNames)}.bin`);
  const { size, channels: c } = opts;
  const cached = readCache(cacheFile);
  if (cached) {
    const { header, labels, images } = cached;
    return {
      dataset: { images, labels, n: header.n, c, h: size, w: size, numClasses: classNames.length, classNames },
      files: header.files,
      skipped: header.skipped,
      cache: { file: cacheFile, hit: true },
    };
  }
  const pixelsPerImage = c * size * size;
  const images = new Uint8Array(all.length * pixelsPerImage);
  const labels: number[] = [];
  const files: string[] = [];
  const skipped: BadImage[] = [];
  for (const [k, { file, className }] of listing.files.entries()) {
    if (k > 0) opts.onProgress?.(k, all.length);
    try {
      images.set(imageFileToPixels(file, size, c), files.length * pixelsPerImage);
    } catch (e) {
      skipped.push({
        file,
        error: (e as Error).message.startsWith(file) ? (e as Error).message.slice(file.length + 2) : (e as Error).message,
      });
      continue;
    }
    files.push(file);
    labels.push(classNames.indexOf(className));
  }
  if (skipped.length > 0 && !opts.skipBad) {
    const shown = skipped
      .slice(0, 10)
      .map((b) => `  ${b.file}: ${b.error}`)
      .join('\n');
    throw new Error(
      `${skipped.length} of ${all.length} images in ${dir} cannot be read:\n${shown}` +
        (skipped.length > 10 ? `\n  ... and ${skipped.length - 10} more` : '') +
        '\nfix or remove them, or pass --skip-bad to train without them',
    );
  }
  if (files.length === 0) throw new DataFormatError(dir, 'holds no readable image');
  const dataset: Dataset = {
    images: images.slice(0, files.length * pixelsPerImage),
    labels: Int32Array.from(labels),
    n: files.length,
    c,
    h: size,
    w: size,
    numClasses: classNames.length,
    classNames,
  };
  const writeError = writeCache(cacheFile, { n: dataset.n, c, size, classNames, files, skipped }, dataset.labels, dataset.images);
  return { dataset, files, skipped, cache: { file: cacheFile, hit: false, writeError } };
}

/** Per-channel mean and (population) standard deviation of pixel / 255 over a data set. */
export function channelStatistics(ds: Dataset): { mean: number[]; std: number[] } {
  const plane = ds.h * ds.w;
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < ds.c; ch++) {
    let s = 0,
      s2 = 0;
    for (let i = 0; i < ds.n; i++) {
      const base = (i * ds.c + ch) * plane;
      for (let k = 0; k < plane; k++) {
        const v = ds.images[base + k] / 255;
        s += v;
        s2 += v * v;
      }
    }
    const count = ds.n * plane;
    const m = s / count;
    mean.push(Number(m.toFixed(6)));
    // A constant channel would divide by zero when normalising: floor the std.
    std.push(Number(Math.max(1e-3, Math.sqrt(Math.max(0, s2 / count - m * m))).toFixed(6)));
  }
  return { mean, std };
}
