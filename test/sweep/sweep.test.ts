// `wasmtail sweep` as a user runs it: bad input refused before anything
// starts, cells side by side with one failing, the same command again
// skipping and retrying, a stopped sweep resuming to the same weights, and
// two runners given one cell training it once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSafetensorsFile } from '../../src/io/files.js';
import { TINY } from './tiny.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-sweep-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function startCli(...args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

async function sameWeights(a: string, b: string) {
  const x = await loadSafetensorsFile(a);
  const y = await loadSafetensorsFile(b);
  for (const [name, t] of x) assert.deepEqual(y.get(name)!.data, t.data, `${name} differs`);
}

describe('wasmtail sweep', () => {
  it('bad input: exit 2, the flag named, nothing started or written', () => {
    const cases: [string[], RegExp][] = [
      [['--loss', 'ce,'], /--loss has an empty value/],
      [['--loss', 'ce,hinge'], /--loss must be one of/],
      [['--jobs', '0', '--loss', 'ce'], /--jobs must be a positive integer, got '0'/],
      [['--cell', '2', '--loss', 'ce,fbl'], /--cell 2: the sweep has cells 0 to 1/],
      [['--threads', '1,2', '--loss', 'ce'], /--threads cannot be a list/],
      [['--emit', 'pbs', '--loss', 'ce'], /--emit must be slurm or k8s/],
      [['--resume', '--loss', 'ce'], /--resume does not apply to sweep/],
      [['--download', '--loss', 'ce'], /--download does not apply to sweep: run `wasmtail fetch` once/],
    ];
    for (const [i, [args, pattern]] of cases.entries()) {
      const dir = join(root, `bad-${i}`);
      const r = cli('sweep', '--out', dir, ...TINY, ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.ok(!existsSync(dir), `${args.join(' ')} created ${dir}`);
    }
    const r = cli('sweep', '--out', `${join(root, 'a')},${join(root, 'b')}`, ...TINY);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--out cannot be a list/);
    assert.equal(cli('sweep', '--out', join(root, 'empty')).code, 2);
  });

  it('cells side by side; a diverging cell is marked failed with its reason, the others finish; the same command again skips them', () => {
    const dir = join(root, 'fail');
    // Four steps of 16: at lr 1e30 the second step's loss is no longer finite.
    const grid = ['--out', dir, ...TINY, '--batch', '16', '--loss', 'ce,fbl', '--lambda', '10', '--lr', '0.1,1e30', '--jobs', '2'];
    const r = cli('sweep', ...grid);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /2 of 4 cells failed/);
    const sweep = json(join(dir, 'sweep.json'));
    assert.deepEqual(
      sweep.cells.map((c: { dir: string }) => c.dir),
      ['00-loss-ce_lr-0.1', '01-loss-ce_lr-1e30', '02-loss-fbl_lr-0.1', '03-loss-fbl_lr-1e30'],
    );
    const states = sweep.cells.map((c: { dir: string }) => json(join(dir, c.dir, 'status.json')).state);
    assert.deepEqual(states, ['done', 'failed', 'done', 'failed']);
    for (const failed of [sweep.cells[1], sweep.cells[3]]) {
      assert.match(json(join(dir, failed.dir, 'status.json')).reason, /(loss|gradient of \S+) became/);
      assert.match(readFileSync(join(dir, failed.dir, 'train.log'), 'utf8'), /training stopped/);
    }
    assert.match(r.stderr, /cell 1 \(01-loss-ce_lr-1e30\): FAILED: .*became/);
    const status = cli('sweep', '--out', dir, '--status');
    assert.equal(status.code, 0);
    assert.match(status.stdout, /2 done, 2 failed/);

    const before = statSync(join(dir, '00-loss-ce_lr-0.1', 'summary.json')).mtimeMs;
    const again = cli('sweep', ...grid);
    assert.equal(again.code, 1, 'the failed cell is tried again and fails again');
    assert.equal(statSync(join(dir, '00-loss-ce_lr-0.1', 'summary.json')).mtimeMs, before, 'a finished cell is not run again');

    const other = cli('sweep', '--out', dir, ...TINY, '--batch', '16', '--loss', 'ce,fbl', '--lambda', '30', '--lr', '0.1,1e30');
    assert.equal(other.code, 2);
    assert.match(other.stderr, /holds a different sweep .*--lambda: '10' there, '30' here/);
  });

  it('SIGTERM to the sweep and its cell (as Ctrl-C or Slurm send it): the position saved; the same command resumes it to the weights of an uninterrupted cell', async () => {
    const grid = [...TINY, '--epochs', '2', '--limit-train', '1024', '--batch', '32', '--loss', 'fbl', '--lambda', '10'];
    const whole = join(root, 'whole');
    assert.equal(cli('sweep', '--out', whole, ...grid).code, 0);
    const stopped = join(root, 'stopped');
    // Its own process group, signalled whole: the sweep and its child both get SIGTERM.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'sweep', '--out', stopped, ...grid], {
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const log = join(stopped, '00-run', 'train.log');
    const deadline = Date.now() + 120_000;
    while (!(existsSync(log) && /epoch 1\/2 lr/.test(readFileSync(log, 'utf8'))) && Date.now() < deadline) await sleep(50);
    process.kill(-child.pid!, 'SIGTERM');
    assert.equal(await exited, 143);
    assert.equal(json(join(stopped, '00-run', 'status.json')).state, 'interrupted');
    assert.match(readFileSync(log, 'utf8'), /stopped by SIGTERM in epoch 2/);
    assert.ok(!existsSync(join(stopped, '00-run', 'summary.json')));
    const again = cli('sweep', '--out', stopped, ...grid);
    assert.equal(again.code, 0, again.stderr);
    assert.match(readFileSync(log, 'utf8'), /resuming cell 0/);
    await sameWeights(join(whole, '00-run', 'last.safetensors'), join(stopped, '00-run', 'last.safetensors'));
  });

  it('two runners given one cell: one trains it, the other leaves it; a stale claim is taken over', async () => {
    const dir = join(root, 'twice');
    const grid = [...TINY, '--epochs', '2', '--limit-train', '256', '--model-seed', '1,2'];
    assert.equal(cli('sweep', '--out', dir, ...grid, '--emit', 'slurm').code, 0);
    const [a, b] = [startCli('sweep', '--out', dir, '--cell', '0'), startCli('sweep', '--out', dir, '--cell', '0')];
    assert.deepEqual([await a.exited, await b.exited], [0, 0]);
    const said = a.stderr() + b.stderr();
    assert.equal((said.match(/held by pid \d+/g) ?? []).length, 1, said);
    const cellLog = readFileSync(join(dir, '00-model-seed-1', 'train.log'), 'utf8');
    assert.equal((cellLog.match(/starting cell 0/g) ?? []).length, 1);
    assert.equal(
      readFileSync(join(dir, '00-model-seed-1', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n').length,
      2,
    );

    // A claim whose runner is gone (a dead pid on this host, its lease expired).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(
      join(dir, '01-model-seed-2', '.cell-lock'),
      JSON.stringify({
        host: hostname(),
        pid: Number(dead.stdout),
        started: '2020-01-01T00:00:00.000Z',
        expires: '2020-01-01T00:05:00.000Z',
        purpose: 'wasmtail sweep',
      }),
    );
    const r = cli('sweep', '--out', dir, '--cell', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(dir, '01-model-seed-2', 'train.log'), 'utf8'), /taking over the stale lock .*lease expired/);
    assert.ok(!existsSync(join(dir, '01-model-seed-2', '.cell-lock')), 'the claim is released at the end');
    const env = cli('sweep', '--out', dir);
    assert.equal(env.code, 0);
    assert.match(env.stderr, /2 done, 0 running, 0 failed, 0 left of 2/);
  });
});
