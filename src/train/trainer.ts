/**
 * The trainer every face shares (the CLI's train, the web worker, the
 * benches): one SGD step and one epoch, with the learning rate from a
 * schedule and the loss's own schedules (FBL's curriculum, DRW) read at the
 * same position. Pure TypeScript, no Node imports (the web worker bundles it).
 * What a face adds (checkpoints, progress lines, evaluation) goes around these
 * through the hooks of trainEpoch.
 */
import type { Batch, Epoch } from '../data/batches.js';
import type { Loss, LossInput } from '../losses/factory.js';
import type { CifarResNet } from '../nn/resnet.js';
import type { SGD } from '../optim/sgd.js';
import { noGrad } from '../autograd/node.js';
import { add } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { type Tensor, tensor } from '../tensor.js';
import { countCorrect } from './metrics.js';
import type { Position, Schedule } from './schedules.js';

/** A step's network input and loss, where a run changes them (mixing, class weights). */
export interface PreparedStep {
  x: Float32Array;
  loss: (out: LossInput) => Tensor;
}

/** Prepares a batch's step at `position`; called once per step, in step order (it may draw from its own generator). */
export type StepPreparer = (batch: Batch, position: Position) => PreparedStep;

/** What a step needs: the model, its optimiser, the loss and the learning-rate schedule. */
export interface TrainingParts {
  model: CifarResNet;
  optimizer: SGD;
  loss: Loss;
  learningRate: Schedule;
  /** Absent: the batch's own images, and loss.compute against its labels, unweighted. */
  prepareStep?: StepPreparer;
}

/** A step's loss or gradient turned NaN or infinite; the message says where and what to try. */
export class NumericalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NumericalError';
  }
}

/** How a step names itself in a NumericalError ("epoch 2, step 3") and what it advises after the lr. */
export interface StepContext {
  where: string;
  advice?: string;
}

export interface StepResult {
  /** The batch's mean loss. */
  loss: number;
  /** Images of the batch whose top-1 logit is their label. */
  correct: number;
}

/**
 * The name of the first parameter whose gradient holds a NaN or an infinity
 * (their sum does too), or null. One read in the common case: the sum of all
 * the sums, which is finite when every one is.
 */
async function nonFiniteGradient(model: CifarResNet): Promise<string | null> {
  const sums = noGrad(() => [...model.namedParameters()].filter(([, p]) => p.grad).map(([name, p]) => [name, sum(p.grad!)] as const));
  if (sums.length === 0) return null;
  const total = noGrad(() => sums.slice(1).reduce((acc, [, s]) => add(acc, s), sums[0][1]));
  if (Number.isFinite((await total.data())[0])) return null;
  for (const [name, s] of sums) if (!Number.isFinite((await s.data())[0])) return name;
  return null;
}

/**
 * One SGD step on `batch` at `position`: the learning rate from the schedule,
 * forward, loss, backward, and the update, which is skipped (NumericalError)
 * when the loss or a gradient is not finite. The model must be in training mode.
 */
export async function trainStep(parts: TrainingParts, batch: Batch, position: Position, context: StepContext): Promise<StepResult> {
  const { model, optimizer, loss } = parts;
  optimizer.lr = parts.learningRate.at(position);
  optimizer.zeroGrad();
  const step = parts.prepareStep?.(batch, position) ?? {
    x: batch.x,
    loss: (o: LossInput) => loss.compute(o, batch.y, position.index, position.length),
  };
  const out = model.forward(tensor(step.x, batch.shape));
  const l = step.loss(out);
  // One round trip for both (a device backend reads asynchronously).
  const [lossValues, logits] = await Promise.all([l.data(), out.logits.data()]);
  const value = lossValues[0];
  const advice = context.advice ? `; ${context.advice}` : '';
  if (!Number.isFinite(value)) throw new NumericalError(`the loss became ${value} at ${context.where} (lr ${optimizer.lr})${advice}`);
  l.backward();
  const bad = await nonFiniteGradient(model);
  if (bad) {
    throw new NumericalError(`the gradient of ${bad} became non-finite at ${context.where} (loss ${value}, lr ${optimizer.lr})${advice}`);
  }
  optimizer.step();
  // A mixed batch's accuracy is against its own labels (those of weight lambda).
  return { loss: value, correct: countCorrect(logits, batch.y, out.logits.shape[1]) };
}

/** An epoch's running totals: summed batch losses (weighted by batch size), correct images, images seen. */
export interface EpochTotals {
  lossSum: number;
  correct: number;
  seen: number;
}

export interface EpochHooks {
  /** Asked before each step k (0-based): true ends the epoch there, unfinished. */
  shouldStop?: (step: number) => Promise<boolean>;
  /** After each step k (0-based), with the totals so far. */
  afterStep?: (step: number, totals: EpochTotals) => void;
  /** Names step k in a NumericalError, and what to try. */
  context: (step: number) => StepContext;
}

export interface EpochResult {
  totals: EpochTotals;
  /** The step the epoch stopped before (shouldStop), or null when it ran to its end. */
  stoppedAt: number | null;
}

/**
 * The steps of one epoch's plan from `firstStep` (a resumed epoch continues
 * where it stopped, with the totals it had), all at `position`.
 */
export async function trainEpoch(
  parts: TrainingParts,
  plan: Epoch,
  position: Position,
  hooks: EpochHooks,
  from: { step: number; totals: EpochTotals } = { step: 0, totals: { lossSum: 0, correct: 0, seen: 0 } },
): Promise<EpochResult> {
  parts.model.train();
  // Set before any step too: a stop before the first step saves the epoch's lr with the momentum buffers.
  parts.optimizer.lr = parts.learningRate.at(position);
  const totals = { ...from.totals };
  for (let k = from.step; k < plan.numBatches; k++) {
    if (await hooks.shouldStop?.(k)) return { totals, stoppedAt: k };
    const b = plan.batch(k);
    const { loss, correct } = await trainStep(parts, b, position, hooks.context(k));
    totals.lossSum += loss * b.y.length;
    totals.correct += correct;
    totals.seen += b.y.length;
    hooks.afterStep?.(k, totals);
  }
  return { totals, stoppedAt: null };
}
