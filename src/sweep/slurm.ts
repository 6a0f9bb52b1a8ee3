/**
 * The sweep as a Slurm job array: `DIR/sweep.sbatch`, one array task per
 * cell. Each task runs `wasmtail sweep --out DIR --cell $SLURM_ARRAY_TASK_ID`,
 * which claims its cell, resumes it when a checkpoint is there, and writes
 * the task's output into the cell's folder. `--requeue` lets Slurm put a
 * preempted or failed-node task back in the queue; it resumes where the
 * SIGTERM that Slurm sends first made it save. DIR must be on a file system
 * every node sees, at the same path.
 */
import { resolve } from 'node:path';
import type { SweepFile } from './grid.js';

export interface SlurmOptions {
  partition?: string;
  /** Slurm's --time per task, e.g. 3:00:00. */
  time?: string;
  cpusPerTask: number;
  /** How a node starts wasmtail: argv words. */
  command: string[];
  /** Extra sweep arguments for every task (--backend, --lease). */
  runArgs: string[];
}

/** Quotes a word for bash. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function slurmScript(sweepDir: string, sweep: SweepFile, opts: SlurmOptions): string {
  const dir = resolve(sweepDir);
  const n = sweep.cells.length;
  const head = [
    '#!/bin/bash',
    `# wasmtail sweep: ${n} cells, one array task each. Submit: sbatch ${shellQuote(resolve(dir, 'sweep.sbatch'))}`,
    '#SBATCH --job-name=wasmtail-sweep',
    `#SBATCH --array=0-${n - 1}`,
    '#SBATCH --requeue',
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${opts.cpusPerTask}`,
    ...(opts.partition ? [`#SBATCH --partition=${opts.partition}`] : []),
    ...(opts.time ? [`#SBATCH --time=${opts.time}`] : []),
    // Only what the shell prints before the exec below lands here; the task's own output goes to its cell.
    `#SBATCH --output=${dir}/slurm-%A_%a.out`,
    '#SBATCH --open-mode=append',
  ];
  const cells = sweep.cells.map((c) => `  ${shellQuote(c.dir)}`);
  const body = [
    '',
    'set -euo pipefail',
    `SWEEP=${shellQuote(dir)}`,
    'CELLS=(',
    ...cells,
    ')',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, expanded by the job script
    'CELL_DIR="$SWEEP/${CELLS[$SLURM_ARRAY_TASK_ID]}"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${...}, expanded by the job script
    'exec >>"$CELL_DIR/slurm-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.out" 2>&1',
    `exec ${opts.command.map(shellQuote).join(' ')} sweep --out "$SWEEP" --cell "$SLURM_ARRAY_TASK_ID" --threads ${opts.cpusPerTask}` +
      `${opts.runArgs.length ? ' ' + opts.runArgs.map(shellQuote).join(' ') : ''}`,
    '',
  ];
  return [...head, ...body].join('\n');
}
