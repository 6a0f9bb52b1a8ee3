// Markdown tables for docs/RESULTS.md from finished run folders:
//   npx tsx scripts/results-table.ts runs/fmnist30/ce runs/fmnist30/fbl-l60 ...
// A run folder needs summary.json (written when the run ends).
import { readFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { RunSummary } from '../src/train/run.js';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: tsx scripts/results-table.ts RUN_DIR...');
  process.exit(2);
}
const runs = dirs
  .filter((d) => existsSync(join(d, 'summary.json')))
  .map((d) => ({
    name: basename(d),
    s: JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')) as RunSummary,
  }));
const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : (100 * v).toFixed(2));
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

const s0 = runs[0].s;
const bySize = s0.trainCounts.map((n, c) => [n, c] as const).sort((a, b) => a[0] - b[0]);
const smallest = bySize.slice(0, 3).map(([, c]) => c);

console.log(
  row(['run', 'loss', 'λ', 'curriculum', 'top-1 last', 'top-1 best (epoch)', 'many', 'medium', 'few', '3 smallest', 'img/s', 'wall']),
);
console.log(row(Array(12).fill('---')));
for (const { name, s } of runs) {
  const tail = smallest.reduce((a, c) => a + s.last.perClass[c], 0) / smallest.length;
  console.log(
    row([
      name,
      s.config.loss,
      s.config.loss === 'fbl' ? s.config.lambda : '',
      s.config.loss === 'fbl' ? s.config.curriculum : '',
      pct(s.last.top1),
      `${pct(s.best.top1)} (${s.best.epoch})`,
      pct(s.last.many),
      pct(s.last.medium),
      pct(s.last.few),
      pct(tail),
      s.last.imagesPerSec.toFixed(1),
      `${(s.wallSeconds / 60).toFixed(0)} min`,
    ]),
  );
}
console.log(`\nPer-class test accuracy (%) after the last epoch; classes by training images, largest first:\n`);
const order = [...bySize].reverse().map(([, c]) => c);
console.log(row(['run', ...order.map((c) => `${s0.classNames[c]} (${s0.trainCounts[c]})`)]));
console.log(row(Array(order.length + 1).fill('---')));
for (const { name, s } of runs) console.log(row([name, ...order.map((c) => pct(s.last.perClass[c]))]));
console.log(`\nMean feature norm ||f|| per class on the test set, last epoch:\n`);
console.log(row(['run', ...order.map((c) => s0.classNames[c])]));
console.log(row(Array(order.length + 1).fill('---')));
for (const { name, s } of runs) console.log(row([name, ...order.map((c) => s.last.featureNormPerClass[c].toFixed(2))]));

// Comparison plots across the runs, when asked: --plots DIR (after the run folders).
const plotsAt = process.argv.indexOf('--plots');
if (plotsAt > 0) {
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const { lineChart, scatterChart, barChart } = await import('../src/plot/svg.js');
  const out = process.argv[plotsAt + 1];
  mkdirSync(out, { recursive: true });
  const history = (d: string) =>
    readFileSync(join(d, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const named = dirs.filter((d) => existsSync(join(d, 'summary.json')));
  writeFileSync(
    join(out, 'test-top1.svg'),
    lineChart({
      title: 'Test top-1 accuracy by epoch',
      xLabel: 'epoch',
      yLabel: 'top-1',
      series: named.map((d) => ({ name: basename(d), points: history(d).map((h) => [h.epoch, h.top1] as const) })),
    }),
  );
  writeFileSync(
    join(out, 'per-class-accuracy.svg'),
    scatterChart({
      title: 'Per-class test accuracy against training images (last epoch)',
      xLabel: 'training images of the class (log)',
      yLabel: 'accuracy',
      logX: true,
      yMin: 0,
      yMax: 1,
      series: runs.map(({ name, s }) => ({ name, points: s.last.perClass.map((a, c) => [s.trainCounts[c], a] as const) })),
    }),
  );
  writeFileSync(
    join(out, 'feature-norm.svg'),
    barChart({
      title: 'Mean feature norm per class on the test set (last epoch)',
      xLabel: 'class (largest first)',
      yLabel: '||f||',
      categories: order.map((c) => s0.classNames[c]),
      series: runs.map(({ name, s }) => ({ name, values: order.map((c) => s.last.featureNormPerClass[c]) })),
    }),
  );
  console.log(`\nplots written to ${out}/`);
}
