// The report's pictures: per-class accuracy against class size (mean over a
// group's runs, ± one sample std, points named by class), and top-1 per group.
import { barChart, scatterChart } from '../plot/svg.js';
import { hasPosthoc, smallestClass, type Group } from './groups.js';
import { POSTHOC_KINDS, POSTHOC_NAMES } from '../train/posthoc.js';

export function reportPlots(groups: Group[]): Record<string, string> {
  const lows = groups.map((g) => (g.top1.mean ?? 1) - (g.top1.std ?? 0));
  const highs = groups.map((g) => (g.top1.mean ?? 0) + (g.top1.std ?? 0));
  const spread = Math.max(0.01, Math.max(...highs) - Math.min(...lows));
  return {
    'per-class-accuracy.svg': scatterChart({
      title: 'Test accuracy by class size (mean ± std over seeds)',
      xLabel: 'training images of the class (log)',
      yLabel: 'test accuracy',
      logX: true,
      yMin: 0,
      yMax: 1,
      width: 860,
      height: 520,
      series: groups.map((g, i) => ({
        name: `${g.label} (n = ${g.n})`,
        points: g.perClass.map((s, c) => [g.trainCounts[c], s.mean ?? NaN] as const),
        errors: g.perClass.map((s) => s.std ?? NaN),
        // The classes are the same in every group: one set of names is enough.
        ...(i === 0 ? { labels: g.classNames } : {}),
      })),
    }),
    'top1.svg': barChart({
      title: 'Test top-1 after the last epoch (mean ± std over seeds)',
      yLabel: 'top-1',
      width: 860,
      yMin: Math.max(0, Math.min(...lows) - spread),
      yMax: Math.min(1, Math.max(...highs) + spread / 2),
      categories: groups.map((g) => g.label),
      series: [{ name: 'top-1', values: groups.map((g) => g.top1.mean ?? NaN), errors: groups.map((g) => g.top1.std ?? NaN) }],
    }),
    ...(hasPosthoc(groups) ? { 'posthoc.svg': posthocPlot(groups) } : {}),
  };
}

/** Each group's accuracy on its smallest class, plain and re-scored post hoc: where the re-scorings act. */
function posthocPlot(groups: Group[]): string {
  const tail = smallestClass(groups[0].trainCounts);
  return barChart({
    title: `Post-hoc re-scoring: top-1 and the smallest class (${groups[0].classNames[tail]}), mean ± std over seeds`,
    yLabel: 'test accuracy',
    width: 860,
    yMin: 0,
    yMax: 1,
    categories: groups.flatMap((g) => [`${g.label}: top-1`, `${g.label}: ${groups[0].classNames[tail]}`]),
    series: [
      { name: 'logits', stats: groups.flatMap((g) => [g.top1, g.perClass[tail]]) },
      ...POSTHOC_KINDS.map((k) => ({
        name: POSTHOC_NAMES[k],
        stats: groups.flatMap((g) => [g.posthoc[k]?.top1, g.posthoc[k]?.perClass[tail]]),
      })),
    ].map(({ name, stats }) => ({ name, values: stats.map((s) => s?.mean ?? NaN), errors: stats.map((s) => s?.std ?? NaN) })),
  });
}
