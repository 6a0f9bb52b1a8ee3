import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  CIFAR10_CLASSES,
  CIFAR100_CLASSES,
  DataFormatError,
  FASHION_MNIST_CLASSES,
  cifar100FromBytes,
  cifar10FromBytes,
  encodeIdx,
  idxFromBytes,
  loadDataset,
  loadIdx,
  parseIdx,
  readDataFile,
} from '../../src/data/index.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-data-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A deterministic pixel value that encodes (image, channel, y, x). */
const pixel = (i: number, ch: number, y: number, x: number) => (i * 31 + ch * 71 + y * 7 + x * 3) & 0xff;

/** CIFAR records exactly as the binary format lays them out: label byte(s), then R, G, B planes, row-major. */
function cifarRecords(labels: number[][], first = 0): Uint8Array {
  const rec = labels[0].length + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((ls, i) => {
    ls.forEach((l, k) => {
      out[i * rec + k] = l;
    });
    for (let ch = 0; ch < 3; ch++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) out[i * rec + ls.length + ch * 1024 + y * 32 + x] = pixel(first + i, ch, y, x);
  });
  return out;
}

function checkPixels(ds: { images: Uint8Array; c: number; h: number; w: number }, i: number, image: number) {
  for (const [ch, y, x] of [
    [0, 0, 0],
    [1, 5, 9],
    [2, 31, 31],
    [0, 17, 3],
  ]) {
    assert.equal(ds.images[((i * ds.c + ch) * ds.h + y) * ds.w + x], pixel(image, ch, y, x), `image ${i} (${ch},${y},${x})`);
  }
}

test('CIFAR-10 binary: five training batches in order, the test batch, NCHW pixels, class names', () => {
  const dir = join(root, 'c10', 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  for (let k = 1; k <= 5; k++) writeFileSync(join(dir, `data_batch_${k}.bin`), cifarRecords([[k], [(k + 3) % 10], [9]], 3 * (k - 1)));
  writeFileSync(join(dir, 'test_batch.bin'), cifarRecords([[4], [2]], 100));
  const train = loadDataset('cifar10', join(root, 'c10'), 'train');
  assert.equal(train.n, 15);
  assert.deepEqual([train.c, train.h, train.w, train.numClasses], [3, 32, 32, 10]);
  assert.equal(train.images.length, 15 * 3072);
  assert.deepEqual(Array.from(train.labels.subarray(0, 6)), [1, 4, 9, 2, 5, 9]);
  for (let i = 0; i < 15; i++) checkPixels(train, i, i);
  assert.deepEqual(train.classNames, [...CIFAR10_CLASSES]);
  // The folder itself is accepted too; batches.meta.txt names the classes.
  writeFileSync(join(dir, 'batches.meta.txt'), CIFAR10_CLASSES.map((s) => s.toUpperCase()).join('\n') + '\n\n');
  const test = loadDataset('cifar10', dir, 'test');
  assert.deepEqual(Array.from(test.labels), [4, 2]);
  checkPixels(test, 1, 101);
  assert.equal(test.classNames[0], 'AIRPLANE');
});

test('CIFAR-100 binary: fine labels, coarse byte skipped', () => {
  const dir = join(root, 'c100', 'cifar-100-binary');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'train.bin'),
    cifarRecords([
      [19, 99],
      [0, 0],
      [7, 42],
    ]),
  );
  writeFileSync(join(dir, 'test.bin'), cifarRecords([[3, 57]], 10));
  const train = loadDataset('cifar100', join(root, 'c100'), 'train');
  assert.deepEqual(Array.from(train.labels), [99, 0, 42]);
  assert.equal(train.numClasses, 100);
  assert.equal(CIFAR100_CLASSES.length, 100);
  assert.equal(train.classNames[99], 'worm');
  for (let i = 0; i < 3; i++) checkPixels(train, i, i);
  const test = loadDataset('cifar100', dir, 'test');
  assert.deepEqual(Array.from(test.labels), [57]);
  checkPixels(test, 0, 10);
});

function idxFiles(n: number, h: number, w: number) {
  const images = new Uint8Array(n * h * w).map((_, k) => (k * 13) & 0xff);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 10);
  return { images, labels, imagesIdx: encodeIdx(images, [n, h, w]), labelsIdx: encodeIdx(labels, [n]) };
}

test('IDX (Fashion-MNIST layout), gzip and raw, by standard file name', () => {
  const f = idxFiles(6, 28, 28);
  assert.deepEqual(Array.from(f.imagesIdx.subarray(0, 16)), [0, 0, 8, 3, 0, 0, 0, 6, 0, 0, 0, 28, 0, 0, 0, 28]);
  assert.deepEqual(Array.from(f.labelsIdx.subarray(0, 8)), [0, 0, 8, 1, 0, 0, 0, 6]);
  const gz = join(root, 'fm-gz');
  const raw = join(root, 'fm-raw');
  mkdirSync(gz);
  mkdirSync(raw);
  writeFileSync(join(gz, 'train-images-idx3-ubyte.gz'), gzipSync(f.imagesIdx));
  writeFileSync(join(gz, 'train-labels-idx1-ubyte.gz'), gzipSync(f.labelsIdx));
  writeFileSync(join(raw, 't10k-images-idx3-ubyte'), f.imagesIdx);
  writeFileSync(join(raw, 't10k-labels-idx1-ubyte'), f.labelsIdx);
  for (const ds of [loadDataset('fashion-mnist', gz, 'train'), loadDataset('fashion-mnist', raw, 'test')]) {
    assert.deepEqual([ds.n, ds.c, ds.h, ds.w, ds.numClasses], [6, 1, 28, 28, 10]);
    assert.deepEqual(ds.images, f.images);
    assert.deepEqual(Array.from(ds.labels), Array.from(f.labels));
    assert.deepEqual(ds.classNames, [...FASHION_MNIST_CLASSES]);
  }
  // Gzip is detected by its magic, not the name.
  writeFileSync(join(raw, 'misnamed'), gzipSync(f.labelsIdx));
  assert.deepEqual(readDataFile(join(raw, 'misnamed')).bytes, f.labelsIdx);
  assert.equal(loadIdx(join(raw, 't10k-images-idx3-ubyte'), join(raw, 'misnamed'), FASHION_MNIST_CLASSES).n, 6);
});

/** Asserts that `fn` throws a DataFormatError whose message names `file` and matches `why`. */
function refuses(fn: () => unknown, file: string, why: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, `expected DataFormatError, got ${String(e)}`);
    assert.ok(e.message.startsWith(file + ': '), e.message);
    assert.match(e.message, why);
    return true;
  });
}

test('malformed files are refused with the file name and the cause', () => {
  const f = idxFiles(3, 4, 5);
  const I = (bytes: Uint8Array) => ({ file: 'imgs.idx', bytes });
  const L = (bytes: Uint8Array) => ({ file: 'labels.idx', bytes });
  const good = () => idxFromBytes(I(f.imagesIdx), L(f.labelsIdx), FASHION_MNIST_CLASSES);
  assert.equal(good().n, 3);
  const badMagic = f.imagesIdx.slice();
  badMagic[0] = 1;
  refuses(() => parseIdx(I(badMagic)), 'imgs.idx', /bad IDX magic 0x01000803/);
  const floats = f.imagesIdx.slice();
  floats[2] = 0x0d;
  refuses(() => parseIdx(I(floats)), 'imgs.idx', /data type 0x0d/);
  refuses(
    () => idxFromBytes(I(f.labelsIdx), L(f.labelsIdx), FASHION_MNIST_CLASSES),
    'imgs.idx',
    /1 dimensions, expected 3 \(magic 0x00000803\)/,
  );
  refuses(() => parseIdx(I(f.imagesIdx.subarray(0, 3))), 'imgs.idx', /truncated/);
  refuses(() => parseIdx(I(f.imagesIdx.subarray(0, 10))), 'imgs.idx', /16-byte IDX header \(truncated\)/);
  refuses(
    () => parseIdx(I(f.imagesIdx.subarray(0, f.imagesIdx.length - 1))),
    'imgs.idx',
    /need 60 data bytes but the file has 59 \(truncated\)/,
  );
  refuses(() => parseIdx(I(new Uint8Array([...f.imagesIdx, 0]))), 'imgs.idx', /trailing bytes/);
  refuses(() => parseIdx(I(gzipSync(f.imagesIdx))), 'imgs.idx', /gzip/);
  refuses(
    () => idxFromBytes(I(f.imagesIdx), L(encodeIdx(new Uint8Array(4), [4])), FASHION_MNIST_CLASSES),
    'labels.idx',
    /4 labels but imgs.idx has 3 images/,
  );
  refuses(
    () => idxFromBytes(I(f.imagesIdx), L(encodeIdx(Uint8Array.from([1, 10, 2]), [3])), FASHION_MNIST_CLASSES),
    'labels.idx',
    /label 10 at index 1 is outside 0..9/,
  );

  const c10 = cifarRecords([[3], [7]]);
  refuses(
    () =>
      cifar10FromBytes([
        { file: 'a.bin', bytes: c10 },
        { file: 'b.bin', bytes: c10.subarray(0, 3073 + 100) },
      ]),
    'b.bin',
    /not a multiple of the CIFAR-10 record size 3073/,
  );
  refuses(() => cifar10FromBytes([{ file: 'e.bin', bytes: new Uint8Array(0) }]), 'e.bin', /empty/);
  const badLabel = c10.slice();
  badLabel[3073] = 10;
  refuses(() => cifar10FromBytes([{ file: 'l.bin', bytes: badLabel }]), 'l.bin', /record 1: label 10 is outside 0..9/);
  const c100 = cifarRecords([
    [1, 2],
    [20, 5],
  ]);
  refuses(() => cifar100FromBytes({ file: 'c.bin', bytes: c100 }), 'c.bin', /record 1: coarse label 20/);
  refuses(() => cifar100FromBytes({ file: 'c.bin', bytes: c100.subarray(0, 3073) }), 'c.bin', /CIFAR-100 record size 3074/);
  // A CIFAR-10 file is not a CIFAR-100 file: 3073-byte records do not divide evenly into 3074.
  refuses(() => cifar100FromBytes({ file: 'x.bin', bytes: cifarRecords([[1], [2]]) }), 'x.bin', /not a multiple/);
});

test('missing files and broken gzip streams are refused by name', () => {
  const dir = join(root, 'broken');
  mkdirSync(dir);
  refuses(() => loadDataset('cifar10', dir, 'test'), join(dir, 'test_batch.bin'), /not found/);
  refuses(() => loadDataset('fashion-mnist', dir, 'train'), join(dir, 'train-images-idx3-ubyte.gz'), /not found/);
  const f = idxFiles(2, 3, 3);
  const gz = gzipSync(f.imagesIdx);
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 9));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(f.labelsIdx));
  refuses(() => loadDataset('fashion-mnist', dir, 'train'), join(dir, 'train-images-idx3-ubyte.gz'), /not a valid gzip stream/);
  assert.throws(() => loadDataset('mnist' as 'cifar10', dir, 'train'), /unknown data set/);
});

/** Parses or throws a DataFormatError naming the file; anything else fails the property. */
function parsesOrRefuses(fn: () => unknown, file: string): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    return e instanceof DataFormatError && e.message.startsWith(file + ': ');
  }
}

test('property: arbitrary bytes parse or are refused with a DataFormatError naming the file (500 runs, 5 readers each)', () => {
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    // IDX-looking headers with arbitrary dimensions and payloads.
    fc
      .tuple(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 4 }),
        fc.uint8Array({ maxLength: 40 }),
      )
      .map(([nd, dims, rest]) => {
        const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
        head.setUint32(0, 0x0800 | nd);
        dims.forEach((d, k) => {
          head.setUint32(4 + 4 * k, d);
        });
        return new Uint8Array([...new Uint8Array(head.buffer), ...rest]);
      }),
    // CIFAR-sized blobs of arbitrary content.
    fc.constantFrom(3072, 3073, 3074, 6146, 6147).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  );
  fc.assert(
    fc.property(anyBytes, (bytes) => {
      const src = { file: 'fuzz.bin', bytes };
      return (
        parsesOrRefuses(() => parseIdx(src), 'fuzz.bin') &&
        parsesOrRefuses(
          () => idxFromBytes(src, { file: 'lab', bytes: encodeIdx(new Uint8Array(1), [1]) }, FASHION_MNIST_CLASSES),
          'fuzz.bin',
        ) &&
        parsesOrRefuses(
          () => idxFromBytes({ file: 'img', bytes: encodeIdx(new Uint8Array(4), [1, 2, 2]) }, src, FASHION_MNIST_CLASSES),
          'fuzz.bin',
        ) &&
        parsesOrRefuses(() => cifar10FromBytes([src]), 'fuzz.bin') &&
        parsesOrRefuses(() => cifar100FromBytes(src), 'fuzz.bin')
      );
    }),
    { numRuns: 500 },
  );
});

test('property: every truncation of a valid file, raw or gzipped, is refused by name (60 runs, 3 files each)', () => {
  const f = idxFiles(3, 4, 4);
  // Two records: a cut after the first leaves one whole record, a valid file, so that length is not a truncation.
  const c10 = cifarRecords([[1], [2]]);
  const dir = join(root, 'trunc');
  mkdirSync(dir);
  const file = join(dir, 'cut.bin');
  const gz = gzipSync(f.imagesIdx);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: f.imagesIdx.length - 1 }),
      fc.integer({ min: 0, max: c10.length - 1 }).filter((b) => b !== c10.length / 2),
      fc.integer({ min: 0, max: gz.length - 1 }),
      (a, b, g) => {
        assert.throws(
          () => parseIdx({ file: 'cut.idx', bytes: f.imagesIdx.subarray(0, a) }),
          (e) => e instanceof DataFormatError && e.message.startsWith('cut.idx: '),
        );
        assert.throws(
          () => cifar10FromBytes([{ file: 'cut.bin', bytes: c10.subarray(0, b) }]),
          (e) => e instanceof DataFormatError && e.message.startsWith('cut.bin: '),
        );
        writeFileSync(file, gz.subarray(0, g));
        assert.throws(
          () => parseIdx(readDataFile(file)),
          (e) => e instanceof DataFormatError && e.message.startsWith(file + ': '),
        );
      },
    ),
    { numRuns: 60 },
  );
});
