/**
 * Schedules: values that change over a run, as small objects the trainer asks
 * at every step. The unit is whatever the face counts: epochs for the CLI's
 * recipe, steps for the web demo's short runs. Pure TypeScript, no Node imports.
 *
 * Today: the learning rate. The FBL curriculum and LDAM's deferred
 * re-weighting (DRW) are schedules of the loss, read from the same Position
 * inside Loss.compute (src/losses/factory.ts: fblCurriculum, drwWeights); a
 * later schedule or hook (mixing, say) is one more field of TrainingParts
 * read in trainStep (src/train/trainer.ts).
 */

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
export function warmupStepDecay({ lr, warmup, milestones: [first, second], factors: [afterFirst, afterSecond] }: WarmupStepDecayOptions): Schedule {
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
