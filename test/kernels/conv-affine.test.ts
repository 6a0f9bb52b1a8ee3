// assembly/conv.ts's inference fusion (conv2dForwardAffine: conv, then the
// eval batch norm as scale/shift per channel, the residual, ReLU) against
// the plain-TS reference in float64, on random geometries with odd sizes,
// on the plain and the relaxed-SIMD builds.
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { kernelBuilds, loadHarness, type Harness } from './harness.js';
import { assertWithin, mulberry32, randomFrom } from '../util/close.js';
import { convGeometry, type ConvGeometry } from '../../src/backend/backend.js';
import { squareConvGeometries } from '../util/convGeometry.js';
import { conv2dForwardAffineRef } from '../../src/backend/reference/kernels/conv.js';

let h: Harness;

const dims = (g: ConvGeometry) => [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow] as const;

function checkAffine(g: ConvGeometry, withResidual: boolean, relu: boolean, seed: number): void {
  const rng = mulberry32(seed);
  const xLen = g.n * g.c * g.h * g.w,
    wLen = g.oc * g.c * g.kh * g.kw,
    yLen = g.n * g.oc * g.oh * g.ow;
  const x = randomFrom(xLen, rng),
    w = randomFrom(wLen, rng);
  const scale = randomFrom(g.oc, rng),
    shift = randomFrom(g.oc, rng);
  const residual = withResidual ? randomFrom(yLen, rng) : null;
  const work = h.allocBytes(h.k.conv2dWorkspaceBytes(...dims(g)));
  // The output starts as NaN: the kernel must overwrite it.
  const py = h.alloc(yLen, new Float32Array(yLen).fill(NaN));
  h.k.conv2dForwardAffine(
    h.alloc(xLen, x),
    h.alloc(wLen, w),
    py,
    ...dims(g),
    work,
    h.alloc(g.oc, scale),
    h.alloc(g.oc, shift),
    residual ? h.alloc(yLen, residual) : 0,
    relu ? 1 : 0,
  );
  const want = new Float64Array(yLen);
  conv2dForwardAffineRef(
    Float64Array.from(x),
    Float64Array.from(w),
    want,
    g,
    Float64Array.from(scale),
    Float64Array.from(shift),
    residual ? Float64Array.from(residual) : null,
    relu,
  );
  const got = h.read(py, yLen);
  assertWithin(
    got,
    want,
    1e-5 + 2e-6 * g.c * g.kh * g.kw,
    1e-4,
    (i) => `affine conv ${JSON.stringify(g)} residual ${withResidual} relu ${relu}: [${i}]`,
  );
  if (relu) for (let i = 0; i < yLen; i++) if (!(got[i] >= 0)) throw new Error(`relu output ${got[i]} at [${i}]`);
}

const geometry = squareConvGeometries(7, 9);

for (const build of await kernelBuilds())
  describe(`conv2dForwardAffine kernel (${build})`, () => {
    before(async () => {
      h = await loadHarness(build);
    });

    it('matches the reference on random geometries, with and without residual and ReLU', () => {
      fc.assert(fc.property(geometry, fc.boolean(), fc.boolean(), fc.integer(), checkAffine), { numRuns: 80 });
    });

    it('matches the reference on ResNet shapes', () => {
      checkAffine(convGeometry([2, 3, 32, 32], [16, 3, 3, 3], 1, 1), false, true, 1);
      checkAffine(convGeometry([2, 16, 32, 32], [16, 16, 3, 3], 1, 1), true, true, 2);
      checkAffine(convGeometry([1, 32, 16, 16], [64, 32, 3, 3], 2, 1), false, true, 3);
      checkAffine(convGeometry([3, 64, 8, 8], [64, 64, 3, 3], 1, 1), true, false, 4);
    });
  });
