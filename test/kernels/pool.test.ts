// assembly/pool.ts against its reference, on random inputs and odd sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadHarness } from './harness.js';
import { globalAvgPoolBackwardRef, globalAvgPoolForwardRef } from '../../src/backend/reference/kernels/pool.js';

const h = await loadHarness();
fc.configureGlobal({ includeErrorInReport: true });
const size = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 300 }));

function random(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 2 ** 32);
  }
  return out;
}

/** |a - b| <= atol + rtol |b| elementwise; NaN matches NaN, infinities must be equal. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    if (a === b) continue;
    assert.ok(Math.abs(a - b) <= atol + rtol * Math.abs(b), `${what}[${i}]: got ${a}, want ${b}`);
  }
}
test('globalAvgPoolForward matches the reference', () => {
  fc.assert(fc.property(size, size, fc.integer(), (nc, hw, seed) => {
    const xs = random(nc * hw, seed);
    const x = h.alloc(nc * hw, xs);
    const y = h.alloc(nc);
    h.k.globalAvgPoolForward(x, y, nc, hw);
    const want = new Float32Array(nc);
    globalAvgPoolForwardRef(xs, want, nc, hw);
    assertClose(h.read(y, nc), want, 1e-6, 1e-6, 'globalAvgPoolForward');
  }), { numRuns: 60 });
});

test('globalAvgPoolBackward matches the reference', () => {
  fc.assert(fc.property(size, size, fc.integer(), (nc, hw, seed) => {
    const dys = random(nc, seed);
    const dy = h.alloc(nc, dys);
    const dx = h.alloc(nc * hw);
    h.k.globalAvgPoolBackward(dy, dx, nc, hw);
    const want = new Float32Array(nc * hw);
    globalAvgPoolBackwardRef(dys, want, nc, hw);
    assertClose(h.read(dx, nc * hw), want, 0, 0, 'globalAvgPoolBackward');
  }), { numRuns: 60 });
});

test('global average pooling of known planes (ResNet-32 head: 8x8 planes)', () => {
  const hw = 64;
  const xs = new Float32Array(2 * hw);
  for (let k = 0; k < hw; k++) { xs[k] = k; xs[hw + k] = -2; }
  const x = h.alloc(2 * hw, xs);
  const y = h.alloc(2);
  h.k.globalAvgPoolForward(x, y, 2, hw);
  assert.deepEqual(Array.from(h.read(y, 2)), [31.5, -2]);
  const dx = h.alloc(2 * hw);
  h.k.globalAvgPoolBackward(h.alloc(2, [64, -32]), dx, 2, hw);
  const got = h.read(dx, 2 * hw);
  assert.ok(got.subarray(0, hw).every((v) => v === 1) && got.subarray(hw).every((v) => v === -0.5));
});
