/**
 * `npm start`: cross-entropy against the feature-balanced loss on the
 * long-tailed Fashion-MNIST shipped with the project, a short schedule (the
 * `fashion-lt-demo` preset: a ResNet-8 for 3 epochs, sized to finish in a
 * newcomer's first minutes), and a table of overall / many / medium / few-shot
 * / tail-class accuracy. The two runs train side by side in two processes, one
 * core each.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary } from '../train/run.js';
import { PRESETS } from '../train/config.js';

export interface DemoOptions {
  epochs?: number;
  arch?: string;
  out: string;
  /** More `train` arguments for both runs (e.g. --limit-train for a quick look). */
  extraArgs?: string[];
}

/** The demo's model and schedule (and FBL's lambda): a preset, so that `train --preset fashion-lt-demo` repeats either run. */
export const DEMO_PRESET = 'fashion-lt-demo';

const LOSSES = [
  { name: 'ce', args: ['--loss', 'ce'] },
  { name: 'fbl', args: ['--loss', 'fbl'] },
];

function trainChild(name: string, args: string[]): Promise<void> {
  // The same entry point and loader flags as this process (dist/cli.js, or src/cli.ts under tsx).
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'train', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let pending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.trim()) process.stderr.write(`[${name}] ${line}\n`);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`the ${name} run failed (exit ${code}); see the lines marked [${name}] above`)),
    );
  });
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const preset = PRESETS[DEMO_PRESET];
  const epochs = opts.epochs ?? preset.epochs!;
  const arch = opts.arch ?? preset.arch!;
  process.stderr.write(
    `CE vs FBL (lambda ${preset.lambda}): ${arch} on the shipped Fashion-MNIST-LT (rho=100), ${epochs} epochs each, in two processes\n`,
  );
  // Two runs at once: each gets half the cores unless told otherwise.
  const extra = opts.extraArgs ?? [];
  const threads = extra.includes('--threads') ? [] : ['--threads', String(Math.max(1, Math.floor(availableParallelism() / 2)))];
  await Promise.all(
    LOSSES.map(({ name, args }) => {
      const out = join(opts.out, name);
      rmSync(out, { recursive: true, force: true });
      return trainChild(name, [
        '--preset',
        DEMO_PRESET,
        '--arch',
        arch,
        '--epochs',
        String(epochs),
        ...args,
        ...threads,
        ...extra,
        '--out',
        out,
      ]);
    }),
  );
  const results = LOSSES.map(
    ({ name }) => [name, JSON.parse(readFileSync(join(opts.out, name, 'summary.json'), 'utf8')) as RunSummary] as const,
  );
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
  const rows = results.map(([loss, s]) => {
    const smallest = s.trainCounts
      .map((n, c) => [n, c] as const)
      .sort((a, b) => a[0] - b[0])
      .slice(0, 3);
    const tail = smallest.reduce((sum, [, c]) => sum + s.last.perClass[c], 0) / smallest.length;
    return {
      loss,
      overall: pct(s.last.top1),
      best: pct(s.best.top1),
      many: pct(s.last.many),
      medium: pct(s.last.medium),
      few: pct(s.last.few),
      '3 smallest': pct(tail),
      'img/s': s.last.imagesPerSec.toFixed(0),
      minutes: (s.wallSeconds / 60).toFixed(1),
    };
  });
  process.stdout.write('\nFashion-MNIST-LT (rho=100), test accuracy after the last epoch (best epoch in "best"):\n');
  const cols = Object.keys(rows[0]) as (keyof (typeof rows)[0])[];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(width[i])).join(' | ') + ' |\n';
  process.stdout.write(line(cols));
  process.stdout.write('|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|\n');
  for (const r of rows) process.stdout.write(line(cols.map((c) => String(r[c]))));
  process.stdout.write(
    '\nmany: classes with > 100 training images, medium: 20-100, few: < 20 (none here: the smallest has 60).\n' +
      `"3 smallest": mean accuracy of the three classes with the fewest training images. Runs, metrics and plots: ${opts.out}/ce and ${opts.out}/fbl\n`,
  );
  return 0;
}
