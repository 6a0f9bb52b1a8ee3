// The long-tail toolbox in a run (DRW, MixUp, AutoAugment, Cutout): their
// generators are checkpointed, so a run stopped inside an epoch or after one
// resumes bit for bit where an uninterrupted run ends.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wt from '../../src/index.js';
import { train, type TrainConfig } from '../../src/train/index.js';
import { InterruptedError, StopRequest } from '../../src/train/interrupt.js';
import { loadSafetensorsFile } from '../../src/io/files.js';
import { quiet, runMetrics as metrics, tinyConfig } from '../util/cli.js';

before(() => wt.init());
const root = mkdtempSync(join(tmpdir(), 'wasmtail-toolbox-resume-'));
after(() => rmSync(root, { recursive: true, force: true }));

// DRW from epoch 2 (0-based 1), so the resumed epochs run re-weighted; mixing in all three epochs.
const tiny = (out: string, extra: Partial<TrainConfig> = {}) =>
  tinyConfig(out, { limitTest: 64, drw: true, drwEpoch: 1, mixup: 0.2, autoAugment: 'cifar10', cutout: 8, ...extra });

async function sameWeights(a: string, b: string) {
  const x = await loadSafetensorsFile(join(a, 'last.safetensors'));
  const y = await loadSafetensorsFile(join(b, 'last.safetensors'));
  for (const [name, t] of x.tensors) assert.deepEqual(y.tensors.get(name)!.data, t.data, `${name} differs`);
}

describe('resume with --drw --mixup --autoaugment --cutout', () => {
  const whole = join(root, 'whole');
  before(async () => {
    await train(tiny(whole), { progress: quiet() });
  });

  it('checkpoints the augmentation and mixing generators', async () => {
    const { metadata } = await loadSafetensorsFile(join(whole, 'last.safetensors'));
    assert.ok(JSON.parse(metadata.batchRng).byteRng, 'batchRng holds the AutoAugment / Cutout generator');
    assert.ok(metadata.mixerRng, 'the checkpoint holds the MixUp generator');
  });

  it('a stop in epoch 2 after step 2 resumes bit-identical to the uninterrupted run', async () => {
    const split = join(root, 'split');
    const stop = new StopRequest();
    await assert.rejects(
      train(tiny(split), { progress: quiet(), stop, onStep: (e, k) => e === 2 && k === 2 && stop.request('SIGTERM') }),
      (e: Error) => e instanceof InterruptedError && /epoch 2 after step 2/.test(e.message),
    );
    const { metadata } = await loadSafetensorsFile(join(split, 'last.safetensors'));
    assert.ok(JSON.parse(metadata.position).mixerRng, "the position record holds the mixer's state at the stop");
    await train(tiny(split), { progress: quiet(), resume: true });
    await sameWeights(whole, split);
    assert.deepEqual(metrics(split), metrics(whole));
  });

  it('a stop after epoch 1 resumes bit-identical to the uninterrupted run', async () => {
    const split = join(root, 'after-epoch');
    await train(tiny(split), { progress: quiet(), stopAfterEpoch: 1 });
    await train(tiny(split), { progress: quiet(), resume: true });
    await sameWeights(whole, split);
    assert.deepEqual(metrics(split), metrics(whole));
  });

  it('refuses a resume that turns MixUp off (it shapes the training)', async () => {
    await assert.rejects(
      train(tiny(whole, { mixup: null }), { progress: quiet(), resume: true, allowChanges: true }),
      (e: Error) => e.name === 'ConfigError' && e.message.includes('--mixup 0.2 (now null)'),
    );
  });
});
