// makeLoss: a loss chosen by name, with its constants and per-epoch schedule,
// in the form the trainer calls every step.
import type { Tensor } from '../tensor.js';
import { crossEntropy } from '../ops/index.js';
import { classBalanced } from './classBalanced.js';
import { checkCounts } from './common.js';
import { featureBalanced, type Curriculum, type CurriculumSchedule } from './featureBalanced.js';
import { focal } from './focal.js';
import { drwWeights, ldam } from './ldam.js';
import { logitAdjusted } from './logitAdjusted.js';

export const LOSS_NAMES = ['ce', 'fbl', 'focal', 'ldam-drw', 'cb', 'balanced-softmax'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

export interface LossConfig {
  /** Training images per class, n_j (every loss but 'ce' uses them). */
  classCounts: ArrayLike<number>;
  /** 'fbl': stimulus scale (default 60). */
  lambda?: number;
  /** 'fbl': curriculum schedule, by name or as an object (default 'relative'). */
  schedule?: CurriculumSchedule | Curriculum;
  /** 'focal': focusing parameter (default 1). */
  gamma?: number;
  /** 'ldam-drw': largest margin (default 0.5). */
  maxM?: number;
  /** 'ldam-drw': logit scale (default 30). */
  s?: number;
  /** 'ldam-drw': first re-weighted epoch, 0-based (default round(0.8 * epochs): 160 of 200). */
  drwEpoch?: number;
  /** 'cb' and 'ldam-drw': effective-number beta (default 0.9999). */
  beta?: number;
  /** 'balanced-softmax': logit adjustment scale (default 1). */
  tau?: number;
}

/** The model's output as the trainer has it: logits [N, C], features [N, D]. */
export interface LossInput {
  logits: Tensor;
  features?: Tensor;
}

export interface Loss {
  readonly name: LossName;
  /** True when compute() reads out.features (the feature-balanced loss). */
  readonly needsFeatures: boolean;
  /**
   * The training loss of one batch (a scalar, mean over the batch) at epoch
   * `epoch` (0-based) of `epochs`. `classWeights` (length C, e.g. a
   * drwSchedule's weights for the epoch) weight the cross-entropy inside the
   * loss, as torch's `weight=`; 'ldam-drw' and 'cb' re-weight by themselves
   * and refuse them.
   */
  compute(
    out: LossInput,
    labels: Int32Array | ArrayLike<number>,
    epoch: number,
    epochs: number,
    classWeights?: ArrayLike<number> | null,
  ): Tensor;
}

/**
 * A training loss by name. Per-class constants are checked here and rebuilt
 * as tensors in each compute() (C values: negligible next to the network),
 * so nothing outlives a step or ties the loss to one backend.
 * Evaluation uses the plain logits for every loss.
 */
export function makeLoss(name: LossName, config: LossConfig): Loss {
  const classCounts = checkCounts(config.classCounts, 'makeLoss');
  const counts = { classCounts };
  const selfWeighted = (weights: ArrayLike<number> | null | undefined) => {
    if (weights) throw new Error(`wasmtail: the '${name}' loss re-weights classes by itself and takes no extra class weights`);
  };
  switch (name) {
    case 'ce':
      return {
        name,
        needsFeatures: false,
        compute: (out, labels, _epoch, _epochs, weights) =>
          crossEntropy(out.logits, labels, { weights: weights ? Float32Array.from(weights) : null }),
      };
    case 'fbl':
      return {
        name,
        needsFeatures: true,
        compute: (out, labels, epoch, epochs, weights) => {
          if (!out.features) throw new Error("wasmtail: the 'fbl' loss needs the model's features (out.features)");
          return featureBalanced(out.logits, out.features, labels, {
            ...counts,
            lambda: config.lambda,
            epoch,
            epochs,
            schedule: config.schedule,
            weights,
          });
        },
      };
    case 'focal':
      return {
        name,
        needsFeatures: false,
        compute: (out, labels, _epoch, _epochs, weights) => focal(out.logits, labels, { gamma: config.gamma, weights }),
      };
    case 'ldam-drw':
      return {
        name,
        needsFeatures: false,
        compute: (out, labels, epoch, epochs, extra) => {
          selfWeighted(extra);
          const weights = drwWeights(classCounts, epoch, config.drwEpoch ?? Math.round(0.8 * epochs), config.beta);
          return ldam(out.logits, labels, { ...counts, maxM: config.maxM, s: config.s, weights });
        },
      };
    case 'cb':
      return {
        name,
        needsFeatures: false,
        compute: (out, labels, _epoch, _epochs, extra) => {
          selfWeighted(extra);
          return classBalanced(out.logits, labels, { ...counts, beta: config.beta });
        },
      };
    case 'balanced-softmax':
      return {
        name,
        needsFeatures: false,
        compute: (out, labels, _epoch, _epochs, weights) => logitAdjusted(out.logits, labels, { ...counts, tau: config.tau, weights }),
      };
    default:
      throw new Error(`wasmtail: makeLoss(): unknown loss '${String(name)}' (expected one of ${LOSS_NAMES.join(', ')})`);
  }
}
