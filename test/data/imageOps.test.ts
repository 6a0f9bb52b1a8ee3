// AutoAugment's operations and Cutout on byte images: each op against Pillow
// (/usr/bin/python3 with Debian's python3-pil, run as DeepVoltaire's
// CIFAR10Policy calls it) on random RGB and grey images: exact, sharpness
// within one level (see imageOps.ts);
// the policy table and sampler; the augmenter's bit-exact resume.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUTOAUGMENT_POLICIES,
  BatchIterator,
  ByteAugmenter,
  CIFAR_MEAN,
  CIFAR_STD,
  normalize,
  type Dataset,
  CIFAR10_POLICY,
  MT19937,
  applyAutoAugmentOp,
  autoAugment,
  autoAugmentMagnitude,
  cutout,
  sampleAutoAugment,
  sampleCutout,
  type AutoAugmentOpName,
  type ImageShape,
} from '../../src/data/index.js';
import { runPython, skipWithoutPillow } from '../util/pillow.js';
import { mulberry32 } from '../util/close.js';

const OPS: AutoAugmentOpName[] = [
  'shearX',
  'shearY',
  'translateX',
  'translateY',
  'rotate',
  'color',
  'posterize',
  'solarize',
  'contrast',
  'sharpness',
  'brightness',
  'autocontrast',
  'equalize',
  'invert',
];

interface Case {
  image: number;
  op: AutoAugmentOpName;
  magnitude: number;
  sign: 1 | -1;
}

/** Random images: uniform noise, smooth gradients with noise (realistic histograms) and low-contrast patches. */
function randomImages(shape: ImageShape, count: number, seed: number): Uint8Array[] {
  const rand = mulberry32(seed);
  const size = shape.c * shape.h * shape.w;
  return Array.from({ length: count }, (_, k) => {
    const img = new Uint8Array(size);
    const kind = k % 3;
    const lo = Math.floor(rand() * 100);
    const span = 20 + Math.floor(rand() * 100);
    for (let i = 0; i < size; i++) {
      const x = i % shape.w;
      const y = Math.floor(i / shape.w) % shape.h;
      if (kind === 0) img[i] = Math.floor(rand() * 256);
      else if (kind === 1)
        img[i] = Math.min(255, Math.floor(((x * 5 + y * 3 + Math.floor(i / (shape.h * shape.w)) * 40) % 256) + rand() * 12));
      else img[i] = lo + Math.floor(rand() * span);
    }
    return img;
  });
}

/** Pillow's results for every case, CHW bytes. */
function pillowResults(images: Uint8Array[], shape: ImageShape, cases: Case[]): Uint8Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'wt-imageops-'));
  try {
    writeFileSync(join(dir, 'images.bin'), Buffer.concat(images.map((i) => Buffer.from(i))));
    writeFileSync(join(dir, 'cases.json'), JSON.stringify({ shape, cases }));
    runPython(PILLOW_SCRIPT, dir);
    const all = readFileSync(join(dir, 'out.bin'));
    const size = shape.c * shape.h * shape.w;
    return cases.map((_, k) => new Uint8Array(all.buffer, all.byteOffset + k * size, size));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The port's lambdas (DeepVoltaire/AutoAugment, SubPolicy), with the random sign passed in.
const PILLOW_SCRIPT = `
import json, sys
import numpy as np
from PIL import Image, ImageEnhance, ImageOps
d = sys.argv[1]
spec = json.load(open(d + '/cases.json'))
c, h, w = spec['shape']['c'], spec['shape']['h'], spec['shape']['w']
raw = np.fromfile(d + '/images.bin', dtype=np.uint8).reshape(-1, c, h, w)
fill = (128,) * 3 if c == 3 else 128
def rotate_with_fill(img, magnitude):
    rot = img.convert('RGBA').rotate(magnitude)
    return Image.composite(rot, Image.new('RGBA', rot.size, (128,) * 4), rot).convert(img.mode)
f = {
  'shearX': lambda img, m, s: img.transform(img.size, Image.AFFINE, (1, m * s, 0, 0, 1, 0), Image.BICUBIC, fillcolor=fill),
  'shearY': lambda img, m, s: img.transform(img.size, Image.AFFINE, (1, 0, 0, m * s, 1, 0), Image.BICUBIC, fillcolor=fill),
  'translateX': lambda img, m, s: img.transform(img.size, Image.AFFINE, (1, 0, m * img.size[0] * s, 0, 1, 0), fillcolor=fill),
  'translateY': lambda img, m, s: img.transform(img.size, Image.AFFINE, (1, 0, 0, 0, 1, m * img.size[1] * s), fillcolor=fill),
  'rotate': lambda img, m, s: rotate_with_fill(img, m),
  'color': lambda img, m, s: ImageEnhance.Color(img).enhance(1 + m * s),
  'posterize': lambda img, m, s: ImageOps.posterize(img, int(m)),
  'solarize': lambda img, m, s: ImageOps.solarize(img, m),
  'contrast': lambda img, m, s: ImageEnhance.Contrast(img).enhance(1 + m * s),
  'sharpness': lambda img, m, s: ImageEnhance.Sharpness(img).enhance(1 + m * s),
  'brightness': lambda img, m, s: ImageEnhance.Brightness(img).enhance(1 + m * s),
  'autocontrast': lambda img, m, s: ImageOps.autocontrast(img),
  'equalize': lambda img, m, s: ImageOps.equalize(img),
  'invert': lambda img, m, s: ImageOps.invert(img),
}
out = []
for case in spec['cases']:
    a = raw[case['image']]
    img = Image.fromarray(a.transpose(1, 2, 0)) if c == 3 else Image.fromarray(a[0], 'L')
    r = np.asarray(f[case['op']](img, case['magnitude'], case['sign']))
    out.append(r.transpose(2, 0, 1) if c == 3 else r[None])
np.ascontiguousarray(np.stack(out), dtype=np.uint8).tofile(d + '/out.bin')
`;

function compareWithPillow(shape: ImageShape, seed: number): void {
  const images = randomImages(shape, 6, seed);
  const cases: Case[] = [];
  for (const op of OPS) {
    for (let level = 0; level < 10; level++) {
      for (const sign of [1, -1] as const) {
        cases.push({ image: (level + (sign > 0 ? 0 : 3)) % images.length, op, magnitude: autoAugmentMagnitude(op, level), sign });
      }
    }
  }
  const want = pillowResults(images, shape, cases);
  const worst = new Map<string, { differing: number; total: number }>();
  cases.forEach((cs, k) => {
    const got = applyAutoAugmentOp(images[cs.image], shape, cs.op, cs.magnitude, cs.sign);
    const stat = worst.get(cs.op) ?? { differing: 0, total: 0 };
    for (let i = 0; i < got.length; i++) {
      const diff = Math.abs(got[i] - want[k][i]);
      assert.ok(
        diff <= 1,
        `${cs.op} magnitude ${cs.magnitude} sign ${cs.sign} on image ${cs.image} (${shape.c}x${shape.h}x${shape.w}): ` +
          `element ${i} is ${got[i]}, Pillow ${want[k][i]}`,
      );
      if (diff) stat.differing++;
    }
    stat.total += got.length;
    worst.set(cs.op, stat);
  });
  // Exact everywhere but where the header of imageOps.ts says why not.
  for (const [op, { differing, total }] of worst) {
    if (op !== 'sharpness') assert.equal(differing, 0, `${op}: ${differing} of ${total} values differ from Pillow by one`);
  }
}

test('every AutoAugment op at every level and sign matches Pillow on RGB images', { skip: skipWithoutPillow }, () => {
  compareWithPillow({ c: 3, h: 32, w: 32 }, 7);
});

test('every AutoAugment op matches Pillow on grey and non-square images', { skip: skipWithoutPillow }, () => {
  compareWithPillow({ c: 1, h: 28, w: 28 }, 8);
  compareWithPillow({ c: 3, h: 13, w: 20 }, 9);
});

test('the CIFAR-10 policy: 25 sub-policies, the port magnitudes, and a fixed five draws per image', () => {
  assert.deepEqual(AUTOAUGMENT_POLICIES, ['cifar10']);
  assert.equal(CIFAR10_POLICY.length, 25);
  assert.deepEqual(
    Array.from({ length: 10 }, (_, l) => autoAugmentMagnitude('posterize', l)),
    [8, 8, 7, 7, 6, 6, 5, 5, 4, 4],
  );
  assert.equal(autoAugmentMagnitude('solarize', 0), 256);
  assert.ok(Math.abs(autoAugmentMagnitude('solarize', 1) - 227.55555555555554) < 1e-12);
  assert.ok(Math.abs(autoAugmentMagnitude('translateX', 9) - 150 / 331) < 1e-15);
  const rng = new MT19937(3);
  const twin = new MT19937(3);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const p = sampleAutoAugment(rng);
    seen.add(p.subPolicy);
    twin.randomInterval(24);
    twin.randomSample();
    twin.randomInterval(1);
    twin.randomSample();
    twin.randomInterval(1);
    // Sub-policy 14's second op has p = 0: never applied.
    if (p.subPolicy === 14) assert.equal(p.apply[1], false);
  }
  assert.equal(seen.size, 25);
  assert.deepEqual(rng.getState(), twin.getState());
});

test('autoAugment applies the drawn operations in order and never aliases its input', () => {
  const shape = { c: 3, h: 8, w: 8 };
  const [img] = randomImages(shape, 1, 4);
  // Sub-policy 4: autocontrast then equalize.
  const both = autoAugment(img, shape, { subPolicy: 4, apply: [true, true], sign: [1, 1] });
  assert.deepEqual(both, applyAutoAugmentOp(applyAutoAugmentOp(img, shape, 'autocontrast', 0, 1), shape, 'equalize', 0, 1));
  const none = autoAugment(img, shape, { subPolicy: 4, apply: [false, false], sign: [1, 1] });
  assert.deepEqual(none, img);
  assert.notEqual(none, img);
});

test('cutout zeroes one size x size square in every channel, clipped at the borders', () => {
  const shape = { c: 2, h: 6, w: 7 };
  const img = new Uint8Array(2 * 6 * 7).fill(9);
  const inside = cutout(img, shape, 2, { cy: 3, cx: 3 });
  for (let ch = 0; ch < 2; ch++) {
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 7; x++) {
        const cut = y >= 2 && y < 4 && x >= 2 && x < 4;
        assert.equal(inside[(ch * 6 + y) * 7 + x], cut ? 0 : 9, `channel ${ch} (${y}, ${x})`);
      }
    }
  }
  // Odd size: the full 3 x 3 square; at a corner: clipped to 2 x 2.
  assert.equal(cutout(img, shape, 3, { cy: 3, cx: 3 }).filter((v) => v === 0).length, 2 * 9);
  assert.equal(cutout(img, shape, 3, { cy: 0, cx: 6 }).filter((v) => v === 0).length, 2 * 4);
  assert.deepEqual(cutout(img, shape, 0, { cy: 3, cx: 3 }), img);
  assert.throws(() => cutout(img, shape, -1, { cy: 0, cx: 0 }), /size must be a non-negative integer/);
  const rng = new MT19937(1);
  for (let i = 0; i < 500; i++) {
    const p = sampleCutout(rng, shape);
    assert.ok(p.cy >= 0 && p.cy < 6 && p.cx >= 0 && p.cx < 7);
  }
});

test('ByteAugmenter: seeded, resumes bit-exactly from a saved state, draws nothing when off', () => {
  const shape = { c: 3, h: 16, w: 16 };
  const images = randomImages(shape, 40, 5);
  const options = { autoAugment: 'cifar10' as const, cutout: 8 };
  const run = new ByteAugmenter(options, 11);
  const straight = images.map((img) => run.apply(img, shape));
  const first = new ByteAugmenter(options, 11);
  for (const img of images.slice(0, 17)) first.apply(img, shape);
  const saved = JSON.parse(JSON.stringify(first.getState()));
  const resumed = new ByteAugmenter(options, 999);
  resumed.setState(saved);
  const rest = images.slice(17).map((img) => resumed.apply(img, shape));
  assert.deepEqual(rest, straight.slice(17));
  assert.notDeepEqual(new ByteAugmenter(options, 12).apply(images[0], shape), straight[0]);
  const off = new ByteAugmenter({ autoAugment: null, cutout: 0 }, 3);
  assert.equal(off.enabled, false);
  assert.deepEqual(off.apply(images[0], shape), images[0]);
  assert.deepEqual(off.getState(), new MT19937(3).getState());
  assert.throws(() => new ByteAugmenter({ autoAugment: 'imagenet' as 'cifar10', cutout: 0 }, 0), /unknown AutoAugment policy 'imagenet'/);
});

function toyDataset(n: number, shape: ImageShape): Dataset {
  const images = new Uint8Array(n * shape.c * shape.h * shape.w);
  randomImages(shape, n, 21).forEach((img, i) => {
    images.set(img, i * img.length);
  });
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { images, labels, n, ...shape, numClasses: 10, classNames: Array.from({ length: 10 }, (_, k) => `c${k}`) };
}

test('BatchIterator with byteAugment: Cutout on the bytes before normalisation, from its own generator', () => {
  const shape = { c: 3, h: 8, w: 8 };
  const ds = toyDataset(12, shape);
  const it = new BatchIterator(ds, {
    batchSize: 5,
    mean: CIFAR_MEAN,
    std: CIFAR_STD,
    augment: null,
    shuffle: false,
    byteAugment: { autoAugment: null, cutout: 4, seed: 77 },
  });
  const twin = new MT19937(77);
  const centres = Array.from({ length: 12 }, () => sampleCutout(twin, shape));
  const epoch = it.epoch();
  const size = 3 * 8 * 8;
  for (let k = 0; k < epoch.numBatches; k++) {
    const b = epoch.batch(k);
    b.indices.forEach((i, j) => {
      const want = normalize(cutout(ds.images.subarray(i * size, (i + 1) * size), shape, 4, centres[i]), shape, CIFAR_MEAN, CIFAR_STD);
      assert.deepEqual(b.x.subarray(j * size, (j + 1) * size), want, `image ${i}`);
    });
  }
  assert.deepEqual(it.getState().byteRng, twin.getState());
});

test('BatchIterator with AutoAugment and Cutout: same order and crops as without, deterministic batches, bit-exact resume', () => {
  const shape = { c: 3, h: 8, w: 8 };
  const ds = toyDataset(23, shape);
  const base = { batchSize: 6, mean: CIFAR_MEAN, std: CIFAR_STD, seed: 5 };
  const on = { ...base, byteAugment: { autoAugment: 'cifar10' as const, cutout: 3, seed: 6 } };
  const plain = new BatchIterator(ds, base);
  const straight = new BatchIterator(ds, on);
  let saved = straight.getState();
  const epochs = [];
  for (let e = 0; e < 3; e++) {
    if (e === 2) saved = JSON.parse(JSON.stringify(straight.getState()));
    const ep = straight.epoch();
    assert.deepEqual(ep.order, plain.epoch().order, `epoch ${e}: the batch order does not depend on byteAugment`);
    epochs.push(ep);
  }
  const last = epochs[2];
  assert.deepEqual(last.batch(3), last.batch(3));
  const resumed = new BatchIterator(ds, on);
  resumed.setState(saved);
  const again = resumed.epoch();
  for (let k = last.numBatches - 1; k >= 0; k--) assert.deepEqual(again.batch(k).x, last.batch(k).x, `batch ${k} after resume`);
  assert.deepEqual(resumed.getState(), straight.getState());
  // Something was augmented: the batches differ from the plain iterator's.
  assert.notDeepEqual(new BatchIterator(ds, on).epoch().batch(0).x, new BatchIterator(ds, base).epoch().batch(0).x);
  assert.throws(() => new BatchIterator(ds, on).setState(plain.getState()), /saved state has no byteRng/);
});
