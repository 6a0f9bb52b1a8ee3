// The shared trainer's pieces: schedules (the recipe's over epochs, the web
// demo's over steps, each equal to the formula it replaced), the metrics every
// face reports, and an epoch stopped part-way and continued from its totals.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as wt from '../../src/index.js';
import { warmupStepDecay, constant, fblCurriculumSchedule } from '../../src/train/schedules.js';
import { argmax, countCorrect, groupAccuracy, perClassAccuracy } from '../../src/train/metrics.js';
import { trainEpoch, type TrainingParts } from '../../src/train/trainer.js';
import { BatchIterator } from '../../src/data/batches.js';
import { randomValues } from '../util/backends.js';

describe('schedules', () => {
  it("warmupStepDecay over steps equals the web demo's former inline step decay (x0.1 after 80 %, x0.01 after 90 %)", () => {
    for (const steps of [1, 7, 10, 60, 333]) {
      const lr = 0.05;
      const schedule = warmupStepDecay({ lr, warmup: 0, milestones: [0.8 * steps, 0.9 * steps], factors: [0.1, 0.01] });
      for (let step = 1; step <= steps; step++) {
        const former = lr * (step > 0.9 * steps ? 0.01 : step > 0.8 * steps ? 0.1 : 1);
        assert.equal(schedule.at({ index: step - 1, length: steps }), former, `step ${step} of ${steps}`);
      }
    }
  });

  it('warm-up is linear up to its last unit, and constant() is constant', () => {
    const s = warmupStepDecay({ lr: 0.1, warmup: 4, milestones: [8, 9], factors: [0.01, 1e-4] });
    assert.deepEqual(
      [0, 1, 2, 3, 4, 7, 8, 9].map((index) => s.at({ index, length: 10 })),
      [(0.1 * 1) / 4, (0.1 * 2) / 4, (0.1 * 3) / 4, 0.1, 0.1, 0.1, 0.1 * 0.01, 0.1 * 1e-4],
    );
    assert.equal(constant(0.3).at({ index: 5, length: 6 }), 0.3);
  });
});

describe('the FBL curriculum as a schedule object', () => {
  before(() => wt.init({ backend: 'wasm', simd: 'plain', threads: 1 }));

  it('gives the named curve, and makeLoss computes the same loss with it as with the name', async () => {
    for (const kind of ['relative', 'reference'] as const) {
      const schedule = fblCurriculumSchedule(kind);
      for (const [index, length] of [
        [0, 30],
        [20, 30],
        [189, 200],
      ])
        assert.equal(schedule.at({ index, length }), wt.losses.fblCurriculum(index, length, kind));
      const logits = wt.tensor(randomValues(4 * 3, 8, -2, 2), [4, 3]);
      const features = wt.tensor(randomValues(4 * 5, 9, 0.1, 2), [4, 5]);
      const labels = Int32Array.from([0, 1, 2, 1]);
      const byName = wt.losses
        .makeLoss('fbl', { classCounts: [90, 30, 5], lambda: 7, schedule: kind })
        .compute({ logits, features }, labels, 20, 30);
      const byObject = wt.losses
        .makeLoss('fbl', { classCounts: [90, 30, 5], lambda: 7, schedule })
        .compute({ logits, features }, labels, 20, 30);
      assert.equal((await byObject.data())[0], (await byName.data())[0]);
    }
  });
});

describe('metrics', () => {
  it('argmax takes the first of equal maxima (as torch.argmax) and reads a row of a wider array', () => {
    assert.equal(argmax([1, 3, 3, 2]), 1);
    assert.equal(argmax([9, 9, 0, 5, 7, 9], 3, 3), 2);
    assert.equal(countCorrect([0, 1, 2, 0, 5, 5], [2, 0], 3), 1);
  });

  it('per-class and shot-group accuracy from a confusion matrix; an empty group is null', () => {
    const confusion = [
      [3, 1],
      [0, 0],
    ];
    assert.deepEqual(perClassAccuracy(confusion), [0.75, NaN]);
    assert.equal(groupAccuracy(confusion, [500, 10], 'many'), 0.75);
    assert.equal(groupAccuracy(confusion, [500, 10], 'few'), null);
    assert.equal(groupAccuracy(confusion, [500, 10], 'medium'), null);
  });
});

describe('trainEpoch', () => {
  before(() => wt.init({ backend: 'wasm', simd: 'plain', threads: 1 }));

  const images = {
    n: 24,
    c: 1,
    h: 8,
    w: 8,
    numClasses: 3,
    classNames: ['a', 'b', 'c'],
    images: Uint8Array.from(randomValues(24 * 64, 5, 0, 255), (v) => Math.floor(v)),
    labels: Int32Array.from({ length: 24 }, (_, i) => i % 3),
  };

  async function run(stopAt: number | null): Promise<{ weights: Float32Array[]; totals: unknown }> {
    const model = new wt.nn.CifarResNet(1, { numClasses: 3, inChannels: 1, seed: 4, classifier: 'linear' });
    const parts: TrainingParts = {
      model,
      optimizer: wt.optim.sgd(model.parameters(), { lr: 0.05, momentum: 0.9 }),
      loss: wt.losses.makeLoss('fbl', { classCounts: [8, 8, 8], lambda: 5 }),
      learningRate: warmupStepDecay({ lr: 0.05, warmup: 1, milestones: [2, 3], factors: [0.1, 0.01] }),
    };
    const plan = new BatchIterator(images, { batchSize: 8, mean: [0.5], std: [0.25], seed: 2 }).epoch();
    const at = { index: 1, length: 4 };
    const context = (k: number) => ({ where: `step ${k + 1}` });
    let result = await trainEpoch(parts, plan, at, { context, shouldStop: async (k) => k === stopAt });
    if (stopAt !== null) {
      assert.equal(result.stoppedAt, stopAt);
      result = await trainEpoch(parts, plan, at, { context }, { step: stopAt, totals: result.totals });
    }
    assert.equal(result.stoppedAt, null);
    return { weights: await Promise.all(model.parameters().map((p) => p.data())), totals: result.totals };
  }

  it('an epoch stopped before step 2 and continued from its totals ends where an uninterrupted one does', async () => {
    const whole = await run(null);
    const split = await run(2);
    assert.deepEqual(split.totals, whole.totals);
    assert.deepEqual(split.weights, whole.weights);
    assert.equal((whole.totals as { seen: number }).seen, 24);
  });
});
