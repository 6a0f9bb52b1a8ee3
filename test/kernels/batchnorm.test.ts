// assembly/batchnorm.ts against its reference (random inputs, odd sizes, a
// ResNet-32-sized tensor), and the reference's own gradients against float64
// central differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadHarness } from './harness.js';
import { assertClose, assertGradient, random } from '../util/close.js';
import { batchNormBackwardRef, batchNormForwardEvalRef, batchNormForwardTrainRef } from '../../src/backend/reference/kernels/batchnorm.js';

const h = await loadHarness();
fc.configureGlobal({ includeErrorInReport: true });
const small = fc.oneof(fc.constantFrom(1, 3, 17), fc.integer({ min: 1, max: 8 }));
const planeSize = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 200 }));

interface Case {
  n: number;
  c: number;
  hw: number;
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  rm: Float32Array;
  rv: Float32Array;
  dy: Float32Array;
}

function makeCase(n: number, c: number, hw: number, seed: number, offset = 2): Case {
  const x = random(n * c * hw, seed, offset - 1.5, offset + 1.5);
  return {
    n,
    c,
    hw,
    x,
    gamma: random(c, seed + 1, 0.5, 1.5),
    beta: random(c, seed + 2, -1, 1),
    rm: random(c, seed + 3, -0.5, 0.5),
    rv: random(c, seed + 4, 0.5, 2),
    dy: random(n * c * hw, seed + 5),
  };
}

/** Runs the WASM training forward; returns [y, rm, rv, saveMean, saveInvStd]. */
function wasmForwardTrain(t: Case, momentum: number, eps: number): Float32Array[] {
  const size = t.n * t.c * t.hw;
  const x = h.alloc(size, t.x),
    y = h.alloc(size);
  const g = h.alloc(t.c, t.gamma),
    b = h.alloc(t.c, t.beta);
  const rm = h.alloc(t.c, t.rm),
    rv = h.alloc(t.c, t.rv);
  const sm = h.alloc(t.c),
    si = h.alloc(t.c);
  h.k.batchNormForwardTrain(x, g, b, y, rm, rv, sm, si, t.n, t.c, t.hw, momentum, eps);
  return [h.read(y, size), h.read(rm, t.c), h.read(rv, t.c), h.read(sm, t.c), h.read(si, t.c)];
}

function refForwardTrain(t: Case, momentum: number, eps: number): Float64Array[] {
  const size = t.n * t.c * t.hw;
  const out = [new Float64Array(size), Float64Array.from(t.rm), Float64Array.from(t.rv), new Float64Array(t.c), new Float64Array(t.c)];
  batchNormForwardTrainRef(
    Float64Array.from(t.x),
    Float64Array.from(t.gamma),
    Float64Array.from(t.beta),
    out[0],
    out[1],
    out[2],
    out[3],
    out[4],
    t.n,
    t.c,
    t.hw,
    momentum,
    Math.fround(eps),
  );
  return out;
}

const names = ['y', 'runningMean', 'runningVar', 'saveMean', 'saveInvStd'];

test('batchNormForwardTrain matches the reference', () => {
  fc.assert(
    fc.property(small, small, planeSize, fc.integer(), (n, c, hw, seed) => {
      if (n * hw < 2) return; // a single value per channel: covered below
      const t = makeCase(n, c, hw, seed);
      const got = wasmForwardTrain(t, 0.1, 1e-5);
      const want = refForwardTrain(t, Math.fround(0.1), 1e-5);
      for (let i = 0; i < names.length; i++) assertClose(got[i], want[i], 2e-5, 2e-5, names[i]);
    }),
    { numRuns: 60 },
  );
});

test('batchNormForwardTrain with one value per channel: y = beta, running var from the biased var 0', () => {
  const t = makeCase(1, 3, 1, 9);
  const [y, , rv, sm, si] = wasmForwardTrain(t, 0.5, 1e-5);
  assertClose(y, t.beta, 1e-6, 0, 'y');
  assertClose(sm, t.x, 0, 0, 'saveMean');
  assertClose(si, [1 / Math.sqrt(1e-5), 1 / Math.sqrt(1e-5), 1 / Math.sqrt(1e-5)], 0, 1e-5, 'saveInvStd');
  assertClose(
    rv,
    Array.from(t.rv, (v) => 0.5 * v),
    0,
    1e-6,
    'runningVar',
  );
});

test('batchNormForwardTrain normalises each channel to mean 0, variance 1; running stats by hand', () => {
  const n = 4,
    c = 3,
    hw = 25;
  const t = makeCase(n, c, hw, 42, 10);
  t.gamma.fill(1);
  t.beta.fill(0);
  t.rm.fill(0);
  t.rv.fill(1);
  const [y, rm, rv] = wasmForwardTrain(t, 0.1, 1e-5);
  for (let ch = 0; ch < c; ch++) {
    let s = 0,
      ss = 0,
      sx = 0,
      sxx = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < hw; k++) {
        const j = (i * c + ch) * hw + k;
        s += y[j];
        ss += y[j] ** 2;
        sx += t.x[j];
      }
    }
    const N = n * hw;
    const mean = sx / N;
    for (let i = 0; i < n; i++) for (let k = 0; k < hw; k++) sxx += (t.x[(i * c + ch) * hw + k] - mean) ** 2;
    const varBiased = sxx / N;
    assert.ok(Math.abs(s / N) < 1e-5, `channel ${ch} mean ${s / N}`);
    assert.ok(Math.abs(ss / N - varBiased / (varBiased + 1e-5)) < 1e-5, `channel ${ch} var ${ss / N}`);
    assertClose([rm[ch]], [0.1 * mean], 0, 1e-6, 'runningMean');
    assertClose([rv[ch]], [0.9 + (0.1 * sxx) / (N - 1)], 0, 1e-6, 'runningVar');
  }
});

test('batchNormForwardEval matches the reference', () => {
  fc.assert(
    fc.property(small, small, planeSize, fc.integer(), (n, c, hw, seed) => {
      const t = makeCase(n, c, hw, seed, 0);
      const size = n * c * hw;
      const x = h.alloc(size, t.x),
        y = h.alloc(size);
      h.k.batchNormForwardEval(x, h.alloc(c, t.gamma), h.alloc(c, t.beta), y, h.alloc(c, t.rm), h.alloc(c, t.rv), n, c, hw, 1e-5);
      const want = new Float64Array(size);
      batchNormForwardEvalRef(t.x, t.gamma, t.beta, want, t.rm, t.rv, n, c, hw, Math.fround(1e-5));
      assertClose(h.read(y, size), want, 1e-5, 1e-5, 'y');
    }),
    { numRuns: 50 },
  );
});

function checkBackward(t: Case, training: boolean, atol: number): void {
  const { n, c, hw } = t;
  const size = n * c * hw;
  // Statistics as the forward would save them (training) or running ones (eval).
  const mean = training ? refForwardTrain(t, 0.1, 1e-5)[3] : Float64Array.from(t.rm);
  const invStd = training ? refForwardTrain(t, 0.1, 1e-5)[4] : Float64Array.from(t.rv, (v) => 1 / Math.sqrt(v + 1e-5));
  const mean32 = Float32Array.from(mean),
    invStd32 = Float32Array.from(invStd);
  const dx = h.alloc(size),
    dg = h.alloc(c),
    db = h.alloc(c);
  h.k.batchNormBackward(
    h.alloc(size, t.x),
    h.alloc(size, t.dy),
    h.alloc(c, t.gamma),
    h.alloc(c, mean32),
    h.alloc(c, invStd32),
    dx,
    dg,
    db,
    n,
    c,
    hw,
    training ? 1 : 0,
  );
  const want = [new Float64Array(size), new Float64Array(c), new Float64Array(c)];
  batchNormBackwardRef(t.x, t.dy, t.gamma, mean32, invStd32, want[0], want[1], want[2], n, c, hw, training);
  const N = n * hw;
  assertClose(h.read(dx, size), want[0], atol, 1e-4, 'dx');
  assertClose(h.read(dg, c), want[1], atol * N, 1e-4, 'dgamma');
  assertClose(h.read(db, c), want[2], atol * N, 1e-4, 'dbeta');
}

test('batchNormBackward matches the reference (training and eval)', () => {
  fc.assert(
    fc.property(small, small, planeSize, fc.integer(), fc.boolean(), (n, c, hw, seed, training) => {
      if (training && n * hw < 2) return;
      checkBackward(makeCase(n, c, hw, seed), training, 2e-5);
    }),
    { numRuns: 60 },
  );
});

test('ResNet-32 first-stage size (64x16x32x32): accurate statistics over 65,536 values a channel', () => {
  const t = makeCase(64, 16, 1024, 7, 5);
  const got = wasmForwardTrain(t, 0.1, 1e-5);
  const want = refForwardTrain(t, Math.fround(0.1), 1e-5);
  assertClose(got[3], want[3], 0, 1e-6, 'saveMean');
  assertClose(got[4], want[4], 0, 1e-5, 'saveInvStd');
  assertClose(got[2], want[2], 0, 1e-5, 'runningVar');
  assertClose(got[0], want[0], 2e-5, 1e-5, 'y');
  checkBackward(t, true, 1e-5);
});

// --- the reference's own gradients, float64 central differences -------------

/** L = sum(y * r): its gradient with respect to y is r, the dy fed to the backward. */
function lossOf(y: Float64Array, r: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * r[i];
  return s;
}

for (const training of [true, false]) {
  test(`reference batch-norm gradients match finite differences (${training ? 'training' : 'eval'})`, () => {
    const n = 3,
      c = 2,
      hw = 5,
      size = n * c * hw;
    const t = makeCase(n, c, hw, training ? 11 : 12, 1);
    const x = Float64Array.from(t.x),
      gamma = Float64Array.from(t.gamma),
      beta = Float64Array.from(t.beta);
    const rm = Float64Array.from(t.rm),
      rv = Float64Array.from(t.rv),
      r = Float64Array.from(t.dy);
    const eps = 1e-5;
    const forward = (xv: Float64Array, g: Float64Array, b: Float64Array): number => {
      const y = new Float64Array(size);
      if (training) {
        batchNormForwardTrainRef(xv, g, b, y, rm.slice(), rv.slice(), new Float64Array(c), new Float64Array(c), n, c, hw, 0.1, eps);
      } else {
        batchNormForwardEvalRef(xv, g, b, y, rm, rv, n, c, hw, eps);
      }
      return lossOf(y, r);
    };
    const mean = new Float64Array(c),
      invStd = new Float64Array(c);
    if (training) {
      batchNormForwardTrainRef(x, gamma, beta, new Float64Array(size), rm.slice(), rv.slice(), mean, invStd, n, c, hw, 0.1, eps);
    } else {
      mean.set(rm);
      for (let ch = 0; ch < c; ch++) invStd[ch] = 1 / Math.sqrt(rv[ch] + eps);
    }
    const dx = new Float64Array(size),
      dgamma = new Float64Array(c),
      dbeta = new Float64Array(c);
    batchNormBackwardRef(x, r, gamma, mean, invStd, dx, dgamma, dbeta, n, c, hw, training);
    assertGradient((v) => forward(v, gamma, beta), x, dx, 'dx', 1e-6);
    assertGradient((v) => forward(x, v, beta), gamma, dgamma, 'dgamma', 1e-6);
    assertGradient((v) => forward(x, gamma, v), beta, dbeta, 'dbeta', 1e-6);
  });
}
