// assembly/batchnorm.ts's fused training kernels (batch norm + residual +
// ReLU forward; its backward with the ReLU mask inside batch norm's passes)
// against the plain-TS references on random inputs with odd sizes, and bit
// for bit against the separate kernels they replace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadHarness } from './harness.js';
import { assertClose, random } from '../util/close.js';
import { batchNormActBackwardRef, batchNormActForwardTrainRef } from '../../src/backend/reference/kernels/batchnorm.js';

const h = await loadHarness();
const small = fc.oneof(fc.constantFrom(1, 3, 17), fc.integer({ min: 1, max: 6 }));
const planeSize = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 150 }));
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(0)));

interface Run {
  y: Float32Array;
  rm: Float32Array;
  rv: Float32Array;
  mean: Float32Array;
  invStd: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
  dres: Float32Array | null;
}

/** The fused forward then backward (fused = true), or the separate kernels in the same order. */
function run(n: number, c: number, hw: number, seed: number, withResidual: boolean, relu: boolean, fused: boolean): Run {
  const size = n * c * hw;
  const x = h.alloc(size, random(size, seed, -1, 3)),
    g = h.alloc(c, random(c, seed + 1, 0.5, 1.5)),
    b = h.alloc(c, random(c, seed + 2));
  const rm = h.alloc(c, random(c, seed + 3)),
    rv = h.alloc(c, random(c, seed + 4, 0.5, 2));
  const res = withResidual ? h.alloc(size, random(size, seed + 5)) : 0;
  const dy = h.alloc(size, random(size, seed + 6));
  const y = h.alloc(size, new Float32Array(size).fill(NaN)),
    mean = h.alloc(c),
    invStd = h.alloc(c);
  const dx = h.alloc(size, new Float32Array(size).fill(NaN)),
    dgamma = h.alloc(c),
    dbeta = h.alloc(c);
  const dres = withResidual ? h.alloc(size, new Float32Array(size).fill(NaN)) : 0;
  if (fused) {
    h.k.batchNormActForwardTrainChannels(x, g, b, y, rm, rv, mean, invStd, n, c, hw, 0.1, 1e-5, res, relu ? 1 : 0, 0, c);
    h.k.batchNormActBackwardChannels(x, y, dy, g, mean, invStd, dx, dgamma, dbeta, dres, n, c, hw, relu ? 1 : 0, 0, c);
  } else {
    h.k.batchNormForwardTrain(x, g, b, y, rm, rv, mean, invStd, n, c, hw, 0.1, 1e-5);
    if (res) h.k.binary(0, y, res, y, size);
    const pre = h.alloc(size, h.read(y, size));
    if (relu) h.k.unary(0, y, y, size);
    const gy = h.alloc(size);
    if (relu) h.k.reluBackward(pre, dy, gy, size);
    else h.k.copy(dy, gy, size);
    if (res) h.k.copy(gy, dres, size);
    h.k.batchNormBackward(x, gy, g, mean, invStd, dx, dgamma, dbeta, n, c, hw, 1);
  }
  return {
    y: h.read(y, size),
    rm: h.read(rm, c),
    rv: h.read(rv, c),
    mean: h.read(mean, c),
    invStd: h.read(invStd, c),
    dx: h.read(dx, size),
    dgamma: h.read(dgamma, c),
    dbeta: h.read(dbeta, c),
    dres: withResidual ? h.read(dres, size) : null,
  };
}

test('fused batch norm + residual + ReLU (training forward and backward) matches the reference', () => {
  fc.assert(
    fc.property(small, small, planeSize, fc.integer(), fc.boolean(), fc.boolean(), (n, c, hw, seed, withResidual, relu) => {
      if (n * hw < 2) return;
      const got = run(n, c, hw, seed, withResidual, relu, true);
      const size = n * c * hw;
      const f64 = (a: Float32Array) => Float64Array.from(a);
      const x = f64(random(size, seed, -1, 3)),
        g = f64(random(c, seed + 1, 0.5, 1.5)),
        b = f64(random(c, seed + 2));
      const rm = f64(random(c, seed + 3)),
        rv = f64(random(c, seed + 4, 0.5, 2));
      const res = withResidual ? f64(random(size, seed + 5)) : null;
      const y = new Float64Array(size),
        mean = new Float64Array(c),
        invStd = new Float64Array(c);
      batchNormActForwardTrainRef(x, g, b, y, rm, rv, mean, invStd, n, c, hw, Math.fround(0.1), Math.fround(1e-5), res, relu);
      assertClose(got.y, y, 2e-5, 2e-5, 'y');
      assertClose(got.rm, rm, 2e-5, 2e-5, 'running mean');
      assertClose(got.rv, rv, 2e-5, 2e-5, 'running var');
      // The backward from the kernel's own y, mean and invStd, so that a ReLU gate flipped by
      // rounding (an output within 1e-7 of 0) cannot make the reference disagree.
      const dx = new Float64Array(size),
        dgamma = new Float64Array(c),
        dbeta = new Float64Array(c);
      const dres = withResidual ? new Float64Array(size) : null;
      batchNormActBackwardRef(
        x,
        f64(got.y),
        f64(random(size, seed + 6)),
        g,
        f64(got.mean),
        f64(got.invStd),
        dx,
        dgamma,
        dbeta,
        dres,
        n,
        c,
        hw,
        relu,
      );
      assertClose(got.dx, dx, 1e-4, 1e-4, 'dx');
      assertClose(got.dgamma, dgamma, 1e-4, 1e-4, 'dgamma');
      assertClose(got.dbeta, dbeta, 1e-4, 1e-4, 'dbeta');
      if (dres) assertClose(got.dres!, dres, 0, 0, 'dres');
    }),
    { numRuns: 60 },
  );
});

test('the fused kernels are bit-identical to batch norm, add, ReLU and their backwards run separately', () => {
  fc.assert(
    fc.property(small, small, planeSize, fc.integer(), fc.boolean(), fc.boolean(), (n, c, hw, seed, withResidual, relu) => {
      if (n * hw < 2) return;
      const fused = run(n, c, hw, seed, withResidual, relu, true);
      const separate = run(n, c, hw, seed, withResidual, relu, false);
      for (const k of Object.keys(fused) as (keyof Run)[]) {
        if (fused[k]) assert.deepEqual(bits(fused[k]!), bits(separate[k]!), k);
      }
    }),
    { numRuns: 40 },
  );
});
