// A tiny run with the long-tail toolbox on, through the command line: it
// completes, records the post-hoc scores per epoch and in summary.json, and
// `eval --posthoc-tau` re-scores its checkpoint.
import { it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, runMetrics, tinyArgs } from '../util/cli.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-toolbox-run-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SHOT_KEYS = ['few', 'many', 'medium', 'perClass', 'top1'];

it('train with --drw --mixup --autoaugment --cutout completes and writes post-hoc metrics; eval --posthoc-tau re-scores', () => {
  const out = join(root, 'run');
  const args = tinyArgs({ '--epochs': 2, '--limit-train': 128, '--limit-test': 64, '--drw-epoch': 1, '--mixup': 0.2, '--cutout': 8 });
  const r = cli('train', ...args, '--drw', '--autoaugment', 'cifar10', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const metrics = runMetrics(out);
  assert.equal(metrics.length, 2);
  for (const m of metrics) {
    assert.deepEqual(Object.keys(m.posthoc.logitAdjusted).sort(), SHOT_KEYS);
    assert.deepEqual(Object.keys(m.posthoc.tauNorm).sort(), SHOT_KEYS);
  }
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.deepEqual(summary.last.posthoc, metrics[1].posthoc);
  assert.deepEqual(
    [summary.config.drw, summary.config.drwEpoch, summary.config.mixup, summary.config.autoAugment, summary.config.cutout],
    [true, 1, 0.2, 'cifar10', 8],
  );

  const evaluate = (...extra: string[]) => {
    const e = cli('eval', '--checkpoint', join(out, 'last.safetensors'), ...extra);
    assert.equal(e.code, 0, e.stderr);
    return JSON.parse(e.stdout);
  };
  // The checkpoint's own tau (1) gives the last epoch's scores again.
  assert.deepEqual(evaluate().posthoc, metrics[1].posthoc);
  // tau 0 adjusts nothing and normalises nothing: both are the plain logits' accuracy.
  const plain = evaluate('--posthoc-tau', '0');
  assert.equal(plain.posthoc.logitAdjusted.top1, plain.top1);
  assert.equal(plain.posthoc.tauNorm.top1, plain.top1);
});
