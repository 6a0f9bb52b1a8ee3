// Decompression bombs: ~1 MiB files that inflate to 1 GiB are refused, naming
// the file, with the reading process's peak memory far below what inflating
// them would take (before the bound: 2.1 GB for the IDX file, 3.1 GB for the PNG).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, deflateRawSync, deflateSync, gzipSync, inflateSync } from 'node:zlib';
import { encodeIdx, DataFormatError } from '../../src/data/formats.js';
import { decodePng } from '../../src/data/png.js';
import { readIdxFile } from '../../src/data/node.js';
import { readIdxStream } from '../../src/data/streams.js';
import { pngChunk } from '../util/png.js';

const CHILD = fileURLToPath(new URL('./bomb.child.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'wasmtail-bombs-'));
const GIB = 1 << 30;
const PIECE = 8 << 20;
/** Peak resident memory allowed while refusing a 1 GiB bomb: the runtime itself (~100 MB under tsx) plus headroom. */
const PEAK_MIB = 400;

/** 1 GiB of zeros as a gzip file: `head` as the first member, then members of 8 MiB of zeros (~1 MiB in all). */
function gzipBomb(head: Uint8Array): Uint8Array {
  const piece = gzipSync(new Uint8Array(PIECE), { level: 9 });
  return Buffer.concat([gzipSync(head), ...Array.from({ length: GIB / PIECE }, () => piece)]);
}

/** 1 GiB of zeros as one zlib stream (PNG's IDAT): non-final deflate blocks repeated, a final empty block, the Adler-32. */
function zlibBomb(): Uint8Array {
  const block = deflateRawSync(new Uint8Array(PIECE), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((GIB % 65521) << 16) >>> 0) + 1);
  return Buffer.concat([Buffer.from([0x78, 0xda]), ...Array.from({ length: GIB / PIECE }, () => block), Buffer.from([0x03, 0x00]), adler]);
}

function pngWithIdat(width: number, height: number, idat: Uint8Array): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array()),
  ]);
}

function readInChild(mode: string, file: string): { error: string | null; peakMiB: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, mode, file], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim());
}

describe('decompression bombs', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a 1 MiB gzipped IDX file (header: 10 images of 28 x 28) inflating to 1 GiB: refused at the declared size, peak memory bounded', () => {
    const file = join(root, 'train-images-idx3-ubyte.gz');
    const bytes = gzipBomb(encodeIdx(new Uint8Array(7840), [10, 28, 28]));
    assert.ok(bytes.length < 2 << 20, `the bomb is ${bytes.length} bytes`);
    writeFileSync(file, bytes);
    const name = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const r = readInChild('idx', file);
    assert.match(
      r.error ?? '',
      new RegExp(`^${name}: inflates to more than 7856 bytes, the 7856 bytes its IDX header \\[10, 28, 28\\] declares`),
    );
    assert.ok(r.peakMiB < PEAK_MIB, `peak RSS ${r.peakMiB.toFixed(0)} MiB`);
    // The same file as the web page reads it, through DecompressionStream.
    const s = readInChild('idx-stream', file);
    assert.match(s.error ?? '', new RegExp(`^${name}: holds more than the 7856 bytes its IDX header \\[10, 28, 28\\] declares`));
    assert.ok(s.peakMiB < PEAK_MIB, `stream: peak RSS ${s.peakMiB.toFixed(0)} MiB`);
  });

  it('a bounded IDX stream passes a valid file through whole and a truncated one as it is', async () => {
    const idx = encodeIdx(
      Uint8Array.from({ length: 2 * 3 * 5 }, (_, i) => i),
      [2, 3, 5],
    );
    const chunked = (bytes: Uint8Array, size: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size));
          c.close();
        },
      });
    for (const size of [1, 3, 7, 100]) {
      assert.deepEqual(await readIdxStream(chunked(idx, size), 'x'), idx);
      assert.deepEqual(await readIdxStream(chunked(idx.subarray(0, 20), size), 'x'), idx.subarray(0, 20));
      await assert.rejects(
        readIdxStream(chunked(Uint8Array.from([...idx, 1]), size), 'x.idx'),
        /^DataFormatError: x\.idx: holds more than the 46 bytes/,
      );
    }
  });

  it('a gzipped IDX header that claims more than its compressed size can hold is refused without inflating', () => {
    const file = join(root, 'liar.gz');
    writeFileSync(file, gzipSync(encodeIdx(new Uint8Array(0), [0, 28, 28]).map((b, i) => (i === 7 ? 0xff : b))));
    assert.throws(
      () => readIdxFile(file),
      (e) => e instanceof DataFormatError && /need \d+ data bytes, more than \d+ gzip bytes can inflate to/.test(e.message),
    );
  });

  it('a 1 MiB PNG whose 28 x 28 header is followed by 1 GiB of image data: refused (CLI decoder and wasmtail/infer), peak memory bounded', () => {
    const file = join(root, 'bomb.png');
    const png = pngWithIdat(28, 28, zlibBomb());
    assert.ok(png.length < 2 << 20, `the bomb is ${png.length} bytes`);
    writeFileSync(file, png);
    for (const mode of ['png', 'infer-png']) {
      const r = readInChild(mode, file);
      assert.match(
        r.error ?? '',
        /bomb\.png: not a PNG this decoder reads: corrupt image data \(inflates to more than the 812 bytes its header allows\)/,
        mode,
      );
      assert.ok(r.peakMiB < PEAK_MIB, `${mode}: peak RSS ${r.peakMiB.toFixed(0)} MiB`);
    }
  });

  it('a PNG with more image data than its header allows is refused, whatever the inflater', () => {
    // Two rows of 4 grey pixels need 2 x 5 bytes; the stream holds 3 rows.
    const rows = new Uint8Array(3 * 5);
    const png = pngWithIdat(4, 2, deflateSync(rows));
    const unbounded = (d: Uint8Array) => new Uint8Array(inflateSync(d));
    assert.throws(() => decodePng(png, unbounded, 'long.png'), /long\.png: .*image data holds 5 bytes more than 4x2 allows/);
  });
});
