// assembly/optim.ts against its reference on random inputs and odd sizes, and
// against hand-computed steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadHarness } from './harness.js';
import { assertClose, random } from '../util/close.js';
import { sgdStepRef } from '../../src/backend/reference/kernels/optim.js';

const h = await loadHarness();
fc.configureGlobal({ includeErrorInReport: true });
const size = fc.oneof(fc.constantFrom(1, 3, 17, 63, 65), fc.integer({ min: 1, max: 300 }));

interface Settings {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/** Runs steps of the WASM kernel (same grad each step); returns [param, buf]. */
function wasmSgd(param: Float32Array, grad: Float32Array, buf: Float32Array | null, s: Settings, steps = 1): Float32Array[] {
  const n = param.length;
  const p = h.alloc(n, param),
    g = h.alloc(n, grad),
    b = buf ? h.alloc(n, buf) : 0;
  for (let i = 0; i < steps; i++) h.k.sgdStep(p, g, b, n, s.lr, s.momentum, s.weightDecay, s.nesterov ? 1 : 0);
  return [h.read(p, n), buf ? h.read(b, n) : new Float32Array(0)];
}

const settings = fc.record({
  lr: fc.constantFrom(0.1, 0.01, 1e-4),
  momentum: fc.constantFrom(0, 0.9, 0.5),
  weightDecay: fc.constantFrom(0, 2e-4, 5e-4),
  nesterov: fc.boolean(),
});

test('sgdStep matches the reference over three steps', () => {
  fc.assert(
    fc.property(size, fc.integer(), settings, (n, seed, s) => {
      const param = random(n, seed),
        grad = random(n, seed + 1),
        buf = random(n, seed + 2, -0.1, 0.1);
      const useBuf = s.momentum !== 0;
      const [p, b] = wasmSgd(param, grad, useBuf ? buf : null, s, 3);
      const f32 = { ...s, lr: Math.fround(s.lr), momentum: Math.fround(s.momentum), weightDecay: Math.fround(s.weightDecay) };
      const want = [Float64Array.from(param), Float64Array.from(buf)];
      for (let i = 0; i < 3; i++) {
        sgdStepRef(want[0], grad, useBuf ? want[1] : null, n, f32.lr, f32.momentum, f32.weightDecay, f32.nesterov);
      }
      assertClose(p, want[0], 1e-6, 1e-6, 'param');
      if (useBuf) assertClose(b, want[1], 1e-6, 1e-6, 'momentumBuf');
    }),
    { numRuns: 100 },
  );
});

test('sgdStep by hand: weight decay, momentum, nesterov', () => {
  const s = { lr: 0.5, momentum: 0.5, weightDecay: 0.25, nesterov: false };
  // p = 2, grad = 1, buf = 1: g = 1 + 0.25 * 2 = 1.5; buf = 0.5 * 1 + 1.5 = 2; p = 2 - 0.5 * 2 = 1.
  let [p, b] = wasmSgd(new Float32Array([2, 2, 2, 2, 2]), new Float32Array(5).fill(1), new Float32Array(5).fill(1), s);
  assert.deepEqual(Array.from(p), [1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(b), [2, 2, 2, 2, 2]);
  // Nesterov: step = g + momentum * buf = 1.5 + 0.5 * 2 = 2.5; p = 2 - 1.25 = 0.75.
  [p, b] = wasmSgd(new Float32Array(5).fill(2), new Float32Array(5).fill(1), new Float32Array(5).fill(1), { ...s, nesterov: true });
  assert.deepEqual(Array.from(p), [0.75, 0.75, 0.75, 0.75, 0.75]);
  assert.deepEqual(Array.from(b), [2, 2, 2, 2, 2]);
  // No momentum: p = 2 - 0.5 * 1.5 = 1.25, and no buffer is needed.
  [p] = wasmSgd(new Float32Array(5).fill(2), new Float32Array(5).fill(1), null, { ...s, momentum: 0 });
  assert.deepEqual(Array.from(p), [1.25, 1.25, 1.25, 1.25, 1.25]);
});

test('sgdStep from a zero buffer equals PyTorch first step (buf = g)', () => {
  const s = { lr: 0.1, momentum: 0.9, weightDecay: 0, nesterov: false };
  const grad = random(9, 4);
  const [p, b] = wasmSgd(new Float32Array(9), grad, new Float32Array(9), s);
  assertClose(b, grad, 0, 0, 'buf');
  assertClose(
    p,
    Array.from(grad, (g) => -Math.fround(0.1) * g),
    1e-9,
    1e-6,
    'param',
  );
});
