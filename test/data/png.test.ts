import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { decodePng, rgbaToImage } from '../../src/data/png.js';
import { encodePng } from '../util/png.js';

const inflate = (d: Uint8Array) => new Uint8Array(inflateSync(d));

describe('PNG decoding for predict', () => {
  it('round-trips random images of every colour type and filter (200 runs)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 3, 4) as fc.Arbitrary<1 | 3 | 4>,
      fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 1e9 }), (w, h, ch, filter, seed) => {
        const px = Uint8Array.from({ length: w * h * ch }, (_, i) => (Math.imul(i + 1, seed | 1) >>> 13) & 255);
        const img = decodePng(encodePng(px, w, h, ch, filter), inflate, 'x.png');
        assert.equal(img.width, w);
        assert.equal(img.height, h);
        for (let i = 0; i < w * h; i++) {
          const want = ch === 1 ? [px[i], px[i], px[i], 255] : ch === 3 ? [...px.subarray(i * 3, i * 3 + 3), 255] : [...px.subarray(i * 4, i * 4 + 4)];
          assert.deepEqual([...img.rgba.subarray(i * 4, i * 4 + 4)], want);
        }
      }), { numRuns: 200 });
  });

  it('refuses arbitrary and truncated bytes with an error naming the file (500 runs)', () => {
    const valid = encodePng(new Uint8Array(8 * 8 * 3).fill(7), 8, 8, 3);
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.subarray(0, n))), (bytes) => {
      try {
        decodePng(bytes, inflate, 'bad.png');
      } catch (e) {
        assert.ok(e instanceof Error && e.message.startsWith('bad.png: '), String(e));
      }
    }), { numRuns: 500 });
  });

  it('converts to the model input: resize, greyscale, NCHW planes', () => {
    const img = { width: 2, height: 1, rgba: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 255]) };
    assert.deepEqual([...rgbaToImage(img, 3, 1, 2)], [255, 0, 0, 0, 0, 255]);
    assert.deepEqual([...rgbaToImage(img, 1, 1, 2)], [76, 29]);
    assert.deepEqual([...rgbaToImage(img, 3, 2, 4)].length, 24);
  });
});
