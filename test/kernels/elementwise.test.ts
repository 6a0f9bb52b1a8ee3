// assembly/elementwise.ts against its reference, on random inputs and odd sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadHarness } from './harness.js';
import { assertClose, random } from '../util/close.js';
import {
  BINARY_OPS,
  UNARY_OPS,
  axpbyRef,
  binaryRef,
  copyRef,
  fillRef,
  reluBackwardRef,
  unaryRef,
} from '../../src/backend/reference/kernels/elementwise.js';

const h = await loadHarness();
fc.configureGlobal({ includeErrorInReport: true });
const size = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 300 }));

test('fill and copy match the reference', () => {
  fc.assert(
    fc.property(size, fc.integer(), fc.float({ noNaN: true }), (n, seed, value) => {
      const y = h.alloc(n, random(n, seed));
      h.k.fill(y, value, n);
      const want = new Float32Array(n);
      fillRef(want, value, n);
      assertClose(h.read(y, n), want, 0, 0, 'fill');
      const x = h.alloc(n, random(n, seed + 1));
      h.k.copy(x, y, n);
      copyRef(random(n, seed + 1), want, n);
      assertClose(h.read(y, n), want, 0, 0, 'copy');
    }),
    { numRuns: 50 },
  );
});

test('fill does not write past n', () => {
  const y = h.alloc(8, new Float32Array(8).fill(7));
  h.k.fill(y, 1, 5);
  assert.deepEqual(Array.from(h.read(y, 8)), [1, 1, 1, 1, 1, 7, 7, 7]);
});

test('unary ops match the reference', () => {
  fc.assert(
    fc.property(fc.constantFrom(...UNARY_OPS), size, fc.integer(), (op, n, seed) => {
      const lo = op === 'log' || op === 'sqrt' ? 1e-3 : op === 'exp' ? -20 : -5;
      const xs = random(n, seed, lo, op === 'exp' ? 20 : 5);
      const x = h.alloc(n, xs);
      const y = h.alloc(n);
      h.k.unary(UNARY_OPS.indexOf(op), x, y, n);
      const want = new Float32Array(n);
      unaryRef(op, xs, want, n);
      assertClose(h.read(y, n), want, 0, 2e-7, op);
    }),
    { numRuns: 120 },
  );
});

test('unary edge values: NaN, infinities, signed zero, out-of-domain inputs', () => {
  const xs = new Float32Array([NaN, Infinity, -Infinity, 0, -0, -1, 1e-38, 88.8, -104, 3]);
  const n = xs.length;
  const x = h.alloc(n, xs);
  for (const op of UNARY_OPS) {
    const y = h.alloc(n);
    h.k.unary(UNARY_OPS.indexOf(op), x, y, n);
    const want = new Float32Array(n);
    unaryRef(op, xs, want, n);
    assertClose(h.read(y, n), want, 0, 2e-7, op);
  }
});

test('unary works in place', () => {
  const xs = random(37, 5);
  const x = h.alloc(37, xs);
  h.k.unary(UNARY_OPS.indexOf('relu'), x, x, 37);
  const want = new Float32Array(37);
  unaryRef('relu', xs, want, 37);
  assertClose(h.read(x, 37), want, 0, 0, 'relu in place');
});

test('binary ops match the reference', () => {
  fc.assert(
    fc.property(fc.constantFrom(...BINARY_OPS), size, fc.integer(), (op, n, seed) => {
      const as = random(n, seed);
      const bs = random(n, seed ^ 0x5555);
      const a = h.alloc(n, as);
      const b = h.alloc(n, bs);
      const y = h.alloc(n);
      h.k.binary(BINARY_OPS.indexOf(op), a, b, y, n);
      const want = new Float32Array(n);
      binaryRef(op, as, bs, want, n);
      // Each op is one correctly rounded IEEE operation on both sides: exact.
      assertClose(h.read(y, n), want, 0, 0, op);
    }),
    { numRuns: 100 },
  );
});

test('axpby matches the reference; beta = 0 ignores NaN in y', () => {
  fc.assert(
    fc.property(
      size,
      fc.integer(),
      fc.float({ min: -2, max: 2, noNaN: true }),
      fc.constantFrom(0, 1, -0.5, 0.9),
      (n, seed, alpha, beta) => {
        const xs = random(n, seed);
        const ys = random(n, seed + 7);
        if (beta === 0) ys.fill(NaN);
        const x = h.alloc(n, xs);
        const y = h.alloc(n, ys);
        h.k.axpby(alpha, x, beta, y, n);
        const want = ys.slice();
        axpbyRef(Math.fround(alpha), xs, beta, want, n);
        assertClose(h.read(y, n), want, 1e-6, 1e-6, 'axpby');
      },
    ),
    { numRuns: 100 },
  );
});

test('reluBackward matches the reference', () => {
  fc.assert(
    fc.property(size, fc.integer(), (n, seed) => {
      const xs = random(n, seed);
      xs[0] = 0; // the boundary: x = 0 passes no gradient
      const dys = random(n, seed + 3);
      const x = h.alloc(n, xs);
      const dy = h.alloc(n, dys);
      const dx = h.alloc(n);
      h.k.reluBackward(x, dy, dx, n);
      const want = new Float32Array(n);
      reluBackwardRef(xs, dys, want, n);
      assertClose(h.read(dx, n), want, 0, 0, 'reluBackward');
    }),
    { numRuns: 60 },
  );
});

test('an unknown op code traps', () => {
  const x = h.alloc(4);
  assert.throws(() => h.k.unary(99, x, x, 4));
  assert.throws(() => h.k.binary(-1, x, x, x, 4));
});
