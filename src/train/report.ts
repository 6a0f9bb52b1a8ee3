// The pictures of a run: training curves, per-class accuracy against class
// size (plain and re-scored post hoc), and feature norm per class.
import { lineChart, scatterChart, barChart } from '../plot/svg.js';
import type { EpochRecord } from './run.js';
import { POSTHOC_KINDS, POSTHOC_NAMES } from './posthoc.js';

export function runPlots(history: EpochRecord[], trainCounts: number[], classNames: string[], title: string): Record<string, string> {
  const last = history[history.length - 1];
  return {
    'curves.svg': lineChart({
      title: `${title}: training curves`,
      xLabel: 'epoch',
      yLabel: 'accuracy / loss',
      series: [
        { name: 'train loss', points: history.map((h) => [h.epoch, h.trainLoss] as const) },
        { name: 'train acc', points: history.map((h) => [h.epoch, h.trainAcc] as const) },
        { name: 'test top-1', points: history.map((h) => [h.epoch, h.top1] as const) },
        // Post-hoc re-scorings of the same evaluations (absent in records written before they existed).
        ...POSTHOC_KINDS.filter((k) => history.every((h) => h.posthoc?.[k])).map((k) => ({
          name: `test top-1, ${POSTHOC_NAMES[k]}`,
          points: history.map((h) => [h.epoch, h.posthoc![k]!.top1] as const),
        })),
      ],
    }),
    'per-class-accuracy.svg': scatterChart({
      title: `${title}: accuracy by class size, epoch ${last.epoch}`,
      xLabel: 'training images of the class (log)',
      yLabel: 'test accuracy',
      logX: true,
      yMin: 0,
      yMax: 1,
      series: [
        { name: 'logits', points: last.perClass.map((a, c) => [trainCounts[c], a] as const) },
        ...POSTHOC_KINDS.filter((k) => last.posthoc?.[k]).map((k) => ({
          name: POSTHOC_NAMES[k],
          points: last.posthoc![k]!.perClass.map((a, c) => [trainCounts[c], a] as const),
        })),
      ],
    }),
    'feature-norm.svg': barChart({
      title: `${title}: feature norm per class, epoch ${last.epoch}`,
      xLabel: 'class (largest first)',
      yLabel: '||f||',
      categories: classNames,
      series: [{ name: 'feature norm', values: last.featureNormPerClass }],
    }),
  };
}
