/**
 * Schedules: values that change over a run, as small objects the trainer asks
 * at every step. The unit is whatever the face counts: epochs for the CLI's
 * recipe, steps for the web demo's short runs. Pure TypeScript, no Node imports.
 *
 * The learning rate (TrainingParts.learningRate, read by trainStep) and FBL's
 * curriculum (given to makeLoss('fbl', { schedule }), read by the loss at the
 * same position). LDAM's deferred re-weighting is still a formula of the loss
 * (drwWeights in src/losses/ldam.ts); it, and a later hook such as mixing,
 * would be one more schedule here, read where the curriculum or the lr is.
 */
import { fblCurriculum, type CurriculumSchedule } from '../losses/featureBalanced.js';

/** Where a run stands: unit `index` (0-based) of `length` (epochs, or steps). */
export interface Position {
  index: number;
  length: number;
}

/** A value of the run's position. */
export interface Schedule<T = number> {
  at(position: Position): T;
}

export interface WarmupStepDecayOptions {
  /** The base learning rate. */
  lr: number;
  /** Units of linear warm-up: unit u (1-based) <= warmup runs at lr * u / warmup. */
  warmup: number;
  /** Units (1-based, exclusive) after which the two drops apply. */
  milestones: readonly [number, number];
  /** The multipliers of lr after the first and after the second milestone. */
  factors: readonly [number, number];
}

/** Linear warm-up, then two step drops (the FBL recipe's, ../shared/RECIPE.md: x0.01 and x0.0001). */
export function warmupStepDecay({
  lr,
  warmup,
  milestones: [first, second],
  factors: [afterFirst, afterSecond],
}: WarmupStepDecayOptions): Schedule {
  return {
    at({ index }) {
      const unit = index + 1;
      if (unit <= warmup) return (lr * unit) / warmup;
      if (unit > second) return lr * afterSecond;
      if (unit > first) return lr * afterFirst;
      return lr;
    },
  };
}

/** The same value throughout (the benches' fixed learning rate). */
export function constant(value: number): Schedule {
  return { at: () => value };
}

/** FBL's curriculum factor by name ('relative' or 'reference', src/losses/featureBalanced.ts). */
export function fblCurriculumSchedule(kind: CurriculumSchedule): Schedule {
  return { at: ({ index, length }) => fblCurriculum(index, length, kind) };
}
