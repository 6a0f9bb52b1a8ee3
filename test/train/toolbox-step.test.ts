// The toolbox's step preparer: DRW passes the schedule's class weights to the
// loss from drwEpoch on (none before), MixUp mixes the images and evaluates
// the loss once per label set; with neither on the trainer's own step is kept.
import { it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as wt from '../../src/index.js';
import type { Batch } from '../../src/data/batches.js';
import type { Loss, LossInput } from '../../src/losses/factory.js';
import { drwSchedule } from '../../src/losses/drw.js';
import { tensor } from '../../src/tensor.js';
import { TOOLBOX_DEFAULTS } from '../../src/train/toolboxOptions.js';
import { toolboxStep } from '../../src/train/toolboxStep.js';

before(() => wt.init());

const COUNTS = [100, 10, 1];
const batch: Batch = {
  x: Float32Array.from({ length: 4 * 3 * 2 * 2 }, (_, i) => i / 10),
  y: Int32Array.from([0, 1, 2, 0]),
  indices: Int32Array.from([0, 1, 2, 3]),
  shape: [4, 3, 2, 2],
};

/** A loss that records what it was asked (labels, epoch, weights) and returns 1. */
function recordingLoss() {
  const calls: { labels: number[]; epoch: number; weights: number[] | null }[] = [];
  const loss = {
    name: 'ce',
    needsFeatures: false,
    compute: (_out: LossInput, labels: ArrayLike<number>, epoch: number, _epochs: number, weights?: ArrayLike<number> | null) => {
      calls.push({ labels: Array.from(labels), epoch, weights: weights ? Array.from(weights) : null });
      return tensor(new Float32Array([1]), [1]);
    },
  } as unknown as Loss;
  return { loss, calls };
}
const out = () => ({ logits: tensor(new Float32Array(12), [4, 3]) }) as LossInput;

it('with every option off there is no preparer (the plain step)', () => {
  const { loss } = recordingLoss();
  const s = toolboxStep({ ...TOOLBOX_DEFAULTS, epochs: 10 }, loss, COUNTS, 5);
  assert.equal(s.prepareStep, undefined);
  assert.equal(s.mixer, null);
});

it('--drw: no weights before drwEpoch, the class-balanced ones from it on', () => {
  const { loss, calls } = recordingLoss();
  const s = toolboxStep({ ...TOOLBOX_DEFAULTS, drw: true, drwEpoch: 2, epochs: 4 }, loss, COUNTS, 5);
  for (const index of [1, 2]) {
    const step = s.prepareStep!(batch, { index, length: 4 });
    assert.equal(step.x, batch.x);
    step.loss(out());
  }
  const expected = Array.from(drwSchedule(COUNTS, { epochs: 4, drwEpoch: 2 }).weightsAt(2)!);
  assert.deepEqual(calls, [
    { labels: [0, 1, 2, 0], epoch: 1, weights: null },
    { labels: [0, 1, 2, 0], epoch: 2, weights: expected },
  ]);
  assert.ok(expected[2] > expected[0], 'the rarest class weighs most');
});

it('--mixup: mixed images, the loss against both label sets, and nothing mixed past --mix-until', () => {
  const { loss, calls } = recordingLoss();
  const s = toolboxStep({ ...TOOLBOX_DEFAULTS, mixup: 1, mixUntil: 0.5, epochs: 4 }, loss, COUNTS, 5);
  const before = JSON.stringify(s.mixer!.getState());
  const step = s.prepareStep!(batch, { index: 0, length: 4 });
  assert.notDeepEqual(step.x, batch.x);
  assert.notEqual(JSON.stringify(s.mixer!.getState()), before, 'the mixer drew');
  step.loss(out());
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[0].labels, [0, 1, 2, 0]);
  assert.deepEqual([...calls[1].labels].sort(), [0, 0, 1, 2], 'the partners are a permutation of the batch');
  const late = s.prepareStep!(batch, { index: 2, length: 4 });
  assert.equal(late.x, batch.x);
});
