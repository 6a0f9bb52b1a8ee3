/**
 * Parsers for the image formats users bring, on bytes already in memory.
 * Pure TypeScript, no Node imports (browsers fetch the bytes themselves;
 * `node.ts` reads files and gunzips). Every malformed input is refused with a
 * `DataFormatError` whose message starts with the file name and says why.
 *
 * - CIFAR-10 binary: records of 1 label byte + 3,072 pixel bytes (1,024 R, then
 *   G, then B, each 32x32 row-major), 10,000 records a file.
 * - CIFAR-100 binary: records of coarse label byte, fine label byte, 3,072 pixel bytes.
 * - IDX (MNIST, Fashion-MNIST): 2 zero bytes, a type byte (0x08 = unsigned
 *   byte), a byte giving the number of dimensions, then each dimension as a
 *   big-endian uint32, then the data. Images are 0x00000803 (n, rows, cols),
 *   labels 0x00000801 (n).
 */
import { type Dataset, CIFAR10_CLASSES, CIFAR100_CLASSES } from './dataset.js';

/** A malformed or unexpected data file. `file` names it; the message starts with it. */
export class DataFormatError extends Error {
  readonly file: string;
  constructor(file: string, cause: string) {
    super(`${file}: ${cause}`);
    this.name = 'DataFormatError';
    this.file = file;
  }
}

/** Bytes of a file together with the name used in error messages. */
export interface NamedBytes {
  file: string;
  bytes: Uint8Array;
}

export const CIFAR_IMAGE_BYTES = 3 * 32 * 32;
export const CIFAR10_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;
export const CIFAR100_RECORD_BYTES = 2 + CIFAR_IMAGE_BYTES;

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function checkRecords(src: NamedBytes, recordBytes: number, what: string): number {
  const { file, bytes } = src;
  if (isGzip(bytes)) throw new DataFormatError(file, `is gzip-compressed; ${what} files are read uncompressed`);
  if (bytes.length === 0) throw new DataFormatError(file, `is empty (expected ${what} records of ${recordBytes} bytes)`);
  if (bytes.length % recordBytes !== 0) {
    throw new DataFormatError(
      file,
      `size ${bytes.length} is not a multiple of the ${what} record size ${recordBytes} ` +
        `(truncated or not a ${what} file: ${Math.floor(bytes.length / recordBytes)} whole records + ${bytes.length % recordBytes} bytes)`,
    );
  }
  return bytes.length / recordBytes;
}

/** Copies the pixel bytes of `n` records (after `skip` label bytes) into NCHW order (already CHW). */
function gatherPixels(bytes: Uint8Array, n: number, recordBytes: number, skip: number, out: Uint8Array, outOffset: number) {
  for (let i = 0; i < n; i++) {
    const at = i * recordBytes + skip;
    out.set(bytes.subarray(at, at + CIFAR_IMAGE_BYTES), outOffset + i * CIFAR_IMAGE_BYTES);
  }
}

/** One or more CIFAR-10 binary files (e.g. data_batch_1..5) as one data set, in file order. */
export function cifar10FromBytes(files: NamedBytes[], classNames: readonly string[] = CIFAR10_CLASSES): Dataset {
  const counts = files.map((f) => checkRecords(f, CIFAR10_RECORD_BYTES, 'CIFAR-10'));
  const n = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(n);
  let base = 0;
  files.forEach(({ file, bytes }, k) => {
    for (let i = 0; i < counts[k]; i++) {
      const label = bytes[i * CIFAR10_RECORD_BYTES];
      if (label >= 10) throw new DataFormatError(file, `record ${i}: label ${label} is outside 0..9`);
      labels[base + i] = label;
    }
    gatherPixels(bytes, counts[k], CIFAR10_RECORD_BYTES, 1, images, base * CIFAR_IMAGE_BYTES);
    base += counts[k];
  });
  return { images, labels, n, c: 3, h: 32, w: 32, numClasses: 10, classNames: classNames.slice() };
}

/** A CIFAR-100 binary file (train.bin or test.bin) with its fine (100-class) labels. */
export function cifar100FromBytes(src: NamedBytes, classNames: readonly string[] = CIFAR100_CLASSES): Dataset {
  const { file, bytes } = src;
  const n = checkRecords(src, CIFAR100_RECORD_BYTES, 'CIFAR-100');
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const coarse = bytes[i * CIFAR100_RECORD_BYTES];
    const fine = bytes[i * CIFAR100_RECORD_BYTES + 1];
    if (coarse >= 20) throw new DataFormatError(file, `record ${i}: coarse label ${coarse} is outside 0..19`);
    if (fine >= 100) throw new DataFormatError(file, `record ${i}: fine label ${fine} is outside 0..99`);
    labels[i] = fine;
  }
  const images = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  gatherPixels(bytes, n, CIFAR100_RECORD_BYTES, 2, images, 0);
  return { images, labels, n, c: 3, h: 32, w: 32, numClasses: 100, classNames: classNames.slice() };
}

/** An IDX array of unsigned bytes. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** What an IDX header says: its dimensions, its own length and the data bytes that must follow it. */
export interface IdxHeader {
  dims: number[];
  headerBytes: number;
  dataBytes: number;
}

/** The longest IDX header: 4 magic bytes and 255 dimensions of 4 bytes. */
export const IDX_MAX_HEADER_BYTES = 4 + 4 * 255;

/**
 * Reads and checks the header at the start of `src` (the whole file or only
 * its first bytes); `ndims` (if given) must match. Refuses a gzip stream, a
 * bad magic, an unsupported type and a file shorter than its header.
 */
export function readIdxHeader(src: NamedBytes, ndims?: number): IdxHeader {
  const { file, bytes } = src;
  if (isGzip(bytes)) throw new DataFormatError(file, 'is gzip-compressed; decompress it before parsing');
  if (bytes.length < 4) throw new DataFormatError(file, `is ${bytes.length} bytes, shorter than the 4-byte IDX magic (truncated)`);
  const magicHex = '0x' + Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new DataFormatError(file, `bad IDX magic ${magicHex} (not an IDX file)`);
  if (bytes[2] !== 0x08) {
    throw new DataFormatError(
      file,
      `IDX data type 0x${bytes[2].toString(16).padStart(2, '0')} is not supported (only unsigned byte, 0x08)`,
    );
  }
  const nd = bytes[3];
  if (ndims !== undefined && nd !== ndims) {
    const expected = '0x0000080' + ndims.toString(16);
    throw new DataFormatError(file, `IDX magic ${magicHex} has ${nd} dimensions, expected ${ndims} (magic ${expected})`);
  }
  if (nd === 0) throw new DataFormatError(file, 'IDX file declares 0 dimensions');
  const headerBytes = 4 + 4 * nd;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(file, `is ${bytes.length} bytes, shorter than its ${headerBytes}-byte IDX header (truncated)`);
  }
  const dims: number[] = [];
  let dataBytes = 1;
  for (let k = 0; k < nd; k++) {
    const o = 4 + 4 * k;
    const d = ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
    dims.push(d);
    dataBytes *= d;
  }
  return { dims, headerBytes, dataBytes };
}

/** Parses an uncompressed IDX file of unsigned bytes; `ndims` (if given) must match. */
export function parseIdx(src: NamedBytes, ndims?: number): IdxArray {
  const { file, bytes } = src;
  const { dims, headerBytes, dataBytes: size } = readIdxHeader(src, ndims);
  const payload = bytes.length - headerBytes;
  if (size !== payload) {
    throw new DataFormatError(
      file,
      `IDX dimensions [${dims.join(', ')}] need ${size} data bytes but the file has ${payload}` +
        (size > payload ? ' (truncated)' : ' (trailing bytes)'),
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * An IDX image file (n x rows x cols) and its IDX label file as a one-channel data set.
 * Labels must lie in [0, classNames.length).
 */
export function idxFromBytes(imagesSrc: NamedBytes, labelsSrc: NamedBytes, classNames: readonly string[]): Dataset {
  const img = parseIdx(imagesSrc, 3);
  const lab = parseIdx(labelsSrc, 1);
  const [n, h, w] = img.dims;
  if (lab.dims[0] !== n) {
    throw new DataFormatError(labelsSrc.file, `has ${lab.dims[0]} labels but ${imagesSrc.file} has ${n} images`);
  }
  const numClasses = classNames.length;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = lab.data[i];
    if (l >= numClasses) throw new DataFormatError(labelsSrc.file, `label ${l} at index ${i} is outside 0..${numClasses - 1}`);
    labels[i] = l;
  }
  return { images: new Uint8Array(img.data), labels, n, c: 1, h, w, numClasses, classNames: classNames.slice() };
}

/** Encodes unsigned bytes as an uncompressed IDX file with the given dimensions. */
export function encodeIdx(data: Uint8Array, dims: number[]): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new RangeError(`encodeIdx: dims [${dims.join(', ')}] hold ${size} bytes, data has ${data.length}`);
  if (dims.length < 1 || dims.length > 255) throw new RangeError(`encodeIdx: 1..255 dimensions, got ${dims.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, k) => {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new RangeError(`encodeIdx: dimension ${d} is not a uint32`);
    const o = 4 + 4 * k;
    out[o] = d >>> 24;
    out[o + 1] = (d >>> 16) & 0xff;
    out[o + 2] = (d >>> 8) & 0xff;
    out[o + 3] = d & 0xff;
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}
