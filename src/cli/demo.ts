/**
 * `npm start`: cross-entropy against the feature-balanced loss on the
 * long-tailed Fashion-MNIST shipped with the project, a short schedule, and a
 * table of overall / many / medium / few-shot / tail-class accuracy.
 */
import { join } from 'node:path';
import { resolveConfig, type LossName } from '../train/config.js';
import { train, type RunSummary } from '../train/run.js';
import type { ArchName } from '../nn/resnet.js';
import { rmSync } from 'node:fs';

export async function runDemo(opts: { epochs?: number; arch?: string; out: string }): Promise<number> {
  const epochs = opts.epochs ?? 4;
  const arch = (opts.arch ?? 'resnet20') as ArchName;
  const results: [string, RunSummary][] = [];
  for (const loss of ['ce', 'fbl'] as LossName[]) {
    const out = join(opts.out, loss);
    rmSync(out, { recursive: true, force: true });
    const cfg = resolveConfig({
      dataset: 'fashion-mnist-lt', arch, loss, epochs, warmup: 1, out, lambda: 10,
    });
    process.stderr.write(`\n== ${loss.toUpperCase()}: ${arch} on the shipped Fashion-MNIST-LT (rho=100), ${epochs} epochs ==\n`);
    results.push([loss, await train(cfg)]);
  }
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
  const rows = results.map(([loss, s]) => {
    const order = s.trainCounts.map((n, c) => [n, c] as const).sort((a, b) => a[0] - b[0]).slice(0, 3);
    const tail = order.reduce((sum, [, c]) => sum + s.last.perClass[c], 0) / order.length;
    return { loss, overall: pct(s.last.top1), best: pct(s.best.top1), many: pct(s.last.many), medium: pct(s.last.medium),
      few: pct(s.last.few), '3 smallest': pct(tail), 'img/s': s.last.imagesPerSec.toFixed(0), minutes: (s.wallSeconds / 60).toFixed(1) };
  });
  process.stdout.write('\nFashion-MNIST-LT (rho=100), test accuracy after the last epoch (best epoch in "best"):\n');
  const cols = Object.keys(rows[0]) as (keyof (typeof rows)[0])[];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(width[i])).join(' | ') + ' |\n';
  process.stdout.write(line(cols));
  process.stdout.write('|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|\n');
  for (const r of rows) process.stdout.write(line(cols.map((c) => String(r[c]))));
  process.stdout.write(`\nmany: classes with > 100 training images, medium: 20-100, few: < 20 (none here: the smallest has 60).\n` +
    `Runs, metrics and plots: ${opts.out}/ce and ${opts.out}/fbl\n`);
  return 0;
}
