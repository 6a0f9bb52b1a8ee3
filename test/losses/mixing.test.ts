// The Beta sampler's moments, MixUp / CutMix batches, and mixedLoss: its value
// and its gradient (float64 central differences) for every loss, with and
// without per-class weights.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as wt from '../../src/index.js';
import * as losses from '../../src/losses/index.js';
import { MT19937, sampleBeta, sampleGamma } from '../../src/data/index.js';
import { gradcheck, forwardcheck, type GradCase } from '../util/gradcheck.js';
import { conformanceBackends, randomValues } from '../util/backends.js';
import { countsOf, labelsOf, lossBatch } from './helpers.js';

const wasm = (await conformanceBackends()).find((b) => b.name === 'wasm')!;
const RUNS = Number(process.env.WT_GRAD_RUNS ?? 12);

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = draw();
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

describe('Gamma and Beta samplers (Marsaglia-Tsang)', () => {
  it('Beta(a, b) has mean a / (a + b) and variance ab / ((a + b)^2 (a + b + 1)), within 5 standard errors', () => {
    const n = 100_000;
    for (const [a, b] of [
      [0.2, 0.2],
      [1, 1],
      [2, 2],
      [0.5, 3],
      [4, 1.5],
    ]) {
      const rng = new MT19937(2024);
      const { mean, variance } = moments(() => sampleBeta(rng, a, b), n);
      const wantMean = a / (a + b);
      const wantVar = (a * b) / ((a + b) ** 2 * (a + b + 1));
      // Standard error of the mean sqrt(var / n); of the variance about sqrt(2 / n) * var for these shapes (checked loosely).
      assert.ok(Math.abs(mean - wantMean) < 5 * Math.sqrt(wantVar / n), `Beta(${a}, ${b}) mean ${mean}, want ${wantMean}`);
      assert.ok(Math.abs(variance - wantVar) < 0.03 * wantVar, `Beta(${a}, ${b}) variance ${variance}, want ${wantVar}`);
    }
  });

  it('Gamma(k) has mean and variance k; tiny shapes stay in (0, 1) for Beta', () => {
    for (const k of [0.3, 1, 5]) {
      const rng = new MT19937(7);
      const { mean, variance } = moments(() => sampleGamma(rng, k), 100_000);
      assert.ok(Math.abs(mean - k) < 5 * Math.sqrt(k / 100_000), `Gamma(${k}) mean ${mean}`);
      assert.ok(Math.abs(variance - k) < 0.05 * k, `Gamma(${k}) variance ${variance}`);
    }
    const rng = new MT19937(1);
    for (let i = 0; i < 1000; i++) {
      const v = sampleBeta(rng, 0.01, 0.01);
      assert.ok(v >= 0 && v <= 1 && Number.isFinite(v));
    }
    assert.throws(() => sampleBeta(rng, 0, 1), /a must be a positive number/);
  });

  it('is reproducible from the generator state', () => {
    const a = new MT19937(5);
    for (let i = 0; i < 10; i++) sampleBeta(a, 0.4, 0.4);
    const b = a.clone();
    assert.deepEqual(
      Array.from({ length: 20 }, () => sampleBeta(a, 0.4, 0.4)),
      Array.from({ length: 20 }, () => sampleBeta(b, 0.4, 0.4)),
    );
  });
});

describe('mixup and cutmix batches', () => {
  const shape = [5, 2, 6, 7] as const;
  const x = randomValues(5 * 2 * 6 * 7, 3);
  const labels = Int32Array.from([0, 1, 2, 3, 4]);

  it('mixup: lambda from Beta, then the permutation; x = lambda x + (1 - lambda) x[perm]', () => {
    const rng = new MT19937(9);
    const twin = new MT19937(9);
    const m = losses.mixup(x, shape, labels, 0.4, rng);
    const lambda = sampleBeta(twin, 0.4, 0.4);
    const perm = twin.permutation(5);
    assert.equal(m.lambda, lambda);
    assert.deepEqual(Array.from(m.labelsB), Array.from(perm));
    assert.deepEqual(m.labelsA, labels);
    const size = 2 * 6 * 7;
    for (let i = 0; i < 5; i++) {
      for (let k = 0; k < size; k++) {
        assert.equal(m.x[i * size + k], Math.fround(lambda * x[i * size + k] + (1 - lambda) * x[perm[i] * size + k]));
      }
    }
    assert.deepEqual(rng.getState(), twin.getState());
  });

  it('cutmix: the box comes from the partner, lambda is the share left, as rand_bbox', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0.2, 1, 3), (seed, alpha) => {
        const rng = new MT19937(seed);
        const twin = new MT19937(seed);
        const m = losses.cutmix(x, shape, labels, alpha, rng);
        const drawn = sampleBeta(twin, alpha, alpha);
        const perm = twin.permutation(5);
        const cutH = Math.floor(6 * Math.sqrt(1 - drawn));
        const cutW = Math.floor(7 * Math.sqrt(1 - drawn));
        const cy = twin.randomInterval(5);
        const cx = twin.randomInterval(6);
        const box = m.box!;
        assert.deepEqual(box, {
          y0: Math.max(0, cy - (cutH >> 1)),
          y1: Math.min(6, cy + (cutH >> 1)),
          x0: Math.max(0, cx - (cutW >> 1)),
          x1: Math.min(7, cx + (cutW >> 1)),
        });
        assert.equal(m.lambda, 1 - ((box.y1 - box.y0) * (box.x1 - box.x0)) / 42);
        assert.deepEqual(Array.from(m.labelsB), Array.from(perm));
        for (let i = 0; i < 5; i++) {
          for (let c = 0; c < 2; c++) {
            for (let yy = 0; yy < 6; yy++) {
              for (let xx = 0; xx < 7; xx++) {
                const inBox = yy >= box.y0 && yy < box.y1 && xx >= box.x0 && xx < box.x1;
                const src = inBox ? perm[i] : i;
                assert.equal(m.x[((i * 2 + c) * 6 + yy) * 7 + xx], x[((src * 2 + c) * 6 + yy) * 7 + xx]);
              }
            }
          }
        }
        assert.deepEqual(rng.getState(), twin.getState());
      }),
      { numRuns: 30 },
    );
  });

  it('BatchMixer: one generator across batches, resumes bit-exactly, stops after until', () => {
    const options = { mode: 'cutmix' as const, alpha: 1, until: 0.5, seed: 31 };
    const mixer = new losses.BatchMixer(options);
    const straight = Array.from({ length: 6 }, (_, k) => mixer.mix(x, shape, labels, k, 20));
    const first = new losses.BatchMixer(options);
    for (let k = 0; k < 3; k++) first.mix(x, shape, labels, k, 20);
    const resumed = new losses.BatchMixer(options);
    resumed.setState(JSON.parse(JSON.stringify(first.getState())));
    assert.deepEqual(
      Array.from({ length: 3 }, (_, k) => resumed.mix(x, shape, labels, 3 + k, 20)),
      straight.slice(3),
    );
    const direct = new MT19937(31);
    assert.deepEqual(straight[0], losses.cutmix(x, shape, labels, 1, direct));
    const before = mixer.getState();
    assert.equal(mixer.mix(x, shape, labels, 10, 20), null);
    assert.deepEqual(mixer.getState(), before);
    assert.throws(() => new losses.BatchMixer({ ...options, alpha: 0 }), /alpha must be a positive number/);
  });

  it('refuses a non-positive alpha and mismatched shapes; mixingActive stops at the fraction', () => {
    assert.throws(() => losses.mixup(x, shape, labels, 0, new MT19937(0)), /mixup: alpha must be a positive number, got 0/);
    assert.throws(() => losses.cutmix(x, shape, labels, -1, new MT19937(0)), /cutmix: alpha must be a positive number/);
    assert.throws(() => losses.mixup(x.subarray(1), shape, labels, 1, new MT19937(0)), /values for a batch of shape/);
    assert.throws(() => losses.cutmix(x, shape, labels.subarray(1), 1, new MT19937(0)), /4 labels for a batch of 5/);
    assert.equal(losses.mixingActive(159, 200, 0.8), true);
    assert.equal(losses.mixingActive(160, 200, 0.8), false);
    assert.equal(losses.mixingActive(199, 200), true);
  });
});

const batch = lossBatch(9, (n, c) => ({
  labelsA: labelsOf(n, c),
  labelsB: labelsOf(n, c),
  counts: countsOf(c),
  lambda: fc.double({ min: 0, max: 1, noNaN: true }),
  name: fc.constantFrom(...losses.LOSS_NAMES),
  weighted: fc.boolean(),
}));

describe('mixedLoss (wasm backend)', () => {
  before(() => wt.init({ backend: 'wasm' }));

  it('equals lambda L(yA) + (1 - lambda) L(yB), and L(yA) at lambda = 1', async () => {
    const z = wt.tensor(randomValues(12, 1), [3, 4]);
    const f = wt.tensor(randomValues(6, 2, 0.2, 2), [3, 2]);
    const counts = [900, 90, 30, 9];
    const weights = losses.drwSchedule(counts, { epochs: 10, drwEpoch: 0 }).weightsAt(5)!;
    for (const name of losses.LOSS_NAMES) {
      const loss = losses.makeLoss(name, { classCounts: counts, lambda: 6 });
      const w = name === 'ldam-drw' || name === 'cb' ? null : weights;
      const fn: losses.LabelLoss = (out, y) => loss.compute(out, y, 7, 10, w);
      const yA = Int32Array.from([0, 3, 1]);
      const yB = Int32Array.from([2, 3, 0]);
      const [mixed] = await wt.losses.mixedLoss(fn, z, f, yA, yB, 0.3).data();
      const [a] = await fn({ logits: z, features: f }, yA).data();
      const [b] = await fn({ logits: z, features: f }, yB).data();
      assert.ok(Math.abs(mixed - (0.3 * a + 0.7 * b)) <= 1e-6 * (1 + Math.abs(mixed)), `${name}: ${mixed} vs ${0.3 * a + 0.7 * b}`);
      const [whole] = await wt.losses.mixedLoss(fn, z, f, yA, yB, 1).data();
      assert.equal(whole, a);
    }
    assert.throws(() => losses.mixedLoss(() => z, z, f, Int32Array.of(0), Int32Array.of(0), 1.5), /lambda must be in \[0, 1\]/);
  });

  it('gradients into logits and features match float64 central differences, for every loss, weighted and not', async () => {
    await fc.assert(
      fc.asyncProperty(batch, async ({ n, c, seed, labelsA, labelsB, counts, lambda, name, weighted }) => {
        const loss = losses.makeLoss(name, { classCounts: counts, lambda: 6 });
        const canWeight = name !== 'ldam-drw' && name !== 'cb';
        const weights = weighted && canWeight ? losses.classBalancedWeights(counts, 0.999) : null;
        const yA = Int32Array.from(labelsA);
        const yB = Int32Array.from(labelsB);
        const gc: GradCase = {
          inputs: [
            { values: randomValues(n * c, seed, -1, 1), shape: [n, c], grad: true },
            { values: randomValues(n * 3, seed + 1, 0.2, 2), shape: [n, 3], grad: loss.needsFeatures },
          ],
          fn: ([logits, features]) => losses.mixedLoss((out, y) => loss.compute(out, y, 20, 30, weights), logits, features, yA, yB, lambda),
        };
        const fwd = await forwardcheck(wasm.backend, gc, { atol: 1e-4, rtol: 1e-4 });
        assert.ok(fwd.worst <= 1, `${name}: forward differs from the float64 reference: ${fwd.where}`);
        const grad = await gradcheck(wasm.backend, gc);
        assert.ok(grad.worst <= 1, `${name}: gradient differs from finite differences: ${grad.where}`);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
