import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  FASHION_MNIST_CLASSES,
  classCounts,
  fnv1a64Int32,
  loadDataset,
  longTailDataset,
  longTailIndices,
  subsetFingerprint,
} from '../../src/data/index.js';
import { numpyFixtures as fx } from './fixtures.js';

const DIR = new URL('../../data/fashion-mnist-lt/', import.meta.url).pathname;
const DEBIAN = '/usr/share/datasets/fashion-mnist';

test('the shipped Fashion-MNIST-LT loads: rho=100 exp training subset, balanced test set', () => {
  const train = loadDataset('fashion-mnist', DIR, 'train');
  assert.deepEqual([train.n, train.c, train.h, train.w, train.numClasses], [14886, 1, 28, 28, 10]);
  assert.deepEqual(train.classNames, [...FASHION_MNIST_CLASSES]);
  const counts = [6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60];
  assert.deepEqual(classCounts(train.labels, 10), counts);
  for (let i = 1; i < train.n; i++) assert.ok(train.labels[i - 1] <= train.labels[i], 'kept class by class');
  assert.equal(fnv1a64Int32(train.labels), fx.fashionMnistLt!.keptLabelsHash, 'labels of the images numpy keeps');
  const test = loadDataset('fashion-mnist', DIR, 'test');
  assert.equal(test.n, 10000);
  assert.deepEqual(classCounts(test.labels, 10), new Array(10).fill(1000));

  // Its manifest records the subset numpy itself picks from the same labels.
  const manifest = JSON.parse(readFileSync(DIR + 'manifest.json', 'utf8'));
  assert.deepEqual(manifest.fingerprint.perClassCounts, counts);
  assert.equal(manifest.fingerprint.hash, fx.fashionMnistLt!.hash);
  assert.deepEqual(fx.fashionMnistLt!.counts, counts);
});

test('the shipped training images are exactly longTailIndices of the Debian originals', {
  skip: !existsSync(DEBIAN) && `${DEBIAN} not installed`,
}, () => {
  const full = loadDataset('fashion-mnist', DEBIAN, 'train');
  const indices = longTailIndices(full.labels, { numClasses: 10, imbalanceRatio: 100, type: 'exp', seed: 0 });
  assert.equal(subsetFingerprint(indices, full.labels, 10).hash, fx.fashionMnistLt!.hash);
  const { dataset: lt, fingerprint } = longTailDataset(full, { imbalanceRatio: 100, type: 'exp', seed: 0 });
  assert.equal(fingerprint.hash, fx.fashionMnistLt!.hash);
  const shipped = loadDataset('fashion-mnist', DIR, 'train');
  assert.ok(Buffer.from(lt.images).equals(Buffer.from(shipped.images)));
  assert.deepEqual(lt.labels, shipped.labels);
});
