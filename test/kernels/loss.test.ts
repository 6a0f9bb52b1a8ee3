// assembly/loss.ts against its reference (random logits, odd sizes), known
// values, and the reference's own gradients against float64 central differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadHarness } from './harness.js';
import { assertClose, assertGradient, random } from '../util/close.js';
import { featureBalancedLossRef, softmaxCrossEntropyRef } from '../../src/backend/reference/kernels/loss.js';

const h = await loadHarness();
fc.configureGlobal({ includeErrorInReport: true });
const rows = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 128 }));
const classes = fc.oneof(fc.constantFrom(1, 2, 3, 10, 17, 100), fc.integer({ min: 1, max: 120 }));

function labelsFor(n: number, c: number, seed: number): Int32Array {
  return Int32Array.from(random(n, seed, 0, c), (v) => Math.min(c - 1, Math.floor(v)));
}

function wasmCrossEntropy(logits: Float32Array, labels: Int32Array, weights: Float32Array | null, n: number, c: number) {
  const loss = h.alloc(1),
    dl = h.alloc(n * c);
  h.k.softmaxCrossEntropy(h.alloc(n * c, logits), h.allocI32(labels), weights ? h.alloc(c, weights) : 0, n, c, loss, dl);
  return { loss: h.read(loss, 1)[0], dlogits: h.read(dl, n * c) };
}

function refCrossEntropy(logits: ArrayLike<number>, labels: Int32Array, weights: ArrayLike<number> | null, n: number, c: number) {
  const loss = new Float64Array(1),
    dlogits = new Float64Array(n * c);
  softmaxCrossEntropyRef(Float64Array.from(logits), labels, weights ? Float64Array.from(weights) : null, n, c, loss, dlogits);
  return { loss: loss[0], dlogits };
}

function wasmFeatureBalanced(
  logits: Float32Array,
  features: Float32Array,
  labels: Int32Array,
  stimulus: Float32Array,
  n: number,
  c: number,
  d: number,
) {
  const loss = h.alloc(1),
    dl = h.alloc(n * c),
    df = h.alloc(n * d);
  h.k.featureBalancedLoss(
    h.alloc(n * c, logits),
    h.alloc(n * d, features),
    h.allocI32(labels),
    h.alloc(c, stimulus),
    n,
    c,
    d,
    loss,
    dl,
    df,
  );
  return { loss: h.read(loss, 1)[0], dlogits: h.read(dl, n * c), dfeatures: h.read(df, n * d) };
}

function refFeatureBalanced(
  logits: ArrayLike<number>,
  features: ArrayLike<number>,
  labels: Int32Array,
  stimulus: ArrayLike<number>,
  n: number,
  c: number,
  d: number,
) {
  const loss = new Float64Array(1),
    dlogits = new Float64Array(n * c),
    dfeatures = new Float64Array(n * d);
  featureBalancedLossRef(
    Float64Array.from(logits),
    Float64Array.from(features),
    labels,
    Float64Array.from(stimulus),
    n,
    c,
    d,
    loss,
    dlogits,
    dfeatures,
  );
  return { loss: loss[0], dlogits, dfeatures };
}

test('softmaxCrossEntropy matches the reference (with and without class weights)', () => {
  fc.assert(
    fc.property(rows, classes, fc.integer(), fc.boolean(), (n, c, seed, weighted) => {
      const logits = random(n * c, seed, -8, 8);
      const labels = labelsFor(n, c, seed + 1);
      const weights = weighted ? random(c, seed + 2, 0.1, 3) : null;
      const got = wasmCrossEntropy(logits, labels, weights, n, c);
      const want = refCrossEntropy(logits, labels, weights, n, c);
      assertClose([got.loss], [want.loss], 1e-6, 1e-6, 'loss');
      assertClose(got.dlogits, want.dlogits, 1e-7, 1e-6, 'dlogits');
    }),
    { numRuns: 80 },
  );
});

test('softmaxCrossEntropy is stable for huge logits and may overwrite its logits', () => {
  const n = 2,
    c = 3;
  const logits = new Float32Array([1e30, 0, -1e30, 1000, 1001, 999]);
  const labels = new Int32Array([0, 2]);
  const want = refCrossEntropy(logits, labels, null, n, c);
  assert.ok(Number.isFinite(want.loss));
  const x = h.alloc(n * c, logits),
    loss = h.alloc(1);
  h.k.softmaxCrossEntropy(x, h.allocI32(labels), 0, n, c, loss, x);
  assertClose(h.read(loss, 1), [want.loss], 1e-6, 1e-6, 'loss');
  assertClose(h.read(x, n * c), want.dlogits, 1e-7, 1e-6, 'dlogits in place');
});

test('cross-entropy of uniform logits is log c; gradient (1/c - onehot)/n; equal weights change nothing', () => {
  const n = 5,
    c = 10;
  const labels = Int32Array.from([0, 3, 9, 3, 7]);
  const got = wasmCrossEntropy(new Float32Array(n * c).fill(0.25), labels, null, n, c);
  assertClose([got.loss], [Math.log(c)], 0, 1e-6, 'loss');
  const want = new Float64Array(n * c).map((_, k) => (1 / c - (labels[Math.floor(k / c)] === k % c ? 1 : 0)) / n);
  assertClose(got.dlogits, want, 1e-7, 1e-6, 'dlogits');
  const logits = random(n * c, 3);
  const weighted = wasmCrossEntropy(logits, labels, new Float32Array(c).fill(2.5), n, c);
  const plain = wasmCrossEntropy(logits, labels, null, n, c);
  assertClose([weighted.loss], [plain.loss], 0, 1e-6, 'loss');
  assertClose(weighted.dlogits, plain.dlogits, 1e-8, 1e-6, 'dlogits');
});

test('weighted cross-entropy is the weighted mean of the per-sample losses (by hand)', () => {
  // Two samples, c = 2: l_i = -log p_{i,y_i}; loss = (w0 l_0 + w1 l_1) / (w0 + w1).
  const logits = new Float32Array([2, 0, 0, 1]);
  const labels = new Int32Array([0, 1]);
  const weights = new Float32Array([3, 5]);
  const l0 = Math.log(1 + Math.exp(-2)),
    l1 = Math.log(1 + Math.exp(-1));
  const got = wasmCrossEntropy(logits, labels, weights, 2, 2);
  assertClose([got.loss], [(3 * l0 + 5 * l1) / 8], 0, 1e-6, 'loss');
  const p00 = 1 / (1 + Math.exp(-2)),
    p11 = 1 / (1 + Math.exp(-1));
  assertClose(got.dlogits, [(3 * (p00 - 1)) / 8, (3 * (1 - p00)) / 8, (5 * (1 - p11)) / 8, (5 * (p11 - 1)) / 8], 0, 1e-6, 'dlogits');
});

test('featureBalancedLoss matches the reference', () => {
  fc.assert(
    fc.property(
      rows,
      classes,
      fc.oneof(fc.constantFrom(1, 3, 17, 64, 65), fc.integer({ min: 1, max: 80 })),
      fc.integer(),
      (n, c, d, seed) => {
        const logits = random(n * c, seed, -5, 5);
        const features = random(n * d, seed + 1, 0, 2); // post-ReLU pooled features are >= 0
        if (seed % 5 === 0) features.fill(0, 0, d); // a zero feature row: zero feature gradient
        const labels = labelsFor(n, c, seed + 2);
        const stimulus = random(c, seed + 3, 0, 60);
        const got = wasmFeatureBalanced(logits, features, labels, stimulus, n, c, d);
        const want = refFeatureBalanced(logits, features, labels, stimulus, n, c, d);
        assertClose([got.loss], [want.loss], 1e-6, 1e-6, 'loss');
        assertClose(got.dlogits, want.dlogits, 1e-7, 1e-5, 'dlogits');
        assertClose(got.dfeatures, want.dfeatures, 1e-7, 1e-4, 'dfeatures');
      },
    ),
    { numRuns: 80 },
  );
});

test('featureBalancedLoss with zero stimulus is cross-entropy with zero feature gradient', () => {
  const n = 7,
    c = 10,
    d = 64;
  const logits = random(n * c, 1, -4, 4),
    labels = labelsFor(n, c, 2);
  const got = wasmFeatureBalanced(logits, random(n * d, 3, 0, 1), labels, new Float32Array(c), n, c, d);
  const ce = wasmCrossEntropy(logits, labels, null, n, c);
  assertClose([got.loss], [ce.loss], 0, 1e-6, 'loss');
  assertClose(got.dlogits, ce.dlogits, 1e-8, 1e-6, 'dlogits');
  assert.ok(got.dfeatures.every((v) => v === 0));
});

test('featureBalancedLoss by hand: one sample, c = 2', () => {
  // f = (3, 4): ||f|| = 5; v = z - s / 5 = (1 - 2, 0 - 0.5) = (-1, -0.5); y = 1.
  const got = wasmFeatureBalanced(
    new Float32Array([1, 0]),
    new Float32Array([3, 4]),
    new Int32Array([1]),
    new Float32Array([10, 2.5]),
    1,
    2,
    2,
  );
  const p1 = 1 / (1 + Math.exp(-0.5));
  assertClose([got.loss], [-Math.log(p1)], 0, 1e-6, 'loss');
  const dl = [1 - p1, p1 - 1];
  assertClose(got.dlogits, dl, 0, 1e-6, 'dlogits');
  const g = dl[0] * 10 + dl[1] * 2.5;
  assertClose(got.dfeatures, [(g * 3) / 125, (g * 4) / 125], 0, 1e-5, 'dfeatures');
});

// --- the references' own gradients, float64 central differences --------------

test('reference cross-entropy gradient matches finite differences (weighted and not)', () => {
  const n = 4,
    c = 5;
  const logits = Float64Array.from(random(n * c, 21, -3, 3));
  const labels = labelsFor(n, c, 22);
  for (const weights of [null, Float64Array.from(random(c, 23, 0.2, 2))]) {
    const lossAt = (z: Float64Array) => refCrossEntropy(z, labels, weights, n, c).loss;
    assertGradient(lossAt, logits, refCrossEntropy(logits, labels, weights, n, c).dlogits, 'dlogits', 1e-7);
  }
});

test('reference feature-balanced gradients match finite differences', () => {
  const n = 3,
    c = 4,
    d = 6;
  const logits = Float64Array.from(random(n * c, 31, -3, 3));
  const features = Float64Array.from(random(n * d, 32, -1, 2));
  const labels = labelsFor(n, c, 33);
  const stimulus = Float64Array.from(random(c, 34, 0, 5));
  const at = refFeatureBalanced(logits, features, labels, stimulus, n, c, d);
  assertGradient((z) => refFeatureBalanced(z, features, labels, stimulus, n, c, d).loss, logits, at.dlogits, 'dlogits', 1e-7);
  assertGradient((f) => refFeatureBalanced(logits, f, labels, stimulus, n, c, d).loss, features, at.dfeatures, 'dfeatures', 1e-7);
});
