// End to end on the shipped Fashion-MNIST-LT: a tiny run whose loss falls,
// its output folder, and an exact resume.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wt from '../../src/index.js';
import { train, resolveConfig, learningRate, loadRunData, type TrainConfig } from '../../src/train/index.js';
import { loadSafetensorsFile } from '../../src/io/files.js';
import { quiet, runMetrics, tinyConfig } from '../util/cli.js';

before(() => wt.init());

const tiny = (out: string, extra: Partial<TrainConfig> = {}) => tinyConfig(out, { limitTest: 200, loss: 'ce', ...extra });

describe('training', () => {
  const root = mkdtempSync(join(tmpdir(), 'wasmtail-train-'));

  it('follows the recipe schedule: warm-up, then x0.01 after 160 and x0.0001 after 180 of 200', () => {
    const cfg = resolveConfig({ out: 'x' });
    assert.equal(learningRate(cfg, 1), 0.02);
    assert.ok(Math.abs(learningRate(cfg, 5) - 0.1) < 1e-12);
    assert.equal(learningRate(cfg, 160), 0.1);
    assert.ok(Math.abs(learningRate(cfg, 161) - 0.001) < 1e-12);
    assert.ok(Math.abs(learningRate(cfg, 181) - 0.00001) < 1e-12);
  });

  it('the shipped subset reports the reference fingerprint (a hash of its indices into the original 60,000 images)', () => {
    const data = loadRunData(resolveConfig({ dataset: 'fashion-mnist-lt', out: 'x' }));
    assert.deepEqual(data.fingerprint.perClassCounts, [6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60]);
    assert.equal(data.fingerprint.hash, '82188cb62e2989f1');
  });

  it('a tiny run: the loss falls and the output folder holds metrics, checkpoints, summary and plots', async () => {
    const out = join(root, 'fbl');
    const summary = await train(tiny(out, { loss: 'fbl', lambda: 10 }), { progress: quiet() });
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.ok(lines[2].trainLoss < lines[0].trainLoss, `train loss ${lines.map((l) => l.trainLoss.toFixed(3)).join(' -> ')}`);
    for (const key of [
      'epoch',
      'lr',
      'trainLoss',
      'trainAcc',
      'top1',
      'top5',
      'many',
      'medium',
      'few',
      'perClass',
      'featureNormPerClass',
      'seconds',
      'imagesPerSec',
    ]) {
      assert.ok(key in lines[0], `metrics.jsonl lacks ${key}`);
    }
    for (const f of ['last.safetensors', 'best.safetensors', 'summary.json', 'curves.svg', 'per-class-accuracy.svg', 'feature-norm.svg']) {
      assert.ok(existsSync(join(out, f)), `${f} missing`);
    }
    // The plots show the post-hoc re-scorings beside the plain logits.
    assert.match(readFileSync(join(out, 'curves.svg'), 'utf8'), /test top-1, logit adjusted/);
    assert.match(readFileSync(join(out, 'per-class-accuracy.svg'), 'utf8'), /τ-normalised/);
    assert.equal(summary.fingerprint.total, 192);
    const ckpt = await loadSafetensorsFile(join(out, 'last.safetensors'));
    assert.ok(ckpt.tensors.has('layer1.0.conv2.weight') && ckpt.tensors.has('bn1.running_mean') && ckpt.tensors.has('linear.bias'));
  });

  it('refuses to overwrite a run without --resume', async () => {
    await assert.rejects(train(tiny(join(root, 'fbl'), { loss: 'fbl', lambda: 10 }), { progress: quiet() }), /already holds a run/);
  });

  it('a diverging run stops with the step and tensor at fault and keeps the last good checkpoint', async () => {
    const out = join(root, 'diverge');
    await train(tiny(out, { epochs: 1 }), { progress: quiet() });
    const before = readFileSync(join(out, 'last.safetensors'));
    await assert.rejects(
      train(tiny(out, { epochs: 2, lr: 1e9 }), { progress: quiet(), resume: true, allowChanges: true }),
      (e: Error) =>
        e.name === 'NumericalError' &&
        /(loss became|gradient of [\w.]+ became non-finite) .*at epoch 2, step \d+/.test(e.message) &&
        e.message.includes('last.safetensors'),
    );
    assert.deepEqual(readFileSync(join(out, 'last.safetensors')), before, 'the last good checkpoint is untouched');
  });

  it('a batch that does not fit in memory: an error naming the batch size to try, not a WASM trap', async () => {
    await wt.init({ maxMemoryPages: 256 });
    try {
      await assert.rejects(
        train(tiny(join(root, 'oom'), { batch: 64, limitTrain: 64 }), { progress: quiet() }),
        (e: Error) => e.name === 'OutOfMemoryError' && /at batch 64 does not fit in WebAssembly memory .*try --batch 32/.test(e.message),
      );
    } finally {
      await wt.init();
    }
  });

  it('a run resumed after epoch 2 ends with the same weights and metrics as an uninterrupted one, bit for bit', async () => {
    const whole = join(root, 'whole');
    const split = join(root, 'split');
    await train(tiny(whole, { epochs: 3 }), { progress: quiet() });
    await train(tiny(split, { epochs: 3 }), { progress: quiet(), stopAfterEpoch: 2 });
    await train(tiny(split, { epochs: 3 }), { progress: quiet(), resume: true });
    const a = await loadSafetensorsFile(join(whole, 'last.safetensors'));
    const b = await loadSafetensorsFile(join(split, 'last.safetensors'));
    for (const [name, t] of a.tensors) assert.deepEqual(b.tensors.get(name)!.data, t.data, `${name} differs`);
    assert.deepEqual(runMetrics(split), runMetrics(whole));
    rmSync(root, { recursive: true, force: true });
  });
});
