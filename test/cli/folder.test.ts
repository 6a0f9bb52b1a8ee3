// `--dataset folder`: an ImageFolder of PNG and JPEG files (written here, by our PNG encoder and jpeg-js) trains,
// caches its decoded pixels, refuses or skips a bad image, and the checkpoint predicts by itself (CLI and wasmtail/infer).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { encodePng } from '../util/png.js';
import { cli, jsonLines } from '../util/cli.js';
import { imbalanceCounts } from '../../src/data/longtail.js';
import * as infer from '../../src/infer.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-folder-'));
const data = join(root, 'flowers');

/** A w x h picture of one hue per class with a little texture, as RGB bytes. */
function picture(classIndex: number, w: number, h: number, seed: number): Uint8Array {
  const hue = [
    [200, 40, 40],
    [40, 180, 60],
    [50, 60, 210],
  ][classIndex];
  return Uint8Array.from({ length: w * h * 3 }, (_, i) =>
    Math.max(0, Math.min(255, hue[i % 3] + (((i * 7919 + seed * 104729) >>> 3) % 41) - 20)),
  );
}

function writeImage(file: string, rgb: Uint8Array, w: number, h: number): void {
  if (file.endsWith('.png')) writeFileSync(file, encodePng(rgb, w, h, 3));
  else {
    const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : rgb[(i >> 2) * 3 + (i % 4)]));
    writeFileSync(file, encodeJpeg({ data: rgba, width: w, height: h }, 90).data);
  }
}

// Classes written out of order: their names are sorted (daisy, rose, tulip), as ImageFolder does.
const CLASSES = ['tulip', 'daisy', 'rose'];
const TRAIN_COUNTS = { daisy: 12, rose: 8, tulip: 6 } as Record<string, number>;
const SORTED = [...CLASSES].sort();

describe('image folders end to end', () => {
  for (const [split, folderName] of [
    ['train', 'train'],
    ['test', 'val'],
  ] as const) {
    for (const name of CLASSES) {
      const dir = join(data, folderName, name);
      mkdirSync(dir, { recursive: true });
      const k = SORTED.indexOf(name);
      const n = split === 'train' ? TRAIN_COUNTS[name] : 3;
      for (let i = 0; i < n; i++) {
        // Sizes above and below 16, so both shrinking and enlarging are used.
        const [w, h] = i % 2 ? [40, 30] : [12, 14];
        writeImage(join(dir, `${i}.${i % 3 === 0 ? 'jpg' : 'png'}`), picture(k, w, h, i), w, h);
      }
    }
  }
  writeFileSync(join(data, 'train', 'rose', 'notes.txt'), 'ignored: not an image name');
  writeFileSync(join(data, 'train', 'rose', 'broken.png'), new Uint8Array(0));
  const common = [
    '--dataset',
    'folder',
    '--data-dir',
    data,
    '--image-size',
    '16',
    '--arch',
    'resnet20',
    '--epochs',
    '1',
    '--batch',
    '8',
    '--warmup',
    '0',
    '--loss',
    'ce',
  ];
  const out = join(root, 'run');

  it('a bad image stops the run before training, naming the file and the cause', () => {
    const r = cli('train', ...common, '--out', join(root, 'refused'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rose\/broken\.png: is empty \(0 bytes\)/);
    assert.match(r.stderr, /--skip-bad/);
    assert.doesNotMatch(r.stderr, /epoch 1/);
  });

  it('--skip-bad trains on the rest: class names sorted, per-class counts, stats and input in the checkpoint', () => {
    const r = cli('train', ...common, '--skip-bad', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /data folder: 26 training images, per class \[12, 8, 6\], subset hash [0-9a-f]{16}; 9 test images/);
    assert.match(r.stderr, /decoded images cached in .*\.wasmtail-cache/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.deepEqual(summary.classNames, SORTED);
    assert.deepEqual(summary.trainCounts, [12, 8, 6]);
    assert.equal(summary.skippedImages.count, 1);
    assert.match(summary.skippedImages.files[0].file, /broken\.png$/);
    const file = readFileSync(join(out, 'last.safetensors'));
    const metadata = JSON.parse(file.subarray(8, 8 + Number(file.readBigUInt64LE(0))).toString()).__metadata__;
    const input = JSON.parse(metadata.config).input;
    assert.deepEqual(input.classNames, SORTED);
    assert.equal(input.height, 16);
    assert.equal(input.channels, 3);
    // Red, green and blue classes: the training split's own means, not CIFAR's.
    assert.equal(input.mean.length, 3);
    assert.ok(
      input.mean.every((m: number) => m > 0.1 && m < 0.6),
      String(input.mean),
    );
  });

  it('a long-tailed subset when --imb is given; the second run reads the decoded cache', () => {
    const r = cli('train', ...common, '--skip-bad', '--imb', '4', '--out', join(root, 'lt'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stderr.match(/decoded images read from/g) ?? []).length, 2, r.stderr);
    // The reference's quota: imgMax = 26 / 3 a class, times (1/4)^(i / 2).
    const quota = imbalanceCounts(26 / 3, 3, 4, 'exp');
    const counts = quota.map((q, i) => Math.min(q, [12, 8, 6][i]));
    assert.match(
      r.stderr,
      new RegExp(`data folder-lt: ${counts.reduce((a, b) => a + b)} training images, per class \\[${counts.join(', ')}\\]`),
    );
  });

  it('eval reads the folder as trained; predict takes PNG and JPEG with nothing but the checkpoint; so does wasmtail/infer', async () => {
    const jpg = join(data, 'val', 'daisy', '0.jpg');
    const png = join(data, 'val', 'tulip', '1.png');
    const r = cli('predict', '--checkpoint', join(out, 'last.safetensors'), jpg, png);
    assert.equal(r.code, 0, r.stderr);
    const preds = jsonLines(r.stdout);
    assert.equal(preds.length, 2);
    for (const p of preds) {
      assert.ok(SORTED.includes(p.name));
      assert.deepEqual(Object.keys(p.probabilities), SORTED);
    }
    const e = cli('eval', '--checkpoint', join(out, 'last.safetensors'));
    assert.equal(e.code, 0, e.stderr);
    const m = JSON.parse(e.stdout.trim());
    assert.equal(m.dataset, 'folder');
    assert.equal(m.n, 9);
    assert.equal(m.perClass.length, 3);
    const model = await infer.loadModel(new Uint8Array(readFileSync(join(out, 'last.safetensors'))));
    assert.deepEqual([...model.classNames], SORTED);
    assert.equal(model.height, 16);
    const [pred] = await infer.predict(model, { width: 12, height: 14, data: Uint8Array.from({ length: 12 * 14 * 4 }, () => 200) });
    assert.ok(SORTED.includes(pred.name));
    model.dispose();
  });
});
