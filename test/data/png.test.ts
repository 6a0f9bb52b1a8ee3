import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { decodePng, rgbaToImage } from '../../src/data/png.js';
import { inflateBounded } from '../../src/data/decompress.js';
import { encodePng } from '../util/png.js';

const inflate = (d: Uint8Array) => new Uint8Array(inflateSync(d));

describe('PNG decoding for predict', () => {
  it('round-trips random images of every colour type and filter (200 runs)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(1, 3, 4) as fc.Arbitrary<1 | 3 | 4>,
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 1e9 }),
        (w, h, ch, filter, seed) => {
          const px = Uint8Array.from({ length: w * h * ch }, (_, i) => (Math.imul(i + 1, seed | 1) >>> 13) & 255);
          const img = decodePng(encodePng(px, w, h, ch, filter), inflate, 'x.png');
          assert.equal(img.width, w);
          assert.equal(img.height, h);
          for (let i = 0; i < w * h; i++) {
            const want =
              ch === 1
                ? [px[i], px[i], px[i], 255]
                : ch === 3
                  ? [...px.subarray(i * 3, i * 3 + 3), 255]
                  : [...px.subarray(i * 4, i * 4 + 4)];
            assert.deepEqual([...img.rgba.subarray(i * 4, i * 4 + 4)], want);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses arbitrary and truncated bytes with an error naming the file (500 runs)', () => {
    const valid = encodePng(new Uint8Array(8 * 8 * 3).fill(7), 8, 8, 3);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.subarray(0, n)),
        ),
        (bytes) => {
          try {
            decodePng(bytes, inflate, 'bad.png');
          } catch (e) {
            assert.ok(e instanceof Error && e.message.startsWith('bad.png: '), String(e));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('converts to the model input: resize, greyscale, NCHW planes', () => {
    const img = { width: 2, height: 1, rgba: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 255]) };
    assert.deepEqual([...rgbaToImage(img, 3, 1, 2)], [255, 0, 0, 0, 0, 255]);
    assert.deepEqual([...rgbaToImage(img, 1, 1, 2)], [76, 29]);
    assert.deepEqual([...rgbaToImage(img, 3, 2, 4)].length, 24);
  });

  it("a decompression bomb (IDAT inflating far past what the header implies) stops at the header's size", () => {
    const png = encodePng(new Uint8Array(4 * 4 * 3), 4, 4, 3);
    // Swap in an IDAT of 64 MB of zeros (64 kB compressed) for a 4 x 4 image.
    const bomb = deflateSync(new Uint8Array(64 << 20));
    const idatAt = Buffer.from(png).indexOf('IDAT') - 4;
    const length = new DataView(png.buffer, png.byteOffset).getUint32(idatAt);
    const chunk = new Uint8Array(12 + bomb.length);
    new DataView(chunk.buffer).setUint32(0, bomb.length);
    chunk.set(Buffer.from('IDAT'), 4);
    chunk.set(bomb, 8);
    const file = Uint8Array.from([...png.subarray(0, idatAt), ...chunk, ...png.subarray(idatAt + 12 + length)]);
    let asked = 0;
    assert.throws(
      () =>
        decodePng(
          file,
          (d, expected) => {
            asked = expected;
            return inflateBounded(d, expected);
          },
          'bomb.png',
        ),
      /^Error: bomb\.png: .*corrupt image data/,
    );
    assert.equal(asked, 4 * (4 * 3 + 1));
  });
});
