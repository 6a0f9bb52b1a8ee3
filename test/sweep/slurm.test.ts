// The sweep as a Slurm job array on a real (one-node) Slurm: the emitted
// sbatch runs every cell and `report` reads them; a task cancelled mid-run
// and requeued ends with the weights of an uninterrupted cell; two tasks
// given one cell train it once. The Kubernetes manifest: its required Job
// fields, and its pod command run here with JOB_COMPLETION_INDEX set.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSafetensorsFile } from '../../src/io/files.js';
import { SlurmCluster, slurmMissing } from './slurmCluster.js';
import { TINY } from './tiny.js';

const missing = slurmMissing();
if (missing && process.env.CI) throw new Error(`Slurm tests: ${missing}`);

const root = mkdtempSync(join(tmpdir(), 'wasmtail-slurm-sweep-'));
const LONGER = [...TINY, '--epochs', '2', '--limit-train', '1024', '--loss', 'fbl', '--lambda', '10'];

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8', timeout: 300_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const allDone = (states: string[]) => states.length > 0 && states.every((s) => s === 'COMPLETED' || s === 'FAILED' || s === 'CANCELLED');

describe('sweep on Slurm', { skip: missing ?? false }, () => {
  let slurm: SlurmCluster;
  before(async () => {
    slurm = await SlurmCluster.start();
  });
  after(() => slurm?.stop());

  it("--emit slurm: a 4-cell array runs every cell, each task's output in its cell; report reads all four", async () => {
    const dir = join(root, 'four');
    const emitted = cli([
      'sweep',
      '--out',
      dir,
      ...TINY,
      '--loss',
      'ce,fbl',
      '--lambda',
      '10',
      '--model-seed',
      '1,2',
      '--emit',
      'slurm',
      '--time',
      '10:00',
    ]);
    assert.equal(emitted.code, 0, emitted.stderr);
    const script = readFileSync(join(dir, 'sweep.sbatch'), 'utf8');
    for (const line of ['#SBATCH --array=0-3', '#SBATCH --requeue', '#SBATCH --time=10:00', '#SBATCH --cpus-per-task=1']) {
      assert.ok(script.includes(line), line);
    }
    assert.match(script, /sweep --out "\$SWEEP" --cell "\$SLURM_ARRAY_TASK_ID"/);
    const job = slurm.client('sbatch', '--parsable', join(dir, 'sweep.sbatch')).trim();
    const states = await slurm.waitFor(job, (s) => s.length === 4 && allDone(s), 180_000);
    assert.deepEqual(states, ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    for (const cell of json(join(dir, 'sweep.json')).cells) {
      const files = readdirSync(join(dir, cell.dir));
      assert.ok(files.includes('summary.json'), `${cell.dir}: ${files}`);
      assert.ok(
        files.some((f) => new RegExp(`^slurm-${job}_${cell.index}\\.out$`).test(f)),
        `${cell.dir}: the task's output`,
      );
    }
    const report = cli(['report', dir]);
    assert.equal(report.code, 0, report.stderr);
    const groups = json(join(dir, 'report.json')).groups;
    assert.deepEqual(
      groups.map((g: { label: string; n: number }) => [g.label, g.n]),
      [
        ['loss ce', 2],
        ['loss fbl, lambda 10', 2],
      ],
    );
  });

  it('a task cancelled mid-run (scancel) and requeued (scontrol requeue) ends with the weights of an uninterrupted cell', async () => {
    const whole = join(root, 'whole');
    assert.equal(cli(['sweep', '--out', whole, ...LONGER]).code, 0);
    const dir = join(root, 'requeued');
    assert.equal(cli(['sweep', '--out', dir, ...LONGER, '--emit', 'slurm']).code, 0);
    const job = slurm.client('sbatch', '--parsable', join(dir, 'sweep.sbatch')).trim();
    const log = join(dir, '00-run', 'train.log');
    const deadline = Date.now() + 120_000;
    while (!(existsSync(log) && /epoch 1\/2 lr/.test(readFileSync(log, 'utf8'))) && Date.now() < deadline) await sleep(100);
    slurm.client('scancel', job);
    assert.deepEqual(await slurm.waitFor(job, allDone, 60_000), ['CANCELLED']);
    assert.equal(json(join(dir, '00-run', 'status.json')).state, 'interrupted');
    assert.ok(!existsSync(join(dir, '00-run', 'summary.json')));
    slurm.client('scontrol', 'requeue', job);
    // A requeued job waits (BeginTime) before it is eligible again; the test does not.
    slurm.client('scontrol', 'update', `JobId=${job}`, 'StartTime=now');
    assert.deepEqual(await slurm.waitFor(job, (s) => s[0] === 'COMPLETED', 120_000), ['COMPLETED']);
    assert.match(readFileSync(log, 'utf8'), /resuming cell 0/);
    const a = await loadSafetensorsFile(join(whole, '00-run', 'last.safetensors'));
    const b = await loadSafetensorsFile(join(dir, '00-run', 'last.safetensors'));
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${name} differs after the requeue`);
  });

  it('two tasks forced onto one cell: it is trained once', async () => {
    const dir = join(root, 'twice');
    assert.equal(cli(['sweep', '--out', dir, ...TINY, '--epochs', '2', '--limit-train', '512', '--emit', 'slurm']).code, 0);
    const jobs = [0, 1].map(() => slurm.client('sbatch', '--parsable', '--array=0', join(dir, 'sweep.sbatch')).trim());
    for (const job of jobs) assert.deepEqual(await slurm.waitFor(job, allDone, 120_000), ['COMPLETED']);
    const log = readFileSync(join(dir, '00-run', 'train.log'), 'utf8');
    assert.equal((log.match(/starting cell 0/g) ?? []).length, 1, log);
    assert.equal(
      readFileSync(join(dir, '00-run', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n').length,
      2,
    );
    const outputs = readdirSync(join(dir, '00-run'))
      .filter((f) => f.startsWith('slurm-'))
      .map((f) => readFileSync(join(dir, '00-run', f), 'utf8'));
    assert.equal(outputs.length, 2);
    // One task trained (its output has the run's lines); the other found the cell held or finished.
    assert.equal(outputs.filter((o) => /^model resnet20/m.test(o)).length, 1, outputs.join('\n----\n'));
    assert.equal(outputs.filter((o) => /held by pid \d+|1 done, 0 running/.test(o) && !/^model resnet20/m.test(o)).length, 1);
  });
});

describe('sweep as a Kubernetes Indexed Job (no cluster here: the manifest, and its pod command run locally)', () => {
  it('has the required Job fields, and its command with JOB_COMPLETION_INDEX runs that cell', () => {
    const dir = join(root, 'k8s');
    const r = cli([
      'sweep',
      '--out',
      dir,
      ...TINY,
      '--model-seed',
      '1,2,3',
      '--emit',
      'k8s',
      '--pvc',
      'lt-runs',
      '--parallelism',
      '2',
      '--image',
      'registry.example/wasmtail:0.1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const yaml = readFileSync(join(dir, 'sweep-job.yaml'), 'utf8');
    for (const field of [
      'apiVersion: batch/v1',
      'kind: Job',
      'completionMode: Indexed',
      'completions: 3',
      'parallelism: 2',
      'backoffLimitPerIndex: 3',
      'restartPolicy: Never',
      'claimName: "lt-runs"',
      'image: "registry.example/wasmtail:0.1"',
    ]) {
      assert.ok(yaml.includes(field), `${field} in\n${yaml}`);
    }
    assert.match(yaml, /^metadata:\n {2}name: wasmtail-sweep-k8s$/m);
    const command = JSON.parse(/command: (\[.*\])/.exec(yaml)![1]) as string[];
    assert.deepEqual(command.slice(0, 4), ['wasmtail', 'sweep', '--out', '/sweep/k8s']);
    // The pod's command, with this machine's wasmtail and the folder where the volume would be.
    const args = command.slice(1).map((a) => (a === '/sweep/k8s' ? dir : a));
    const pod = cli(args, { ...process.env, JOB_COMPLETION_INDEX: '2' });
    assert.equal(pod.code, 0, pod.stderr);
    assert.ok(existsSync(join(dir, '02-model-seed-3', 'summary.json')));
    assert.ok(!existsSync(join(dir, '00-model-seed-1', 'summary.json')), "only the pod's own cell");
    const bad = cli(args, { ...process.env, JOB_COMPLETION_INDEX: '3' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /JOB_COMPLETION_INDEX 3: the sweep has cells 0 to 2/);
  });
});
