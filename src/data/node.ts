/**
 * Reading the standard data set files from disk. Node-only (node:fs,
 * node:path, node:zlib via decompress.ts); everything else in src/data is browser-safe.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Dataset, CIFAR10_CLASSES, CIFAR100_CLASSES, FASHION_MNIST_CLASSES } from './dataset.js';
import {
  CIFAR100_RECORD_BYTES,
  DataFormatError,
  IDX_MAX_HEADER_BYTES,
  type NamedBytes,
  cifar100FromBytes,
  cifar10FromBytes,
  idxFromBytes,
  isGzip,
  readIdxHeader,
} from './formats.js';
import { DEFLATE_MAX_RATIO, gunzipBounded, gunzipPrefix } from './decompress.js';

export type DatasetName = 'cifar10' | 'cifar100' | 'fashion-mnist';
export type Split = 'train' | 'test';

/**
 * The most a gzipped data file without a header may inflate to: the largest
 * standard file, CIFAR-100's train.bin (50,000 records of 3,074 bytes).
 */
export const MAX_DATA_FILE_BYTES = 50_000 * CIFAR100_RECORD_BYTES;

function readBytes(file: string): Uint8Array {
  try {
    // Plain Uint8Array views, not Buffers (whose slice() does not copy).
    const b = readFileSync(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new DataFormatError(file, `cannot be read (${(e as Error).message})`);
  }
}

/**
 * Reads a file, gunzipping it when it starts with the gzip magic (whatever
 * its name), into at most `maxBytes`: a stream that inflates further is
 * refused before it takes more memory.
 */
export function readDataFile(file: string, maxBytes = MAX_DATA_FILE_BYTES): NamedBytes {
  const bytes = readBytes(file);
  if (!isGzip(bytes)) return { file, bytes };
  return { file, bytes: gunzipBounded(file, bytes, maxBytes, `the most a data file may hold (CIFAR-100's train.bin)`) };
}

/**
 * Reads an IDX file, gzipped or not. A gzipped one is inflated to exactly the
 * size its header declares: its header first (from a prefix of the stream),
 * then the whole stream bounded by that size, so a bomb is refused at the
 * size the header claims. A header that claims more than deflate can produce
 * from the file's size is refused without inflating at all.
 */
export function readIdxFile(file: string, ndims?: number): NamedBytes {
  const bytes = readBytes(file);
  if (!isGzip(bytes)) return { file, bytes };
  const header = readIdxHeader({ file, bytes: gunzipPrefix(bytes, IDX_MAX_HEADER_BYTES) }, ndims);
  const declared = header.headerBytes + header.dataBytes;
  if (declared > DEFLATE_MAX_RATIO * bytes.length + IDX_MAX_HEADER_BYTES) {
    throw new DataFormatError(
      file,
      `IDX dimensions [${header.dims.join(', ')}] need ${header.dataBytes} data bytes, ` +
        `more than ${bytes.length} gzip bytes can inflate to (truncated or corrupt)`,
    );
  }
  const out = gunzipBounded(file, bytes, declared, `the ${declared} bytes its IDX header [${header.dims.join(', ')}] declares`);
  return { file, bytes: out };
}

/** Reads an IDX images file and an IDX labels file (each gzipped or not). */
export function loadIdx(imagesFile: string, labelsFile: string, classNames: readonly string[]): Dataset {
  return idxFromBytes(readIdxFile(imagesFile, 3), readIdxFile(labelsFile, 1), classNames);
}

/** `dir/sub` when it exists, else `dir` itself (so both the parent and the folder are accepted). */
function resolveFolder(dir: string, sub: string): string {
  const nested = join(dir, sub);
  return existsSync(nested) && statSync(nested).isDirectory() ? nested : dir;
}

function requireFile(file: string, hint: string): string {
  if (!existsSync(file)) throw new DataFormatError(file, `not found (${hint})`);
  return file;
}

/** `base` or `base.gz`, whichever exists. */
function idxFile(dir: string, base: string): string {
  for (const name of [base + '.gz', base]) {
    const file = join(dir, name);
    if (existsSync(file)) return file;
  }
  return requireFile(join(dir, base + '.gz'), `expected ${base}.gz or ${base} in ${dir}`);
}

function classNamesFile(file: string, fallback: readonly string[]): readonly string[] {
  if (!existsSync(file)) return fallback;
  const names = new TextDecoder()
    .decode(readBytes(file))
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== fallback.length) {
    throw new DataFormatError(file, `lists ${names.length} class names, expected ${fallback.length}`);
  }
  return names;
}

/**
 * Loads a standard data set split from the folder holding its usual files:
 *
 * - `cifar10`: `cifar-10-batches-bin/data_batch_{1..5}.bin` (train, 50,000) or
 *   `test_batch.bin` (test, 10,000); class names from `batches.meta.txt` if present;
 * - `cifar100`: `cifar-100-binary/train.bin` or `test.bin`, fine labels; names
 *   from `fine_label_names.txt` if present;
 * - `fashion-mnist`: `train-images-idx3-ubyte(.gz)` + `train-labels-idx1-ubyte(.gz)`
 *   or `t10k-images-idx3-ubyte(.gz)` + `t10k-labels-idx1-ubyte(.gz)`, 1x28x28.
 *
 * `dir` may be the parent of `cifar-10-batches-bin/` / `cifar-100-binary/` / `fashion-mnist/`
 * (where `wasmtail fetch` puts them) or that folder itself.
 */
export function loadDataset(name: DatasetName, dir: string, split: Split): Dataset {
  if (split !== 'train' && split !== 'test') throw new RangeError(`loadDataset: split must be 'train' or 'test', got '${split}'`);
  if (name === 'cifar10') {
    const folder = resolveFolder(dir, 'cifar-10-batches-bin');
    const names = split === 'train' ? [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`) : ['test_batch.bin'];
    const files = names.map((f) => readDataFile(requireFile(join(folder, f), `a CIFAR-10 binary file expected in ${folder}`)));
    return cifar10FromBytes(files, classNamesFile(join(folder, 'batches.meta.txt'), CIFAR10_CLASSES));
  }
  if (name === 'cifar100') {
    const folder = resolveFolder(dir, 'cifar-100-binary');
    const file = requireFile(join(folder, `${split}.bin`), `a CIFAR-100 binary file expected in ${folder}`);
    return cifar100FromBytes(readDataFile(file), classNamesFile(join(folder, 'fine_label_names.txt'), CIFAR100_CLASSES));
  }
  if (name === 'fashion-mnist') {
    const prefix = split === 'train' ? 'train' : 't10k';
    const folder = resolveFolder(dir, 'fashion-mnist');
    return loadIdx(idxFile(folder, `${prefix}-images-idx3-ubyte`), idxFile(folder, `${prefix}-labels-idx1-ubyte`), FASHION_MNIST_CLASSES);
  }
  throw new RangeError(`loadDataset: unknown data set '${String(name)}' (expected cifar10, cifar100 or fashion-mnist)`);
}
