// The command line as a user runs it: exit codes, messages, and the files it writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodePng } from '../util/png.js';
import { cli, jsonLines, tinyArgs } from '../util/cli.js';
import { PRESETS } from '../../src/train/config.js';
import { DEMO_PRESET } from '../../src/cli/demo.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-cli-'));

describe('cli', () => {
  it('bad arguments: a message naming the problem and exit code 2', () => {
    let r = cli('train', '--epochs', 'ten', '--out', join(root, 'x'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--epochs expects a number, got 'ten'/);
    r = cli('train', '--loss', 'hinge', '--out', join(root, 'x'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--loss must be one of ce, fbl, focal, ldam-drw, cb, balanced-softmax/);
    r = cli('train', '--bogus');
    assert.equal(r.code, 2);
    r = cli('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });

  it('a missing data folder: exit 1 and the file it looked for', () => {
    const r = cli('train', '--dataset', 'cifar10-lt', '--data-dir', join(root, 'nowhere'), '--out', join(root, 'y'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /data_batch_1\.bin: not found/);
  });

  it('a diverging run: exit code 3, the step at fault, the last good checkpoint kept', () => {
    const dir = join(root, 'diverge');
    const common = tinyArgs({ '--limit-train': 192, '--limit-test': 50, '--loss': 'ce', '--out': dir });
    assert.equal(cli('train', ...common, '--epochs', '1').code, 0);
    const before = readFileSync(join(dir, 'last.safetensors'));
    const r = cli('train', ...common, '--epochs', '2', '--lr', '1e12', '--resume', '--allow-changes');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /training stopped: the (loss|gradient of \S+) became .* at epoch 2, step \d+/);
    assert.deepEqual(readFileSync(join(dir, 'last.safetensors')), before);
  });

  const out = join(root, 'run');
  it('train, then eval and predict with its checkpoint', () => {
    let r = cli('train', ...tinyArgs({ '--epochs': 1, '--limit-train': 96, '--limit-test': 100, '--loss': 'ce', '--out': out }));
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim());
    assert.equal(result.bestEpoch, 1);
    assert.ok(existsSync(join(out, 'best.safetensors')));
    assert.match(r.stderr, /subset hash [0-9a-f]{16}/);

    r = cli('eval', '--checkpoint', join(out, 'best.safetensors'), '--limit-test', '100');
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout.trim());
    assert.equal(m.n, 100);
    assert.equal(m.perClass.length, 10);

    // Two test images of the shipped set as PNG files, greyscale and RGB.
    const images = gunzipSync(readFileSync('data/fashion-mnist-lt/t10k-images-idx3-ubyte.gz')).subarray(16);
    const grey = images.subarray(0, 784);
    const rgb = Uint8Array.from({ length: 784 * 3 }, (_, i) => grey[Math.floor(i / 3)]);
    writeFileSync(join(root, 'a.png'), encodePng(grey, 28, 28, 1));
    writeFileSync(join(root, 'b.png'), encodePng(rgb, 28, 28, 3, 4));
    r = cli('predict', '--checkpoint', join(out, 'best.safetensors'), join(root, 'a.png'), join(root, 'b.png'));
    assert.equal(r.code, 0, r.stderr);
    const preds = jsonLines(r.stdout);
    assert.equal(preds.length, 2);
    assert.equal(preds[0].class, preds[1].class, 'the same image as grey and RGB PNG');
    const total = Object.values(preds[0].probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-4);

    writeFileSync(join(root, 'junk.bin'), new Uint8Array(100));
    r = cli('predict', '--checkpoint', join(out, 'best.safetensors'), join(root, 'junk.bin'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junk\.bin: neither a \.png \/ \.jpg nor whole CIFAR/);
  });

  it('demo (npm start): CE and FBL with the demo preset, a table of both; --arch and --epochs override it', () => {
    const summary = (dir: string, loss: string) => JSON.parse(readFileSync(join(dir, loss, 'summary.json'), 'utf8'));
    const preset = PRESETS[DEMO_PRESET];
    let dir = join(root, 'demo');
    let r = cli('demo', '--limit-train', '128', '--limit-test', '100', '--out', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\| ce +\|/m);
    assert.match(r.stdout, /^\| fbl +\|/m);
    for (const loss of ['ce', 'fbl']) {
      const { config } = summary(dir, loss);
      assert.equal(config.loss, loss);
      for (const key of ['dataset', 'arch', 'epochs', 'batch', 'warmup', 'lambda'] as const) assert.equal(config[key], preset[key], key);
    }
    dir = join(root, 'demo-resnet20');
    r = cli('demo', '--arch', 'resnet20', '--epochs', '1', '--limit-train', '64', '--limit-test', '50', '--out', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([summary(dir, 'fbl').config.arch, summary(dir, 'fbl').config.epochs], ['resnet20', 1]);
  });
});
