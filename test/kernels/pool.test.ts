// assembly/pool.ts against its reference, on random inputs and odd sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadHarness } from './harness.js';
import { assertClose, random } from '../util/close.js';
import { globalAvgPoolBackwardRef, globalAvgPoolForwardRef } from '../../src/backend/reference/kernels/pool.js';

const h = await loadHarness();
fc.configureGlobal({ includeErrorInReport: true });
const size = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 300 }));

test('globalAvgPoolForward matches the reference', () => {
  fc.assert(
    fc.property(size, size, fc.integer(), (nc, hw, seed) => {
      const xs = random(nc * hw, seed);
      const x = h.alloc(nc * hw, xs);
      const y = h.alloc(nc);
      h.k.globalAvgPoolForward(x, y, nc, hw);
      const want = new Float32Array(nc);
      globalAvgPoolForwardRef(xs, want, nc, hw);
      assertClose(h.read(y, nc), want, 1e-6, 1e-6, 'globalAvgPoolForward');
    }),
    { numRuns: 60 },
  );
});

test('globalAvgPoolBackward matches the reference', () => {
  fc.assert(
    fc.property(size, size, fc.integer(), (nc, hw, seed) => {
      const dys = random(nc, seed);
      const dy = h.alloc(nc, dys);
      const dx = h.alloc(nc * hw);
      h.k.globalAvgPoolBackward(dy, dx, nc, hw);
      const want = new Float32Array(nc * hw);
      globalAvgPoolBackwardRef(dys, want, nc, hw);
      assertClose(h.read(dx, nc * hw), want, 0, 0, 'globalAvgPoolBackward');
    }),
    { numRuns: 60 },
  );
});

test('global average pooling of known planes (ResNet-32 head: 8x8 planes)', () => {
  const hw = 64;
  const xs = new Float32Array(2 * hw);
  for (let k = 0; k < hw; k++) {
    xs[k] = k;
    xs[hw + k] = -2;
  }
  const x = h.alloc(2 * hw, xs);
  const y = h.alloc(2);
  h.k.globalAvgPoolForward(x, y, 2, hw);
  assert.deepEqual(Array.from(h.read(y, 2)), [31.5, -2]);
  const dx = h.alloc(2 * hw);
  h.k.globalAvgPoolBackward(h.alloc(2, [64, -32]), dx, 2, hw);
  const got = h.read(dx, 2 * hw);
  assert.ok(got.subarray(0, hw).every((v) => v === 1) && got.subarray(hw).every((v) => v === -0.5));
});
