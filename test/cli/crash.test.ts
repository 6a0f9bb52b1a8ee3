// Crash safety: SIGKILL a training run at an arbitrary moment after its first
// epoch, resume it, and it ends exactly where an uninterrupted run ends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSafetensorsFile } from '../../src/io/files.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-crash-'));
const ARGS = [
  'train',
  '--dataset',
  'fashion-mnist-lt',
  '--arch',
  'resnet20',
  '--epochs',
  '3',
  '--batch',
  '32',
  '--warmup',
  '1',
  '--limit-train',
  '160',
  '--limit-test',
  '100',
  '--loss',
  'fbl',
  '--lambda',
  '10',
];

function run(out: string, ...extra: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...ARGS, '--out', out, ...extra], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.status, 0, r.stderr);
}

const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { seconds: _s, imagesPerSec: _i, ...rest } = JSON.parse(l);
      return rest;
    });

describe('crash safety', () => {
  it('SIGKILL mid-run, then --resume: the same final weights and metrics as an uninterrupted run, bit for bit', async () => {
    const whole = join(root, 'whole');
    const killed = join(root, 'killed');
    run(whole);

    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...ARGS, '--out', killed], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 240_000;
    while (!existsSync(join(killed, 'last.safetensors')) && Date.now() < deadline) await sleep(50);
    // Somewhere in epoch 2: training, evaluating or writing files.
    await sleep(200 + Math.floor(Math.random() * 1500));
    child.kill('SIGKILL');
    await exited;
    const epochsDone = metrics(killed).length;
    assert.ok(epochsDone >= 1, 'the first epoch was saved before the kill');

    run(killed, '--resume');
    const a = await loadSafetensorsFile(join(whole, 'last.safetensors'));
    const b = await loadSafetensorsFile(join(killed, 'last.safetensors'));
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${name} differs after the resume`);
    assert.deepEqual(metrics(killed), metrics(whole));
    assert.equal(JSON.parse(readFileSync(join(killed, 'summary.json'), 'utf8')).last.epoch, 3);
  });
});
