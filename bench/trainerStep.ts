// The training step every bench times: the trainer's (src/train/trainer.ts),
// as `wasmtail train` runs it (its reads of the loss and logits and its
// gradient check included), on one fixed synthetic CIFAR-shaped batch with
// cross-entropy and SGD (lr 0.01, momentum 0.9, weight decay 2e-4).
import * as wt from '../src/index.js';
import type { CifarResNet } from '../src/nn/resnet.js';
import { trainStep, type StepResult, type TrainingParts } from '../src/train/trainer.js';
import { constant } from '../src/train/schedules.js';

/** A step function over `model` and the batch of images `x` ([batch, 3, 32, 32]) with labels i mod 10. */
export function benchStep(model: CifarResNet, x: Float32Array, batch: number): () => Promise<StepResult> {
  const parts: TrainingParts = {
    model,
    optimizer: wt.optim.sgd(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 2e-4 }),
    loss: wt.losses.makeLoss('ce', { classCounts: new Array<number>(model.opts.numClasses).fill(1) }),
    learningRate: constant(0.01),
  };
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const b = { x, y, indices: new Int32Array(batch), shape: [batch, 3, 32, 32] as [number, number, number, number] };
  let step = 0;
  return () => trainStep(parts, b, { index: 0, length: 1 }, { where: `bench step ${++step}` });
}
