/**
 * `wasmtail sweep --out DIR [train flags, lists as axes]`: runs the grid here
 * (`--jobs`), one cell (`--cell K`, or the index a job array gives), shows
 * where it stands (`--status`), or writes it as a Slurm job array or a
 * Kubernetes Indexed Job (`--emit slurm|k8s`). Every bad flag is refused
 * before anything starts.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../io/files.js';
import { TRAIN_OPTIONS, UsageError } from '../cli/main.js';
import { createSweep, gridFromFlags, planSweep, type SweepFile } from './grid.js';
import { k8sManifest } from './k8s.js';
import { runSweepCells } from './run.js';
import { slurmScript } from './slurm.js';
import { cellReport, formatStatus } from './status.js';

// A function, not a constant: cli/main.ts imports this module, so TRAIN_OPTIONS is not there yet when it loads.
const sweepOptions = () =>
  ({
    ...TRAIN_OPTIONS,
    jobs: { type: 'string' },
    cell: { type: 'string' },
    status: { type: 'boolean' },
    emit: { type: 'string' },
    lease: { type: 'string' },
    partition: { type: 'string' },
    time: { type: 'string' },
    'cpus-per-task': { type: 'string' },
    image: { type: 'string' },
    pvc: { type: 'string' },
    'mount-path': { type: 'string' },
    parallelism: { type: 'string' },
    'backoff-limit-per-index': { type: 'string' },
  }) as const;

/** Flags of the sweep itself (the rest are train flags, part of the grid or passed to every cell). */
const OWN_FLAGS = new Set([
  'jobs',
  'cell',
  'status',
  'emit',
  'lease',
  'partition',
  'time',
  'cpus-per-task',
  'image',
  'pvc',
  'mount-path',
  'parallelism',
  'backoff-limit-per-index',
  'out',
  'threads',
  'backend',
  'force-threads',
  'help',
]);

export const SWEEP_USAGE = `  wasmtail sweep --out DIR [train flags; a comma list makes an axis: --loss ce,fbl --lambda 10,30 --model-seed 1,2,3]
                 [--jobs N] (cells at once; default: the cores at --threads each, 1 thread per cell when several)
                 [--cell K] (only cell K; default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX when set)
                 [--status] [--lease SECONDS] (a cell's claim outlives its vanished runner this long; 300)
                 [--emit slurm [--partition P] [--time T] [--cpus-per-task C]]   (writes DIR/sweep.sbatch)
                 [--emit k8s [--image I] [--pvc CLAIM] [--mount-path /sweep] [--parallelism P] [--backoff-limit-per-index 3]]
  wasmtail report DIR... [--out FOLDER]   (mean ± std over seeds: report.md/.csv/.json/.html and SVG plots)`;

function positiveInteger(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!(Number.isInteger(x) && x >= 1)) throw new UsageError(`--${flag} must be a positive integer, got '${v}'`);
  return x;
}

/** How this process was started (node, its flags, the CLI script): how a cell starts `wasmtail train`. */
function selfCommand(): string[] {
  return [process.execPath, ...process.execArgv, resolve(process.argv[1])];
}

/** The cell index from --cell or the job array's environment, or null to run every cell. */
function cellIndex(given: string | undefined, sweep: SweepFile | null): number | null {
  const fromEnv =
    process.env.SLURM_ARRAY_TASK_ID !== undefined
      ? (['SLURM_ARRAY_TASK_ID', process.env.SLURM_ARRAY_TASK_ID] as const)
      : process.env.JOB_COMPLETION_INDEX !== undefined
        ? (['JOB_COMPLETION_INDEX', process.env.JOB_COMPLETION_INDEX] as const)
        : null;
  const [source, raw] = given !== undefined ? (['--cell', given] as const) : (fromEnv ?? [null, undefined]);
  if (raw === undefined || source === null) return null;
  const k = Number(raw);
  const n = sweep?.cells.length;
  if (!(Number.isInteger(k) && k >= 0) || (n !== undefined && k >= n)) {
    throw new UsageError(`${source} ${raw}: ${n !== undefined ? `the sweep has cells 0 to ${n - 1}` : 'expected a cell index 0, 1, ...'}`);
  }
  return k;
}

export async function sweepCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: sweepOptions(), allowPositionals: false, strict: true });
  const v = values as Record<string, string | boolean | undefined>;
  const out = v.out as string | undefined;
  if (!out) throw new UsageError('sweep needs --out DIR (the sweep folder: sweep.json and one run folder per cell)');
  for (const flag of ['out', 'threads', 'jobs', 'cell', 'emit']) {
    const value = v[flag];
    if (typeof value === 'string' && value.includes(',')) throw new UsageError(`--${flag} cannot be a list in a sweep; got '${value}'`);
  }
  for (const flag of ['resume', 'allow-changes', 'checkpoint']) {
    if (v[flag] !== undefined) throw new UsageError(`--${flag} does not apply to sweep (it resumes unfinished cells by itself)`);
  }
  for (const flag of ['download', 'mirror', 'dir']) {
    // Many cells downloading into one folder at once would race: fetch once, then point the sweep at it.
    if (v[flag] !== undefined) throw new UsageError(`--${flag} does not apply to sweep: run \`wasmtail fetch\` once, then give --data-dir`);
  }
  const emit = v.emit as string | undefined;
  if (emit !== undefined && emit !== 'slurm' && emit !== 'k8s') throw new UsageError(`--emit must be slurm or k8s, got '${emit}'`);
  const cores = availableParallelism();
  const jobs = positiveInteger(v.jobs as string | undefined, 'jobs');
  const threads = positiveInteger(v.threads as string | undefined, 'threads');
  if (threads !== undefined && threads > cores && !v['force-threads'] && emit === undefined) {
    throw new UsageError(`--threads ${threads} is more than the ${cores} logical cores of this machine; pass --force-threads to insist`);
  }
  const leaseS = v.lease === undefined ? 300 : Number(v.lease);
  if (!(leaseS > 0)) throw new UsageError(`--lease must be a positive number of seconds, got '${v.lease}'`);
  const backend = v.backend as string | undefined;
  if (backend !== undefined && !['wasm', 'webgpu', 'reference'].includes(backend)) {
    throw new UsageError(`--backend must be one of wasm, webgpu, reference; got '${backend}'`);
  }
  const runArgs = [...(backend ? ['--backend', backend] : []), ...(v['force-threads'] ? ['--force-threads'] : [])];
  const gridValues = Object.fromEntries(Object.entries(v).filter(([k]) => !OWN_FLAGS.has(k)));
  const grid = gridFromFlags(gridValues);
  const { sweep, isNew } = planSweep(out, grid);
  const n = sweep.cells.length;
  // Checked against the grid before anything is written.
  const k = emit === undefined ? cellIndex(v.cell as string | undefined, sweep) : null;
  if (isNew) await createSweep(out, sweep);

  if (emit === 'slurm') {
    const cpus = positiveInteger(v['cpus-per-task'] as string | undefined, 'cpus-per-task') ?? threads ?? 1;
    const file = join(out, 'sweep.sbatch');
    await writeFileAtomic(
      file,
      slurmScript(out, sweep, {
        partition: v.partition as string | undefined,
        time: v.time as string | undefined,
        cpusPerTask: cpus,
        command: selfCommand(),
        runArgs: [...runArgs, '--lease', String(leaseS)],
      }),
    );
    process.stdout.write(`${file}: ${n} array tasks (0-${n - 1}); submit with: sbatch ${file}; then: wasmtail report ${out}\n`);
    return 0;
  }
  if (emit === 'k8s') {
    const file = join(out, 'sweep-job.yaml');
    await writeFileAtomic(
      file,
      k8sManifest(out, sweep, {
        image: (v.image as string | undefined) ?? 'wasmtail:latest',
        pvc: (v.pvc as string | undefined) ?? 'wasmtail-sweep',
        mountPath: (v['mount-path'] as string | undefined) ?? '/sweep',
        parallelism: positiveInteger(v.parallelism as string | undefined, 'parallelism') ?? n,
        backoffLimitPerIndex: v['backoff-limit-per-index'] === undefined ? 3 : Number(v['backoff-limit-per-index']),
        cpus: threads ?? 1,
        runArgs: [...runArgs, '--lease', String(leaseS)],
      }),
    );
    process.stdout.write(`${file}: an Indexed Job of ${n} completions; apply with: kubectl apply -f ${file}\n`);
    return 0;
  }
  if (v.status) {
    process.stdout.write(formatStatus(sweep.cells.map((c) => cellReport(out, c))));
    return 0;
  }

  const command = selfCommand();
  const leaseMs = leaseS * 1000;
  if (k !== null) {
    // One cell, as a job array runs it: the runner's signal handling (the cell saves its position) and exit codes.
    const cell = sweep.cells[k];
    process.stderr.write(`sweep ${out}: cell ${k} of ${n} (${cell.dir})\n`);
    const result = await runSweepCells(out, [cell], { command, threads: threads ?? cores, runArgs, leaseMs, jobs: 1, echo: true });
    if (result.failed.length > 0) {
      process.stderr.write(`cell ${k} FAILED: ${result.failed[0].reason} (log: ${join(out, cell.dir, 'train.log')})\n`);
      return 1;
    }
    if (result.signal || result.interrupted > 0) return result.signal === 'SIGINT' ? 130 : 143;
    return 0;
  }
  const perCellThreads = threads ?? (jobs !== undefined ? Math.max(1, Math.floor(cores / jobs)) : n > 1 ? 1 : cores);
  const parallel = jobs ?? Math.max(1, Math.min(n, Math.floor(cores / perCellThreads)));
  process.stderr.write(
    `sweep ${out}: ${n} cells, ${parallel} at a time, ${perCellThreads} thread${perCellThreads > 1 ? 's' : ''} each; ` +
      `logs in each cell's ${'train.log'}\n`,
  );
  const result = await runSweepCells(out, sweep.cells, { command, threads: perCellThreads, runArgs, leaseMs, jobs: parallel });
  if (result.signal) return result.signal === 'SIGINT' ? 130 : 143;
  if (result.failed.length > 0) {
    process.stderr.write(
      `${result.failed.length} of ${n} cells failed:\n` +
        result.failed.map((f) => `  cell ${f.cell.index} (${f.cell.dir}): ${f.reason}\n`).join('') +
        `the others are in ${out}; the same command retries the failed cells and resumes the rest\n`,
    );
    return 1;
  }
  if (result.held > 0)
    process.stderr.write(`${result.held} cells are held by other runners; wasmtail sweep --out ${out} --status shows them\n`);
  process.stderr.write(`done; summarise with: wasmtail report ${out}\n`);
  return 0;
}
