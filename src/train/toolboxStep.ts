/**
 * The long-tail toolbox's part of a training step: deferred re-weighting
 * (class weights from drwEpoch on, passed to any loss) and MixUp / CutMix
 * (the batch mixed by a BatchMixer, the loss the lambda-weighted sum over the
 * two label sets). Pure TypeScript, no Node imports.
 */
import { drwSchedule } from '../losses/drw.js';
import type { Loss } from '../losses/factory.js';
import { BatchMixer, mixedLoss } from '../losses/mixing.js';
import type { ToolboxOptions } from './toolboxOptions.js';
import type { StepPreparer } from './trainer.js';

export interface ToolboxStep {
  /** Absent when neither DRW nor mixing is on: the trainer's plain step, unchanged. */
  prepareStep?: StepPreparer;
  /** The mixer whose generator state a checkpoint carries; null without mixing. */
  mixer: BatchMixer | null;
}

/** The step preparer for `options`; the mixer draws from MT19937(mixerSeed). */
export function toolboxStep(
  options: ToolboxOptions & { epochs: number },
  loss: Loss,
  trainCounts: ArrayLike<number>,
  mixerSeed: number,
): ToolboxStep {
  const drw = options.drw
    ? drwSchedule(trainCounts, { epochs: options.epochs, ...(options.drwEpoch !== null ? { drwEpoch: options.drwEpoch } : {}) })
    : null;
  const mode = options.mixup !== null ? 'mixup' : options.cutmix !== null ? 'cutmix' : null;
  const mixer = mode && new BatchMixer({ mode, alpha: (options.mixup ?? options.cutmix)!, until: options.mixUntil, seed: mixerSeed });
  if (!drw && !mixer) return { mixer: null };
  return {
    mixer,
    prepareStep: (batch, { index, length }) => {
      const weights = drw?.weightsAt(index) ?? null;
      const lossOf = (out: Parameters<Loss['compute']>[0], labels: Int32Array) => loss.compute(out, labels, index, length, weights);
      const mixed = mixer?.mix(batch.x, batch.shape, batch.y, index, length) ?? null;
      if (!mixed) return { x: batch.x, loss: (out) => lossOf(out, batch.y) };
      return { x: mixed.x, loss: (out) => mixedLoss(lossOf, out.logits, out.features, mixed.labelsA, mixed.labelsB, mixed.lambda) };
    },
  };
}
