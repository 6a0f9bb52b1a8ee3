/**
 * Post-hoc corrections of a trained model's scores, computed at evaluation
 * beside the plain logits (no retraining):
 *
 * - logit adjustment (Menon et al., ICLR 2021, eq. 8): z_j - tau log pi_j,
 *   pi the training class prior, tau = 1 by default;
 * - the tau-normalised classifier (Kang et al., ICLR 2020): each class's
 *   weight row w_j divided by ||w_j||^tau (tau = 1 by default), then the
 *   logits recomputed from the features. The bias, when passed, is kept as
 *   it is (as mmcls's TauNormHook, which rescales `fc.weight` in place);
 *   Kang et al.'s notebook scores features . w_j' without one: pass null.
 *
 * CPU arrays in and out: evaluation reads logits and features back anyway.
 * PosthocScorer accumulates both over the evaluation batches.
 */
import { argmax, groupAccuracy, perClassAccuracy } from './metrics.js';

/** Accuracy as the long-tail literature reports it. */
export interface ShotAccuracy {
  top1: number;
  many: number | null;
  medium: number | null;
  few: number | null;
  /** NaN for a class without test images. */
  perClass: number[];
}

export interface PosthocMetrics {
  logitAdjusted: ShotAccuracy;
  /** null without a linear classifier to normalise. */
  tauNorm: ShotAccuracy | null;
}

/** The re-scorings, as PosthocMetrics's keys, and their names in tables and plots. */
export const POSTHOC_KINDS = ['logitAdjusted', 'tauNorm'] as const satisfies readonly (keyof PosthocMetrics)[];
export type PosthocKind = (typeof POSTHOC_KINDS)[number];
export const POSTHOC_NAMES: Record<PosthocKind, string> = { logitAdjusted: 'logit adjusted', tauNorm: 'τ-normalised' };

function checkPositiveCounts(trainCounts: ArrayLike<number>, c: number, op: string): void {
  if (trainCounts.length !== c) throw new RangeError(`${op}: ${trainCounts.length} class counts for ${c} classes`);
  for (let j = 0; j < c; j++) {
    if (!(trainCounts[j] > 0))
      throw new RangeError(`${op}: class ${j} has ${trainCounts[j]} training images; the prior needs every count > 0`);
  }
}

/** z - tau log pi for logits [N, C] (row-major), pi_j = n_j / sum n. */
export function logitAdjustedLogits(logits: Float32Array, trainCounts: ArrayLike<number>, tau = 1): Float32Array {
  const c = trainCounts.length;
  checkPositiveCounts(trainCounts, c, 'logitAdjustedLogits');
  if (logits.length % c !== 0) throw new RangeError(`logitAdjustedLogits: ${logits.length} logits are not rows of ${c} classes`);
  let total = 0;
  for (let j = 0; j < c; j++) total += trainCounts[j];
  const offset = Float64Array.from({ length: c }, (_, j) => tau * Math.log(trainCounts[j] / total));
  return logits.map((z, k) => z - offset[k % c]);
}

/** Each row of weight [C, D] divided by its L2 norm to the power tau (Kang et al.'s pnorm); an all-zero row stays zero. */
export function tauNormalizedWeight(weight: Float32Array, numClasses: number, tau = 1): Float32Array {
  if (weight.length % numClasses !== 0) throw new RangeError(`tauNormalizedWeight: ${weight.length} weights are not ${numClasses} rows`);
  const d = weight.length / numClasses;
  const out = new Float32Array(weight.length);
  for (let j = 0; j < numClasses; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += weight[j * d + k] ** 2;
    const scale = s > 0 ? Math.sqrt(s) ** -tau : 1;
    for (let k = 0; k < d; k++) out[j * d + k] = weight[j * d + k] * scale;
  }
  return out;
}

/** features [N, D] . weight[C, D]^T + bias, in float64 sums. */
function classifierLogits(features: Float32Array, weight: Float32Array, bias: Float32Array | null, numClasses: number): Float32Array {
  const d = weight.length / numClasses;
  if (!Number.isInteger(d) || features.length % d !== 0) {
    throw new RangeError(
      `tauNormalizedLogits: features (${features.length} values) and weight [${numClasses}, ${weight.length / numClasses}] do not fit`,
    );
  }
  if (bias && bias.length !== numClasses) throw new RangeError(`tauNormalizedLogits: ${bias.length} biases for ${numClasses} classes`);
  const n = features.length / d;
  const out = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < numClasses; j++) {
      let s = bias ? bias[j] : 0;
      for (let k = 0; k < d; k++) s += features[i * d + k] * weight[j * d + k];
      out[i * numClasses + j] = s;
    }
  }
  return out;
}

/** features [N, D] . (tau-normalised weight [C, D])^T + bias: the tau-norm classifier's logits. */
export function tauNormalizedLogits(
  features: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  numClasses: number,
  tau = 1,
): Float32Array {
  return classifierLogits(features, tauNormalizedWeight(weight, numClasses, tau), bias, numClasses);
}

/** A confusion matrix into which batches of logits are scored, read out with the shared metrics (metrics.ts). */
class AccuracyCounts {
  readonly confusion: number[][];
  constructor(readonly numClasses: number) {
    this.confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  }

  /** Scores logits [N, C]: the prediction is the first largest logit, as evaluate()'s. */
  add(logits: Float32Array, labels: ArrayLike<number>): void {
    for (let i = 0; i < labels.length; i++) this.confusion[labels[i]][argmax(logits, i * this.numClasses, this.numClasses)]++;
  }

  /** top-1, many / medium / few (metrics.ts's shotGroup: > 100, 20-100, < 20 training images) and per class. */
  result(trainCounts: ArrayLike<number>): ShotAccuracy {
    const counts = Array.from(trainCounts);
    const hit = this.confusion.reduce((s, row, c) => s + row[c], 0);
    const total = this.confusion.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
    return {
      top1: total ? hit / total : NaN,
      many: groupAccuracy(this.confusion, counts, 'many'),
      medium: groupAccuracy(this.confusion, counts, 'medium'),
      few: groupAccuracy(this.confusion, counts, 'few'),
      perClass: perClassAccuracy(this.confusion),
    };
  }
}

/** Shot-group accuracy of one set of logits [N, C]. */
export function shotAccuracy(logits: Float32Array, labels: ArrayLike<number>, trainCounts: ArrayLike<number>): ShotAccuracy {
  const counts = new AccuracyCounts(trainCounts.length);
  counts.add(logits, labels);
  return counts.result(trainCounts);
}

export interface PosthocOptions {
  /** Training images per class (the prior, and the shot groups). */
  trainCounts: ArrayLike<number>;
  /**
   * The linear classifier's weight [C, D] (CifarResNet's `linear.weight`
   * with classifier 'linear'), read once before scoring; null for the cosine
   * classifier ('normed', weight [D, C], columns already normalised in the
   * forward pass), which has nothing to tau-normalise: tauNorm is then null.
   */
  weight: Float32Array | null;
  /** Its bias [C], or null to score without one. */
  bias: Float32Array | null;
  /** Logit adjustment's tau (default 1). */
  adjustTau?: number;
  /**
   * The factor the training loss put on the logits before its softmax
   * (default 1; LDAM's s = 30 on the cosine classifier, whose raw logits lie
   * in [-1, 1]). Logit adjustment acts on the scores the softmax saw: on raw
   * cosines, log-prior offsets of up to log(rho) would swamp them.
   */
  logitScale?: number;
  /** The weight-norm power of the tau-normalised classifier (default 1). */
  normTau?: number;
}

/**
 * Both post-hoc scores over the evaluation batches: add() each batch's
 * logits [B, C], features [B, D] and labels, then result(). The normalised
 * weight is computed once here.
 */
export class PosthocScorer {
  private readonly adjusted: AccuracyCounts;
  private readonly normed: AccuracyCounts | null;
  private readonly normedWeight: Float32Array | null;
  private readonly numClasses: number;

  constructor(private readonly options: PosthocOptions) {
    this.numClasses = options.trainCounts.length;
    checkPositiveCounts(options.trainCounts, this.numClasses, 'PosthocScorer');
    if (options.weight && options.weight.length % this.numClasses !== 0) {
      throw new RangeError(
        `PosthocScorer: a weight of ${options.weight.length} values is not ${this.numClasses} class rows (a linear classifier's [C, D])`,
      );
    }
    this.adjusted = new AccuracyCounts(this.numClasses);
    this.normed = options.weight ? new AccuracyCounts(this.numClasses) : null;
    this.normedWeight = options.weight ? tauNormalizedWeight(options.weight, this.numClasses, options.normTau ?? 1) : null;
  }

  add(logits: Float32Array, features: Float32Array, labels: ArrayLike<number>): void {
    const scale = this.options.logitScale ?? 1;
    const scores = scale === 1 ? logits : logits.map((z) => z * scale);
    this.adjusted.add(logitAdjustedLogits(scores, this.options.trainCounts, this.options.adjustTau ?? 1), labels);
    if (this.normed) this.normed.add(classifierLogits(features, this.normedWeight!, this.options.bias, this.numClasses), labels);
  }

  result(): PosthocMetrics {
    return {
      logitAdjusted: this.adjusted.result(this.options.trainCounts),
      tauNorm: this.normed ? this.normed.result(this.options.trainCounts) : null,
    };
  }
}
