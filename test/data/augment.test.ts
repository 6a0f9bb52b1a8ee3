import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  BatchIterator,
  CIFAR_MEAN,
  CIFAR_STD,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  MT19937,
  type Dataset,
  evalBatches,
  hflip,
  normalizationTable,
  normalize,
  padCrop,
  sampleAugment,
  writeImage,
} from '../../src/data/index.js';
import { numpyFixtures as fx } from './fixtures.js';

const shapeArb = fc.record({ c: fc.constantFrom(1, 3), h: fc.integer({ min: 1, max: 9 }), w: fc.integer({ min: 1, max: 9 }) });
const imageArb = shapeArb.chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    img: fc.uint8Array({ minLength: shape.c * shape.h * shape.w, maxLength: shape.c * shape.h * shape.w }),
  }),
);

test('hflip twice is the identity; padCrop with zero shift is the identity', () => {
  fc.assert(
    fc.property(imageArb, fc.integer({ min: 0, max: 5 }), ({ shape, img }, pad) => {
      assert.deepEqual(hflip(hflip(img, shape), shape), img);
      assert.deepEqual(padCrop(img, shape, pad, pad, pad), img);
    }),
  );
});

test('padCrop shifts the content and fills with zeros', () => {
  const shape = { c: 1, h: 3, w: 3 };
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Window at (0, 0) of the 1-padded image: content moves down-right by one.
  assert.deepEqual(Array.from(padCrop(img, shape, 1, 0, 0)), [0, 0, 0, 0, 1, 2, 0, 4, 5]);
  assert.deepEqual(Array.from(padCrop(img, shape, 1, 2, 1)), [4, 5, 6, 7, 8, 9, 0, 0, 0]);
  assert.deepEqual(Array.from(hflip(img, shape)), [3, 2, 1, 6, 5, 4, 9, 8, 7]);
  // Shifted all the way out: only padding.
  assert.deepEqual(Array.from(padCrop(img, shape, 4, 0, 8)), new Array(9).fill(0));
});

test('the fused writeImage equals normalize(hflip?(padCrop(img))) element for element', () => {
  fc.assert(
    fc.property(imageArb, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), ({ shape, img }, pad, seed) => {
      const mean = shape.c === 3 ? CIFAR_MEAN : FASHION_MNIST_MEAN;
      const std = shape.c === 3 ? CIFAR_STD : FASHION_MNIST_STD;
      const a = sampleAugment(new MT19937(seed), { pad, flip: true });
      assert.ok(a.top >= 0 && a.top <= 2 * pad && a.left >= 0 && a.left <= 2 * pad);
      const cropped = padCrop(img, shape, pad, a.top, a.left);
      const expected = normalize(a.flip ? hflip(cropped, shape) : cropped, shape, mean, std);
      const out = new Float32Array(expected.length + 3);
      writeImage(img, 0, shape, a, pad, normalizationTable(mean, std), out, 3);
      assert.deepEqual(out.subarray(3), expected);
    }),
  );
});

test('normalisation: (v / 255 - mean) / std per channel, in float32', () => {
  const shape = { c: 3, h: 1, w: 2 };
  const out = normalize(Uint8Array.from([0, 255, 128, 0, 51, 255]), shape, CIFAR_MEAN, CIFAR_STD);
  const want = [0, 255, 128, 0, 51, 255].map((v, k) => Math.fround((v / 255 - CIFAR_MEAN[k >> 1]) / CIFAR_STD[k >> 1]));
  assert.deepEqual(Array.from(out), want);
  assert.throws(() => normalizationTable([0.5], [0]), /must be > 0/);
  assert.throws(() => normalizationTable([0.5, 0.5], [1]), /one value a channel/);
});

function toyDataset(n: number, c: number, h: number, w: number, numClasses = 10): Dataset {
  const images = new Uint8Array(n * c * h * w).map((_, k) => (k * 37 + (k >> 5)) & 0xff);
  const labels = Int32Array.from({ length: n }, (_, i) => i % numClasses);
  return { images, labels, n, c, h, w, numClasses, classNames: Array.from({ length: numClasses }, (_, k) => `c${k}`) };
}

function collect(it: Iterable<{ indices: Int32Array }>): number[] {
  const all: number[] = [];
  for (const b of it) all.push(...b.indices);
  return all;
}

test('BatchIterator: every index exactly once an epoch, shapes, labels, drop or keep the last batch', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 1, max: 16 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
      (n, batchSize, dropLast, seed) => {
        const ds = toyDataset(n, 1, 5, 4);
        const it = new BatchIterator(ds, { batchSize, mean: [0.5], std: [0.25], dropLast, seed, augment: { pad: 2, flip: true } });
        for (let e = 0; e < 2; e++) {
          const epoch = it.epoch();
          assert.deepEqual(
            [...epoch.order].sort((a, b) => a - b),
            Array.from({ length: n }, (_, i) => i),
          );
          const batches = [...epoch];
          assert.equal(batches.length, dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize));
          assert.equal(batches.length, it.numBatches);
          const seen = collect(batches);
          if (!dropLast)
            assert.deepEqual(
              seen.slice().sort((a, b) => a - b),
              Array.from({ length: n }, (_, i) => i),
            );
          else assert.equal(new Set(seen).size, Math.floor(n / batchSize) * batchSize);
          for (const b of batches) {
            const size = b.indices.length;
            assert.ok(dropLast ? size === batchSize : size >= 1 && size <= batchSize);
            assert.deepEqual(b.shape, [size, 1, 5, 4]);
            assert.equal(b.x.length, size * 20);
            assert.deepEqual(
              Array.from(b.y),
              Array.from(b.indices, (i) => ds.labels[i]),
            );
          }
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('BatchIterator: the same seed gives the same batches; a restored state gives the same next epoch', () => {
  const ds = toyDataset(50, 3, 8, 8);
  const opts = { batchSize: 16, mean: CIFAR_MEAN, std: CIFAR_STD, seed: 123 };
  const a = new BatchIterator(ds, opts);
  const b = new BatchIterator(ds, opts);
  a.epoch();
  b.epoch();
  const saved = JSON.parse(JSON.stringify(a.getState()));
  const ea = [...a.epoch()];
  const eb = [...b.epoch()];
  assert.deepEqual(ea, eb);
  // Resume a fresh iterator from the saved state: identical epoch, also batch by batch out of order.
  const c = new BatchIterator(ds, { ...opts, seed: 999 });
  c.setState(saved);
  const ec = c.epoch();
  assert.deepEqual(ec.batch(2), ea[2]);
  assert.deepEqual([...ec], ea);
  assert.deepEqual(c.getState(), a.getState());
  // Consuming part of an epoch does not change what comes next.
  const d = new BatchIterator(ds, opts);
  d.epoch().batch(0);
  const e = new BatchIterator(ds, opts);
  [...e.epoch()];
  assert.deepEqual([...d.epoch()], [...e.epoch()]);
  // A different seed gives a different order.
  assert.notDeepEqual(new BatchIterator(ds, { ...opts, seed: 124 }).epoch().order, new BatchIterator(ds, opts).epoch().order);
});

test('BatchIterator: the epoch order is np.random.permutation from the seed, then crop/flip draws position by position', () => {
  const c = fx.shuffle.find((s) => s.seed === 123 && s.n === 100)!;
  const it = new BatchIterator(toyDataset(100, 1, 2, 2), { batchSize: 32, mean: [0], std: [1], seed: 123, augment: null });
  assert.deepEqual(Array.from(it.epoch().order), c.perm);

  const ds = toyDataset(20, 3, 6, 6);
  const augment = { pad: 4, flip: true };
  const epoch = new BatchIterator(ds, { batchSize: 8, mean: CIFAR_MEAN, std: CIFAR_STD, seed: 7, augment }).epoch();
  const rng = new MT19937(7);
  const order = rng.permutation(20);
  assert.deepEqual(epoch.order, order);
  const params = Array.from({ length: 20 }, () => sampleAugment(rng, augment));
  const b = epoch.batch(1);
  for (let j = 0; j < 8; j++) {
    const i = order[8 + j];
    const a = params[8 + j];
    const cropped = padCrop(ds.images.subarray(i * 108, (i + 1) * 108), ds, 4, a.top, a.left);
    assert.deepEqual(b.x.subarray(j * 108, (j + 1) * 108), normalize(a.flip ? hflip(cropped, ds) : cropped, ds, CIFAR_MEAN, CIFAR_STD));
  }
});

test('grayscale 1x28x28 and CIFAR 3x32x32: augmented batches keep the input size; pad 4 fills zeros as -mean/std', () => {
  for (const [c, h, w, mean, std] of [
    [1, 28, 28, FASHION_MNIST_MEAN, FASHION_MNIST_STD],
    [3, 32, 32, CIFAR_MEAN, CIFAR_STD],
  ] as const) {
    const ds = toyDataset(10, c, h, w);
    const it = new BatchIterator(ds, { batchSize: 4, mean, std, seed: 1 });
    const batches = [...it.epoch()];
    assert.deepEqual(
      batches.map((b) => b.shape),
      [
        [4, c, h, w],
        [4, c, h, w],
        [2, c, h, w],
      ],
    );
    const zero = Math.fround((0 - mean[0]) / std[0]);
    // Over many epochs some image is shifted, so some padding value appears.
    let padded = false;
    for (let e = 0; e < 5 && !padded; e++) for (const b of it.epoch()) if (b.x.includes(zero)) padded = true;
    assert.ok(padded);
  }
  assert.throws(
    () => new BatchIterator(toyDataset(4, 1, 2, 2), { batchSize: 2, mean: CIFAR_MEAN, std: CIFAR_STD }),
    /3 normalisation channels for 1-channel/,
  );
  assert.throws(() => new BatchIterator(toyDataset(4, 1, 2, 2), { batchSize: 0, mean: [0], std: [1] }), /batchSize/);
});

test('evalBatches: data-set order, normalisation only, last partial batch kept', () => {
  const ds = toyDataset(10, 3, 4, 4);
  const batches = [...evalBatches(ds, { batchSize: 4, mean: CIFAR_MEAN, std: CIFAR_STD })];
  assert.deepEqual(
    collect(batches),
    Array.from({ length: 10 }, (_, i) => i),
  );
  assert.deepEqual(
    batches.map((b) => b.shape[0]),
    [4, 4, 2],
  );
  const size = 48;
  assert.deepEqual(batches[2].x.subarray(size, 2 * size), normalize(ds.images.subarray(9 * size, 10 * size), ds, CIFAR_MEAN, CIFAR_STD));
});
