// loadImageFolder on small folders written here: layout rules, grey, the cache's key, bad files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelStatistics, loadImageFolder } from '../../src/data/folder.js';
import { encodePng } from '../util/png.js';

function folder(layout: Record<string, Record<string, Uint8Array>>): string {
  const root = mkdtempSync(join(tmpdir(), 'wasmtail-imagefolder-'));
  for (const [path, files] of Object.entries(layout)) {
    mkdirSync(join(root, path), { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(root, path, name), bytes);
  }
  return root;
}

const solid = (r: number, g: number, b: number) =>
  encodePng(
    Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => [r, g, b][i % 3]),
    4,
    4,
    3,
  );

describe('image folders', () => {
  it('grey: ITU-R 601 luminance, one channel; statistics of the training split', () => {
    const root = folder({
      'train/b': { '1.png': solid(255, 0, 0) },
      'train/a': { '1.png': solid(0, 0, 255) },
      'val/a': { 'x.png': solid(0, 255, 0) },
    });
    const train = loadImageFolder(root, 'train', { size: 2, channels: 1, skipBad: false });
    assert.deepEqual(train.dataset.classNames, ['a', 'b']);
    assert.equal(train.dataset.c, 1);
    assert.deepEqual([...train.dataset.labels], [0, 1]);
    assert.deepEqual([...train.dataset.images], [29, 29, 29, 29, 76, 76, 76, 76]);
    const test = loadImageFolder(root, 'test', { size: 2, channels: 1, skipBad: false, classNames: train.dataset.classNames });
    assert.deepEqual([...test.dataset.images], [150, 150, 150, 150]);
    const { mean, std } = channelStatistics(train.dataset);
    assert.ok(Math.abs(mean[0] - (29 + 76) / 2 / 255) < 1e-6);
    assert.ok(Math.abs(std[0] - (76 - 29) / 2 / 255) < 1e-6);
  });

  it('the cache is read back, and missed when a file changes', () => {
    const root = folder({ 'train/a': { '1.png': solid(10, 20, 30), '2.png': solid(40, 50, 60) }, 'test/a': { '1.png': solid(1, 2, 3) } });
    const opts = { size: 4, channels: 3, skipBad: false } as const;
    const first = loadImageFolder(root, 'train', opts);
    assert.equal(first.cache.hit, false);
    assert.equal(first.cache.writeError, undefined);
    const second = loadImageFolder(root, 'train', opts);
    assert.equal(second.cache.hit, true);
    assert.deepEqual(second.dataset.images, first.dataset.images);
    assert.deepEqual(second.dataset.labels, first.dataset.labels);
    assert.equal(loadImageFolder(root, 'train', { ...opts, size: 8 }).cache.hit, false, 'another size');
    writeFileSync(join(root, 'train/a/2.png'), solid(41, 50, 60));
    utimesSync(join(root, 'train/a/2.png'), new Date(), new Date(Date.now() + 5000));
    const third = loadImageFolder(root, 'train', opts);
    assert.equal(third.cache.hit, false);
    assert.equal(third.dataset.images[3 * 16], 41);
    assert.ok(
      readdirSync(join(root, '.wasmtail-cache')).every((f) => !f.includes('.tmp-')),
      'no temporary file left',
    );
  });

  it('layout errors name the folder: no train/, no test/ or val/, a test class unknown to training, an empty class', () => {
    assert.throws(
      () => loadImageFolder(folder({ 'x/a': { '1.png': solid(1, 1, 1) } }), 'train', { size: 4, channels: 3, skipBad: false }),
      /train: not found: an image folder needs train\/<class>\//,
    );
    const root = folder({ 'train/a': { '1.png': solid(1, 1, 1) } });
    assert.throws(
      () => loadImageFolder(root, 'test', { size: 4, channels: 3, skipBad: false }),
      /test: not found: .*test\/<class>\/ or val\/<class>\//,
    );
    const extra = folder({ 'train/a': { '1.png': solid(1, 1, 1) }, 'test/zebra': { '1.png': solid(1, 1, 1) } });
    assert.throws(
      () => loadImageFolder(extra, 'test', { size: 4, channels: 3, skipBad: false, classNames: ['a'] }),
      /zebra: is a class the training split does not have/,
    );
    const empty = folder({ 'train/a': { 'readme.txt': new Uint8Array(3) } });
    assert.throws(
      () => loadImageFolder(empty, 'train', { size: 4, channels: 3, skipBad: false }),
      /train\/a: holds no \.png, \.jpg or \.jpeg file/,
    );
  });

  it('bad files: all listed with their causes, or skipped', () => {
    const root = folder({
      'train/a': {
        'ok.png': solid(1, 2, 3),
        'junk.jpg': Uint8Array.of(1, 2, 3),
        'cut.png': solid(1, 2, 3).subarray(0, 40),
        'empty.jpeg': new Uint8Array(0),
      },
    });
    assert.throws(
      () => loadImageFolder(root, 'train', { size: 4, channels: 3, skipBad: false }),
      (e: Error) =>
        /3 of 4 images in .* cannot be read/.test(e.message) &&
        /cut\.png: not a PNG this decoder reads/.test(e.message) &&
        /empty\.jpeg: is empty \(0 bytes\)/.test(e.message) &&
        /junk\.jpg: is neither a PNG nor a JPEG/.test(e.message) &&
        /--skip-bad/.test(e.message),
    );
    const kept = loadImageFolder(root, 'train', { size: 4, channels: 3, skipBad: true });
    assert.equal(kept.dataset.n, 1);
    assert.deepEqual(kept.skipped.map((b) => b.file.split('/').pop()).sort(), ['cut.png', 'empty.jpeg', 'junk.jpg']);
  });
});
