// assembly/conv.ts against the direct-loop references in float64: random
// geometries (kernels 1/3/5, strides 1/2, pads 0-2, odd sizes) and ResNet
// shapes, on the plain and the relaxed-SIMD (fused multiply-add) builds.
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { kernelBuilds, loadHarness, type Harness } from './harness.js';
import { assertWithin, mulberry32, randomFrom } from '../util/close.js';
import { convGeometry, type ConvGeometry } from '../../src/backend/backend.js';
import {
  col2imRef,
  conv2dBackwardFilterRef,
  conv2dBackwardInputRef,
  conv2dForwardRef,
  im2colRef,
} from '../../src/backend/reference/kernels/conv.js';

let h: Harness;

/** |got - want| <= atol + rtol * |want|, atol growing with the length of the sums. */
function assertClose(what: string, got: Float32Array, want: Float64Array, sumLength: number): void {
  assertWithin(got, want, 1e-5 + 2e-6 * sumLength, 1e-4, (i) => `${what}: [${i}]`);
}

const dims = (g: ConvGeometry) => [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow] as const;

/** All three conv kernels, plus im2col/col2im on the first image, against the references. */
function checkConv(g: ConvGeometry, seed: number): void {
  const rng = mulberry32(seed);
  const xLen = g.n * g.c * g.h * g.w,
    wLen = g.oc * g.c * g.kh * g.kw,
    yLen = g.n * g.oc * g.oh * g.ow;
  const x = randomFrom(xLen, rng),
    w = randomFrom(wLen, rng),
    dy = randomFrom(yLen, rng);
  const px = h.alloc(xLen, x),
    pw = h.alloc(wLen, w),
    pdy = h.alloc(yLen, dy);
  const work = h.allocBytes(h.k.conv2dWorkspaceBytes(...dims(g)));
  const x64 = Float64Array.from(x),
    w64 = Float64Array.from(w),
    dy64 = Float64Array.from(dy);
  const K = g.c * g.kh * g.kw,
    P = g.oh * g.ow;
  const label = JSON.stringify(g);

  // Outputs start as NaN: every kernel must overwrite them.
  const py = h.alloc(yLen, new Float32Array(yLen).fill(NaN));
  h.k.conv2dForward(px, pw, py, ...dims(g), work);
  const y = new Float64Array(yLen);
  conv2dForwardRef(x64, w64, y, g);
  assertClose(`forward ${label}`, h.read(py, yLen), y, K);

  const pdx = h.alloc(xLen, new Float32Array(xLen).fill(NaN));
  h.k.conv2dBackwardInput(pdy, pw, pdx, ...dims(g), work);
  const dx = new Float64Array(xLen);
  conv2dBackwardInputRef(dy64, w64, dx, g);
  assertClose(`backward input ${label}`, h.read(pdx, xLen), dx, g.oc * g.kh * g.kw);

  const pdw = h.alloc(wLen, new Float32Array(wLen).fill(NaN));
  h.k.conv2dBackwardFilter(px, pdy, pdw, ...dims(g), work);
  const dw = new Float64Array(wLen);
  conv2dBackwardFilterRef(x64, dy64, dw, g);
  assertClose(`backward filter ${label}`, h.read(pdw, wLen), dw, g.n * P);

  const args = [g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow] as const;
  const pcol = h.alloc(K * P, new Float32Array(K * P).fill(NaN));
  h.k.im2col(px, ...args, pcol);
  const col = new Float64Array(K * P);
  im2colRef(x64, col, g);
  assertClose(`im2col ${label}`, h.read(pcol, K * P), col, 0);

  const dcol = randomFrom(K * P, rng);
  const pimg = h.alloc(g.c * g.h * g.w);
  h.k.col2im(h.alloc(K * P, dcol), ...args, pimg);
  const img = new Float64Array(g.c * g.h * g.w);
  col2imRef(Float64Array.from(dcol), img, g);
  assertClose(`col2im ${label}`, h.read(pimg, img.length), img, g.kh * g.kw);
}

const geometry = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 7 }),
    oc: fc.integer({ min: 1, max: 7 }),
    kh: fc.constantFrom(1, 3, 5),
    kw: fc.constantFrom(1, 3, 5),
    stride: fc.constantFrom(1, 2),
    pad: fc.constantFrom(0, 1, 2),
    h: fc.integer({ min: 1, max: 13 }),
    w: fc.integer({ min: 1, max: 19 }),
  })
  .filter((r) => r.h + 2 * r.pad >= r.kh && r.w + 2 * r.pad >= r.kw)
  .map((r) => convGeometry([r.n, r.c, r.h, r.w], [r.oc, r.c, r.kh, r.kw], r.stride, r.pad));

for (const build of await kernelBuilds())
  describe(`conv2d kernels (${build})`, () => {
    before(async () => {
      h = await loadHarness(build);
    });

    it('match the references on random geometries', () => {
      fc.assert(fc.property(geometry, fc.integer(), checkConv), { numRuns: 120 });
    });

    it('match the references on ResNet-like shapes', () => {
      checkConv(convGeometry([2, 16, 32, 32], [16, 16, 3, 3], 1, 1), 1);
      checkConv(convGeometry([2, 16, 32, 32], [32, 16, 3, 3], 2, 1), 2);
      checkConv(convGeometry([1, 64, 8, 8], [64, 64, 3, 3], 1, 1), 3);
      checkConv(convGeometry([2, 3, 32, 32], [16, 3, 3, 3], 1, 1), 4);
    });

    it('sum the backward filter over more images than it has chunks', () => {
      checkConv(convGeometry([13, 3, 5, 6], [4, 3, 3, 3], 1, 1), 5);
      checkConv(convGeometry([29, 2, 4, 4], [3, 2, 1, 1], 2, 0), 6);
    });
  });
