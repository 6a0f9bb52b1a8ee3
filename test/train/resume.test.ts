// Resuming safely: a stop requested mid-epoch (as SIGTERM / SIGINT do) saves
// the exact position and the resumed run ends bit for bit where an
// uninterrupted one does; changed settings are refused unless allowed, and
// then recorded; broken checkpoints are refused naming the file.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wt from '../../src/index.js';
import { train, type TrainConfig } from '../../src/train/index.js';
import { InterruptedError, StopRequest } from '../../src/train/interrupt.js';
import { checkSameData } from '../../src/train/resume.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../../src/io/files.js';
import { quiet, runMetrics as metrics, tinyConfig } from '../util/cli.js';

before(() => wt.init());
const root = mkdtempSync(join(tmpdir(), 'wasmtail-resume-'));
after(() => rmSync(root, { recursive: true, force: true }));

const tiny = (out: string, extra: Partial<TrainConfig> = {}) => tinyConfig(out, { limitTest: 100, loss: 'fbl', lambda: 10, ...extra });

async function sameWeights(a: string, b: string) {
  const x = await loadSafetensorsFile(join(a, 'last.safetensors'));
  const y = await loadSafetensorsFile(join(b, 'last.safetensors'));
  for (const [name, t] of x.tensors) assert.deepEqual(y.tensors.get(name)!.data, t.data, `${name} differs`);
}

describe('resume', () => {
  const whole = join(root, 'whole');
  before(async () => {
    await train(tiny(whole), { progress: quiet() });
  });

  it('a stop requested in epoch 2 after step 2 of 6 saves that position; the resumed run is bit-identical to an uninterrupted one', async () => {
    const split = join(root, 'split');
    const stop = new StopRequest();
    await assert.rejects(
      train(tiny(split), { progress: quiet(), stop, onStep: (e, k) => e === 2 && k === 2 && stop.request('SIGTERM') }),
      (e: Error) =>
        e instanceof InterruptedError && e.exitCode === 143 && /stopped by SIGTERM in epoch 2 after step 2 of 6/.test(e.message),
    );
    const { metadata } = await loadSafetensorsFile(join(split, 'last.safetensors'));
    assert.equal(JSON.parse(metadata.position).step, 2);
    assert.equal(metrics(split).length, 1, 'metrics.jsonl holds the completed epoch only');
    const summary = await train(tiny(split), { progress: quiet(), resume: true });
    await sameWeights(whole, split);
    assert.deepEqual(metrics(split), metrics(whole));
    assert.deepEqual(
      summary.history.map((h) => [h.event, h.epoch, h.step, h.signal]),
      [
        ['started', 0, 0, undefined],
        ['interrupted', 1, 2, 'SIGTERM'],
        ['resumed', 1, 2, undefined],
      ],
    );
  });

  it('a changed --lr / --wd / --lambda is refused naming each old and new value; the checkpoint is untouched', async () => {
    const before = readFileSync(join(whole, 'last.safetensors'));
    await assert.rejects(
      train(tiny(whole, { epochs: 4, lr: 0.01, wd: 1e-3, lambda: 30 }), { progress: quiet(), resume: true }),
      (e: Error) =>
        e.name === 'ConfigError' &&
        e.message.includes('--epochs 3 (now 4)') &&
        e.message.includes('--lr 0.05 (now 0.01)') &&
        e.message.includes('--wd 0.0002 (now 0.001)') &&
        e.message.includes('--lambda 10 (now 30)') &&
        e.message.includes('--allow-changes'),
    );
    assert.deepEqual(readFileSync(join(whole, 'last.safetensors')), before);
  });

  it('a setting that shapes the data or model (--batch, --model-seed) is refused even with allowChanges', async () => {
    await assert.rejects(
      train(tiny(whole, { batch: 16, modelSeed: 7 }), { progress: quiet(), resume: true, allowChanges: true }),
      (e: Error) => e.name === 'ConfigError' && e.message.includes('--batch 32 (now 16)') && e.message.includes('--model-seed 123 (now 7)'),
    );
  });

  it("allowChanges continues with the new values and records them in summary.json's history", async () => {
    const out = join(root, 'extended');
    await train(tiny(out, { epochs: 1 }), { progress: quiet() });
    await train(tiny(out, { epochs: 2, lr: 0.02 }), { progress: quiet(), resume: true, allowChanges: true });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.last.epoch, 2);
    assert.deepEqual(summary.history.at(-1).changes, [
      { setting: '--epochs', from: 1, to: 2 },
      { setting: '--lr', from: 0.05, to: 0.02 },
    ]);
  });

  it('a checkpoint without or with broken config metadata, or with a NaN weight: refused naming the file and what is wrong', async () => {
    const out = join(root, 'broken');
    await train(tiny(out, { epochs: 1 }), { progress: quiet() });
    const file = join(out, 'last.safetensors');
    const { tensors, metadata } = await loadSafetensorsFile(file);
    const { config: _c, ...noConfig } = metadata;
    await saveSafetensorsFile(file, tensors, noConfig);
    await assert.rejects(
      train(tiny(out), { progress: quiet(), resume: true }),
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: has no 'config' metadata \\(the training configuration\\)`),
    );
    await saveSafetensorsFile(file, tensors, { ...metadata, config: '{dataset: 1}' });
    await assert.rejects(
      train(tiny(out), { progress: quiet(), resume: true }),
      /last\.safetensors: its 'config' metadata \(the training configuration\) is not valid JSON/,
    );
    tensors.get('layer2.0.bn1.weight')!.data[3] = NaN;
    await saveSafetensorsFile(file, tensors, metadata);
    await assert.rejects(
      train(tiny(out), { progress: quiet(), resume: true }),
      /last\.safetensors: tensor layer2\.0\.bn1\.weight holds NaN at index 3/,
    );
  });

  it('other training data under the same settings (another --data-dir) is refused naming both subsets', () => {
    const a = { perClassCounts: [2, 1], total: 3, hash: '00000000000000aa' };
    checkSameData('last.safetensors', a, { ...a });
    checkSameData('last.safetensors', null, a);
    assert.throws(
      () => checkSameData('last.safetensors', a, { perClassCounts: [1, 2], total: 3, hash: '00000000000000bb' }),
      /last\.safetensors was trained on the subset 00000000000000aa \(per class \[2, 1\]\), but these data give 00000000000000bb .*--data-dir/,
    );
  });

  it('--out that is a file, or under one: a message naming --out', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(
      train(tiny(file), { progress: quiet() }),
      /--out .*a-file: cannot create the run folder \(it is a file, not a folder\)/,
    );
    await assert.rejects(
      train(tiny(join(file, 'run')), { progress: quiet() }),
      /--out .*run: cannot create the run folder \(a part of its path is a file, not a folder\)/,
    );
  });
});
