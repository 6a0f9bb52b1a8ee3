// Deferred re-weighting (Cao et al., NeurIPS 2019) for any loss: a schedule
// the trainer asks once per epoch for the class weights to pass to the loss.
import { classBalancedWeights } from './classBalanced.js';
import { checkCounts } from './common.js';

/** Per-class weights by epoch: null where the loss runs unweighted. */
export interface ClassWeightSchedule {
  /** Weights (length C, summing to C) for `epoch` (0-based), or null for none. */
  weightsAt(epoch: number): Float64Array | null;
}

export interface DrwOptions {
  /** Length of the run in epochs. */
  epochs: number;
  /** First re-weighted epoch, 0-based; default round(0.8 * epochs), LDAM-DRW's 160 of 200. */
  drwEpoch?: number;
  /** Effective-number beta (default 0.9999). */
  beta?: number;
}

/**
 * DRW: no weights before `drwEpoch`, then classBalancedWeights(classCounts,
 * beta), w_c proportional to (1 - beta) / (1 - beta^{n_c}), summing to C.
 * Before the switch LDAM-DRW's code passes beta = 0 weights, all ones, which
 * is the unweighted loss: `ldam(z, y, { weights: drwSchedule(...).weightsAt(e) })`
 * equals `makeLoss('ldam-drw')` at every epoch (test/losses/toolbox.test.ts).
 */
export function drwSchedule(classCounts: ArrayLike<number>, options: DrwOptions): ClassWeightSchedule {
  const counts = checkCounts(classCounts, 'drwSchedule');
  const { epochs } = options;
  if (!(Number.isInteger(epochs) && epochs > 0))
    throw new Error(`wasmtail: drwSchedule(): epochs must be a positive integer, got ${epochs}`);
  const drwEpoch = options.drwEpoch ?? Math.round(0.8 * epochs);
  if (!(Number.isInteger(drwEpoch) && drwEpoch >= 0))
    throw new Error(`wasmtail: drwSchedule(): drwEpoch must be a non-negative integer, got ${drwEpoch}`);
  const weights = classBalancedWeights(counts, options.beta ?? 0.9999);
  return { weightsAt: (epoch) => (epoch >= drwEpoch ? weights.slice() : null) };
}
