// Crash safety: SIGKILL a training run at an arbitrary moment after its first
// epoch, resume it, and it ends exactly where an uninterrupted run ends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSafetensorsFile } from '../../src/io/files.js';
import { cli, finished, runMetrics as metrics, spawnCli, tinyArgs } from '../util/cli.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-crash-'));
const ARGS = [
  'train',
  ...tinyArgs({ '--epochs': 3, '--warmup': 1, '--limit-train': 160, '--limit-test': 100, '--loss': 'fbl', '--lambda': 10 }),
];

function run(out: string, ...extra: string[]) {
  const r = cli(...ARGS, '--out', out, ...extra);
  assert.equal(r.code, 0, r.stderr);
}

describe('crash safety', () => {
  it('SIGKILL mid-run, then --resume: the same final weights and metrics as an uninterrupted run, bit for bit', async () => {
    const whole = join(root, 'whole');
    const killed = join(root, 'killed');
    run(whole);

    const child = spawnCli(...ARGS, '--out', killed);
    const exited = finished(child);
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
