// PNG and JPEG decoding and resizing against Pillow (python3-pil), on files Pillow writes at test time (test/data/images.py).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { encode as encodeJpeg } from 'jpeg-js';
import { decodePng, rgbaToImage, type DecodedImage } from '../../src/data/png.js';
import { decodeJpeg } from '../../src/data/jpeg.js';
import { runPython, skipWithoutPillow } from '../util/pillow.js';

const inflate = (d: Uint8Array) => new Uint8Array(inflateSync(d));
const dir = mkdtempSync(join(tmpdir(), 'wasmtail-images-'));
const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
let cases: { cases: { kind: string; name: string }[]; resize: { name: string; w: number; h: number }[] };

/** Mean and max absolute difference in each of R, G, B. */
function channelDifferences(got: Uint8Array, want: Uint8Array): { mean: number[]; max: number[] } {
  const mean = [0, 0, 0],
    max = [0, 0, 0];
  const n = want.length / 4;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(got[i * 4 + c] - want[i * 4 + c]);
      mean[c] += d / n;
      max[c] = Math.max(max[c], d);
    }
  }
  return { mean, max };
}

describe('images against Pillow', { skip: skipWithoutPillow }, () => {
  before(() => {
    runPython(readFileSync(new URL('./images.py', import.meta.url), 'utf8'), dir);
    cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  });

  it('PNG: every colour type and bit depth, tRNS, Adam7 interlacing: the same RGBA as Pillow', () => {
    const pngs = cases.cases.filter((c) => c.kind === 'png');
    assert.equal(pngs.length, 14);
    for (const { name } of pngs) {
      const img = decodePng(read(`${name}.png`), inflate, name);
      assert.deepEqual(img.rgba, read(`${name}.rgba`), name);
    }
  });

  it('JPEG (qualities, 4:2:0 and 4:4:4, progressive, grey, every EXIF orientation): close to Pillow', () => {
    const report: string[] = [];
    for (const { name } of cases.cases.filter((c) => c.kind === 'jpeg')) {
      const want = read(`${name}.rgba`);
      const img = decodeJpeg(read(`${name}.jpg`), name);
      assert.equal(img.width * img.height * 4, want.length, `${name}: size after EXIF orientation`);
      const { mean, max } = channelDifferences(img.rgba, want);
      report.push(`${name}: mean ${mean.map((v) => v.toFixed(2)).join('/')} max ${max.join('/')}`);
      // jpeg-js's IDCT and its chroma upsampling (pixel replication, where libjpeg-turbo interpolates) differ
      // from Pillow's by a few levels, most with 4:2:0 chroma; a wrong orientation or colour would differ by tens.
      // Measured (Pillow 9.4): 4:2:0 mean <= 2.8, max <= 17; 4:4:4 and grey mean <= 0.6, max <= 3.
      const halfChroma = /420|progressive/.test(name);
      assert.ok(Math.max(...mean) < (halfChroma ? 3.5 : 1), `${name}: mean difference a channel ${mean}`);
      assert.ok(Math.max(...max) <= (halfChroma ? 24 : 4), `${name}: max difference a channel ${max}`);
    }
    writeFileSync(join(dir, 'jpeg-vs-pillow.txt'), report.join('\n') + '\n');
    if (process.env.WASMTAIL_REPORT) process.stdout.write(report.join('\n') + '\n');
  });

  it('CMYK JPEG, truncated, zero-byte and junk files are refused, naming the file', () => {
    assert.throws(() => decodeJpeg(read('cmyk.jpg'), 'cmyk.jpg'), /^Error: cmyk\.jpg: .*CMYK/);
    const jpeg = read('q75-420.jpg');
    assert.throws(() => decodeJpeg(jpeg.subarray(0, jpeg.length >> 1), 'half.jpg'), /^Error: half\.jpg: /);
    assert.throws(() => decodeJpeg(new Uint8Array(0), 'empty.jpg'), /^Error: empty\.jpg: .*bad signature/);
    const png = read('rgb8.png');
    assert.throws(() => decodePng(png.subarray(0, png.length - 30), inflate, 'cut.png'), /^Error: cut\.png: /);
  });

  it('an image claiming a huge size is refused before decoding', () => {
    const jpeg = read('q75-420.jpg').slice();
    // Patch the frame header's height and width to 65535.
    for (let i = 2; i < jpeg.length - 9; i++) {
      if (jpeg[i] === 0xff && jpeg[i + 1] === 0xc0) {
        jpeg.set([0xff, 0xff, 0xff, 0xff], i + 5);
        break;
      }
    }
    assert.throws(() => decodeJpeg(jpeg, 'huge.jpg'), /huge\.jpg: .*65535x65535 is too large/);
    const png = read('rgb8.png').slice();
    png.set([0, 0x10, 0, 0, 0, 0x10, 0, 0], 16);
    assert.throws(
      () =>
        decodePng(
          png,
          () => {
            throw new Error('inflate must not run');
          },
          'huge.png',
        ),
      /huge\.png: .*too large/,
    );
  });

  it('resizing: area averaging (Pillow BOX, whole factors) and bilinear (Pillow BILINEAR) within 1 level', () => {
    const src: DecodedImage = decodePng(read('resize-src.png'), inflate, 'resize-src.png');
    for (const { name, w, h } of cases.resize) {
      for (const [c, ext] of [
        [3, 'rgb'],
        [1, 'l'],
      ] as const) {
        const want = read(`${name}.${ext}`);
        const got = rgbaToImage(src, c, h, w);
        let worst = 0;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            for (let ch = 0; ch < c; ch++) worst = Math.max(worst, Math.abs(got[(ch * h + y) * w + x] - want[(y * w + x) * c + ch]));
          }
        }
        assert.ok(worst <= 1, `${name} ${ext}: worst difference ${worst}`);
      }
    }
  });
});

describe('JPEG decoding of arbitrary bytes', () => {
  it('refuses junk and every truncation with an error naming the file (fast-check, 300 runs)', () => {
    const valid = new Uint8Array(encodeJpeg({ data: new Uint8Array(16 * 16 * 4).fill(120), width: 16, height: 16 }, 80).data);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.from([0xff, 0xd8, 0xff, ...b])),
          fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.subarray(0, n)),
        ),
        (bytes) => {
          try {
            const img = decodeJpeg(bytes, 'fuzz.jpg');
            assert.equal(img.rgba.length, img.width * img.height * 4);
          } catch (e) {
            assert.ok(e instanceof Error && e.message.startsWith('fuzz.jpg: '), String(e));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
