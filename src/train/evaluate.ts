/**
 * Evaluation as the long-tail literature reports it: top-1, top-5,
 * per-class accuracy, many / medium / few-shot accuracy (classes with > 100,
 * 20-100, < 20 training images), the mean feature norm per class (what FBL
 * acts on) and the confusion matrix; beside them, the post-hoc scores
 * (logit adjustment and the tau-normalised classifier, posthoc.ts) of the
 * same forward passes.
 */
import type { Dataset } from '../data/dataset.js';
import { evalBatches } from '../data/batches.js';
import { noGrad } from '../autograd/node.js';
import { tensor } from '../tensor.js';
import type { CifarResNet } from '../nn/resnet.js';
import { Linear } from '../nn/layers.js';
import { PosthocScorer, type PosthocMetrics } from './posthoc.js';
import { LDAM_SCALE } from '../losses/ldam.js';
import { argmax, groupAccuracy, perClassAccuracy } from './metrics.js';

export interface EvalMetrics {
  top1: number;
  top5: number;
  many: number | null;
  medium: number | null;
  few: number | null;
  perClass: number[];
  featureNormPerClass: number[];
  /** Logit-adjusted and tau-normalised accuracy (tauNorm null for LDAM's cosine classifier). */
  posthoc: PosthocMetrics;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  n: number;
}

export async function evaluate(
  model: CifarResNet,
  ds: Dataset,
  opts: {
    batchSize: number;
    mean: readonly number[];
    std: readonly number[];
    trainCounts: number[];
    /** tau of both post-hoc scores (default 1). */
    posthocTau?: number;
  },
): Promise<EvalMetrics> {
  const C = ds.numClasses;
  // Refused before any kernel runs: logits of another width would be read in rows of C, past their end.
  if (model.opts.numClasses !== C) {
    throw new Error(`evaluate(): the model has ${model.opts.numClasses} classes but the data set has ${C}`);
  }
  if (model.opts.inChannels !== ds.c) {
    throw new Error(`evaluate(): the model takes ${model.opts.inChannels}-channel images but the data set has ${ds.c}-channel images`);
  }
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const normSum = new Array<number>(C).fill(0);
  let top5Hits = 0;
  const k = Math.min(5, C);
  const tau = opts.posthocTau ?? 1;
  // The cosine classifier (LDAM) has unit columns already: nothing to tau-normalise.
  const linear = model.linear instanceof Linear ? model.linear : null;
  const posthoc = new PosthocScorer({
    // A class absent from a cut training set (--limit-train) counts as one image, as the losses' counts do.
    trainCounts: opts.trainCounts.map((n) => Math.max(1, n)),
    weight: linear && (await linear.weight.data()),
    bias: linear && (await linear.bias.data()),
    adjustTau: tau,
    normTau: tau,
    // The cosine classifier is LDAM's, trained on s * cos (the trainer never sets another s).
    logitScale: linear ? 1 : LDAM_SCALE,
  });
  const wasTraining = model.training;
  model.eval();
  for (const b of evalBatches(ds, opts)) {
    const { logits, features } = noGrad(() => model.forward(tensor(b.x, b.shape)));
    // Read before the next forward() ends this step and frees both.
    const [z, f] = await Promise.all([logits.data(), features.data()]);
    const d = features.shape[1];
    posthoc.add(z, f, b.y);
    for (let i = 0; i < b.y.length; i++) {
      const row = z.subarray(i * C, (i + 1) * C);
      confusion[b.y[i]][argmax(row)]++;
      // Top-k: the true class is among the k largest when fewer than k logits beat it.
      let above = 0;
      for (let j = 0; j < C; j++) if (row[j] > row[b.y[i]]) above++;
      if (above < k) top5Hits++;
      let norm = 0;
      for (let j = 0; j < d; j++) norm += f[i * d + j] ** 2;
      normSum[b.y[i]] += Math.sqrt(norm);
    }
  }
  model.train(wasTraining);
  const perClassTotal = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const n = perClassTotal.reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((s, row, c) => s + row[c], 0);
  return {
    top1: correct / n,
    top5: top5Hits / n,
    many: groupAccuracy(confusion, opts.trainCounts, 'many'),
    medium: groupAccuracy(confusion, opts.trainCounts, 'medium'),
    few: groupAccuracy(confusion, opts.trainCounts, 'few'),
    perClass: perClassAccuracy(confusion),
    featureNormPerClass: normSum.map((s, c) => (perClassTotal[c] ? s / perClassTotal[c] : NaN)),
    posthoc: posthoc.result(),
    confusion,
    n,
  };
}
