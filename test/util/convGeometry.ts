// Random convolution geometries for the kernel property tests.
import fc from 'fast-check';
import { type ConvGeometry, convGeometry } from '../../src/backend/backend.js';

/**
 * Odd sizes of every kind: batch 1-3, square 1x1 or 3x3 filters, stride 1
 * or 2, padding 0 or 1, sides 1-17, up to maxC channels in and maxOc out.
 */
export function squareConvGeometries(maxC: number, maxOc: number): fc.Arbitrary<ConvGeometry> {
  return fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      c: fc.integer({ min: 1, max: maxC }),
      oc: fc.integer({ min: 1, max: maxOc }),
      k: fc.constantFrom(1, 3),
      stride: fc.constantFrom(1, 2),
      pad: fc.constantFrom(0, 1),
      h: fc.integer({ min: 1, max: 17 }),
      w: fc.integer({ min: 1, max: 17 }),
    })
    .filter((r) => r.h + 2 * r.pad >= r.k && r.w + 2 * r.pad >= r.k)
    .map((r) => convGeometry([r.n, r.c, r.h, r.w], [r.oc, r.c, r.k, r.k], r.stride, r.pad));
}
