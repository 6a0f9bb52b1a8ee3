// assembly/reduce.ts against its reference, on random inputs and odd sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadHarness } from './harness.js';
import { assertClose, random } from '../util/close.js';
import { reduceAxisRef } from '../../src/backend/reference/kernels/reduce.js';

const SUM = 0;

const h = await loadHarness();
fc.configureGlobal({ includeErrorInReport: true });
const size = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 300 }));

function sumAbs(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
  return s;
}

test('reduceAxis sum over a whole array matches the reference, error relative to sum |x|', () => {
  fc.assert(
    fc.property(fc.oneof(size, fc.integer({ min: 1000, max: 20000 })), fc.integer(), (n, seed) => {
      const xs = random(n, seed);
      const x = h.alloc(n, xs);
      const y = h.alloc(1);
      h.k.reduceAxis(SUM, x, y, 1, n, 1);
      const want = new Float64Array(1);
      reduceAxisRef('sum', xs, want, 1, n, 1);
      assertClose(h.read(y, 1), [want[0]], 1e-6 * sumAbs(xs), 0, 'sum');
    }),
    { numRuns: 80 },
  );
});

test('reduceAxis sum stays accurate over long inputs (blockwise f64 flush)', () => {
  const n = 1 << 20;
  const x = h.alloc(n, new Float32Array(n).fill(0.1));
  const y = h.alloc(1);
  h.k.reduceAxis(SUM, x, y, 1, n, 1);
  // A plain f32 running sum of 2^20 copies of 0.1 is off by ~1 %.
  assertClose(h.read(y, 1), [n * Math.fround(0.1)], 0, 1e-6, 'sum of 0.1s');
  h.k.reduceAxis(SUM, x, y, 1, 0, 1);
  assert.equal(h.read(y, 1)[0], 0);
});

test('reduceAxis sum over rows (inner > 1) matches the reference', () => {
  const rowsArb = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 2100 }));
  fc.assert(
    fc.property(rowsArb, size, fc.integer(), (rows, cols, seed) => {
      const xs = random(rows * cols, seed);
      const x = h.alloc(rows * cols, xs);
      const y = h.alloc(cols);
      h.k.reduceAxis(SUM, x, y, 1, rows, cols);
      const want = new Float32Array(cols);
      reduceAxisRef('sum', xs, want, 1, rows, cols);
      assertClose(h.read(y, cols), want, 3e-6 * rows, 1e-6, 'sumRows');
    }),
    { numRuns: 60 },
  );
});

test('reduceAxis sum of a known matrix', () => {
  const x = h.alloc(6, [1, 2, 3, 4, 5, 6]);
  const y = h.alloc(3);
  h.k.reduceAxis(SUM, x, y, 1, 2, 3);
  assert.deepEqual(Array.from(h.read(y, 3)), [5, 7, 9]);
});
