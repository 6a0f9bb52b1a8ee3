// Feature-balanced loss (Li, Cheung, Jiang, ICME 2022) with its curriculum.
import { type Tensor, full, tensor } from '../tensor.js';
import { add, crossEntropy, div, featureBalanceWeights, featureBalancedLoss, mul, sqrt, sub, sumTo } from '../ops/index.js';
import { checkBatch, checkCounts } from './common.js';

/** How the curriculum factor grows with the epoch; see fblCurriculum. */
export type CurriculumSchedule = 'relative' | 'reference';

/**
 * The curriculum factor curr of epoch `epoch` (0-based) of `epochs`:
 *
 * - 'reference': (epoch / (epochs - 10))^2, exactly the reference code. It is
 *   tuned to 200 epochs (about 0.71 at the first lr drop, 1.10 at the end);
 *   on shorter runs it grows far faster (2.1 at the end of 30 epochs), which
 *   over-corrects towards the tail.
 * - 'relative' (default): (epoch / (0.95 * epochs))^2, the same curve on any
 *   schedule length, identical to 'reference' at 200 epochs (0.95 * 200 = 190
 *   = 200 - 10).
 */
export function fblCurriculum(epoch: number, epochs: number, schedule: CurriculumSchedule = 'relative'): number {
  if (!(epoch >= 0) || !Number.isFinite(epoch))
    throw new Error(`wasmtail: fblCurriculum(): epoch must be a non-negative number, got ${epoch}`);
  if (!(epochs > 0) || !Number.isFinite(epochs)) throw new Error(`wasmtail: fblCurriculum(): epochs must be positive, got ${epochs}`);
  let span: number;
  if (schedule === 'reference') {
    if (!(epochs > 10))
      throw new Error(
        `wasmtail: fblCurriculum(): the 'reference' schedule divides by epochs - 10 and needs more than 10 epochs, got ${epochs}`,
      );
    span = epochs - 10;
  } else if (schedule === 'relative') {
    span = 0.95 * epochs;
  } else {
    throw new Error(`wasmtail: fblCurriculum(): unknown schedule '${String(schedule)}' (expected 'relative' or 'reference')`);
  }
  return (epoch / span) ** 2;
}

/**
 * A curriculum as an object: curr at unit `index` (0-based) of `length`. The
 * shape of the trainer's schedules (src/train/schedules.ts, whose
 * fblCurriculumSchedule gives the named ones), so a new curve needs no new name here.
 */
export interface Curriculum {
  at(position: { index: number; length: number }): number;
}

export interface FeatureBalancedConfig {
  /** Training images per class, n_j. */
  classCounts: ArrayLike<number>;
  /** Stimulus scale: 60 for CIFAR in the paper (the default), 150 for ImageNet-LT / iNaturalist. */
  lambda?: number;
  /** Current epoch, 0-based. */
  epoch: number;
  /** Length of the run in epochs. */
  epochs: number;
  /** Curriculum schedule, by name or as an object (default 'relative'). */
  schedule?: CurriculumSchedule | Curriculum;
  /** Per-class weights (length C), torch's `weight=` on the cross-entropy (a weighted mean), e.g. from drwSchedule. */
  weights?: ArrayLike<number> | null;
}

/**
 * Feature-balanced loss, mean over the batch: cross-entropy on
 * z_j - curr * lambda * lam_j / ||f||, with curr = fblCurriculum(epoch, epochs,
 * schedule) (or schedule.at({ index: epoch, length: epochs })) and lam_j = featureBalanceWeights(classCounts). logits [N, C],
 * features [N, D] (the pooled vector before the classifier); the gradient
 * reaches both. At evaluation the plain logits are used.
 */
export function featureBalanced(
  logits: Tensor,
  features: Tensor,
  labels: Int32Array | ArrayLike<number>,
  config: FeatureBalancedConfig,
): Tensor {
  const { schedule = 'relative' } = config;
  const curr =
    typeof schedule === 'object'
      ? schedule.at({ index: config.epoch, length: config.epochs })
      : fblCurriculum(config.epoch, config.epochs, schedule);
  const lambda = config.lambda ?? 60;
  if (!config.weights) return featureBalancedLoss(logits, features, labels, { classCounts: config.classCounts, lambda, curr });
  return weightedFeatureBalanced(logits, features, labels, config.classCounts, lambda * curr, config.weights);
}

/**
 * The weighted form, composed from ops because the fused kernel has no
 * weights: cross_entropy(z - s / (||f|| + 1e-12), y, weight=w) with
 * s_j = curr * lambda * lam_j, the kernel's formula term for term.
 */
function weightedFeatureBalanced(
  logits: Tensor,
  features: Tensor,
  labels: Int32Array | ArrayLike<number>,
  classCounts: ArrayLike<number>,
  strength: number,
  weights: ArrayLike<number>,
): Tensor {
  const { n, c, y } = checkBatch(logits, labels, 'featureBalanced');
  checkCounts(classCounts, 'featureBalanced', c);
  if (weights.length !== c) throw new Error(`wasmtail: featureBalanced(): ${weights.length} class weights for ${c} classes`);
  const stimulus = tensor(
    Float32Array.from(featureBalanceWeights(classCounts), (v) => strength * v),
    [1, c],
  );
  const norm = add(sqrt(sumTo(mul(features, features), [n, 1])), full([1, 1], 1e-12));
  return crossEntropy(sub(logits, div(stimulus, norm)), y, { weights: Float32Array.from(weights) });
}
