// Loss values against closed forms computed here in float64, and the
// schedules and per-class constants against the formulas of the papers and
// reference code.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as wt from '../../src/index.js';
import * as losses from '../../src/losses/index.js';
import { randomValues } from '../util/backends.js';
import { lossBatch } from './helpers.js';

const CIFAR10_LT = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50];

function close(got: number, want: number, tol = 1e-5, what = ''): void {
  assert.ok(Math.abs(got - want) <= tol * (1 + Math.abs(want)), `${what} got ${got}, want ${want}`);
}

/** float64 -log softmax(v)_y. */
function nll(v: ArrayLike<number>, y: number): number {
  const m = Math.max(...Array.from(v));
  const lse = m + Math.log(Array.from(v).reduce((s, x) => s + Math.exp(x - m), 0));
  return lse - v[y];
}

function rows(z: Float32Array, n: number, c: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(z.subarray(i * c, (i + 1) * c)));
}

const batch = lossBatch(11);

describe('losses: values', () => {
  before(() => wt.init({ backend: 'wasm' }));

  describe('fblCurriculum', () => {
    it('reference is (epoch / (epochs - 10))^2', () => {
      assert.equal(losses.fblCurriculum(0, 200, 'reference'), 0);
      close(losses.fblCurriculum(160, 200, 'reference'), (160 / 190) ** 2, 1e-15);
      close(losses.fblCurriculum(199, 200, 'reference'), (199 / 190) ** 2, 1e-15);
      close(losses.fblCurriculum(29, 30, 'reference'), 2.1025, 1e-12, 'the short schedule reaches 2.1:');
    });

    it('relative is (epoch / (0.95 epochs))^2 and equals reference at 200 epochs, every epoch', () => {
      for (let e = 0; e < 200; e++) assert.equal(losses.fblCurriculum(e, 200, 'relative'), losses.fblCurriculum(e, 200, 'reference'));
      assert.equal(losses.fblCurriculum(190, 200), 1);
      close(losses.fblCurriculum(29, 30), (29 / 28.5) ** 2, 1e-12);
      close(losses.fblCurriculum(24, 30), losses.fblCurriculum(160, 200), 1e-12, 'same curve at the same fraction of the run:');
      assert.equal(losses.fblCurriculum(5, 30), losses.fblCurriculum(5, 30, 'relative'), 'relative is the default');
    });

    it('rejects the reference schedule on 10 epochs or fewer, and bad input', () => {
      assert.throws(() => losses.fblCurriculum(1, 10, 'reference'), /more than 10 epochs/);
      assert.throws(() => losses.fblCurriculum(-1, 30), /non-negative/);
      assert.throws(() => losses.fblCurriculum(1, 30, 'linear' as never), /unknown schedule/);
    });
  });

  it('featureBalanced equals the fused op with curr from the schedule', () => {
    const n = 4,
      c = 10,
      d = 5;
    const z = wt.tensor(randomValues(n * c, 3, -2, 2), [n, c]);
    const f = wt.tensor(randomValues(n * d, 4, 0, 2), [n, d]);
    const labels = [9, 0, 5, 9];
    for (const schedule of ['relative', 'reference'] as const) {
      const got = losses.featureBalanced(z, f, labels, { classCounts: CIFAR10_LT, epoch: 25, epochs: 30, schedule }).item();
      const want = wt
        .featureBalancedLoss(z, f, labels, { classCounts: CIFAR10_LT, lambda: 60, curr: losses.fblCurriculum(25, 30, schedule) })
        .item();
      assert.equal(got, want);
    }
  });

  describe('focal', () => {
    it('gamma 0 is cross-entropy; with weights, the plain mean of weighted per-sample CE', () => {
      fc.assert(
        fc.property(batch, ({ n, c, seed, labels, counts }) => {
          const z = wt.tensor(randomValues(n * c, seed, -4, 4), [n, c]);
          close(losses.focal(z, labels, { gamma: 0 }).item(), losses.crossEntropy(z, labels).item(), 1e-5);
          const w = losses.classBalancedWeights(counts);
          const wsum = labels.reduce((s, y) => s + w[y], 0);
          close(
            losses.focal(z, labels, { gamma: 0, weights: w }).item(),
            (losses.crossEntropy(z, labels, { weights: Float32Array.from(w) }).item() * wsum) / n,
            1e-5,
          );
        }),
        { numRuns: 20 },
      );
    });

    it('matches (1 - p)^gamma * ce in float64, including large logits (stabilising shift)', () => {
      fc.assert(
        fc.property(batch, fc.constantFrom(1, 2, 0.5, 1.7), fc.boolean(), ({ n, c, seed, labels, counts }, gamma, weighted) => {
          const values = randomValues(n * c, seed, -40, 40);
          const w = weighted ? losses.classBalancedWeights(counts) : null;
          let want = 0;
          rows(values, n, c).forEach((v, i) => {
            const ce = (w ? w[labels[i]] : 1) * nll(v, labels[i]);
            want += ((1 - Math.exp(-ce)) ** gamma * ce) / n;
          });
          close(losses.focal(wt.tensor(values, [n, c]), labels, { gamma, weights: w }).item(), want, 1e-4);
        }),
        { numRuns: 20 },
      );
    });

    it('defaults to gamma 1', () => {
      const z = wt.tensor([2, -1, 0.5, 0.1, 0.3, -2], [2, 3]);
      assert.equal(losses.focal(z, [0, 2]).item(), losses.focal(z, [0, 2], { gamma: 1 }).item());
    });
  });

  describe('ldam', () => {
    it('margins: C / n_j^(1/4) with the rarest class at maxM', () => {
      const m = losses.ldamMargins(CIFAR10_LT, 0.5);
      CIFAR10_LT.forEach((n, j) => {
        close(m[j], 0.5 * (50 / n) ** 0.25, 1e-12);
      });
      assert.equal(Math.max(...m), 0.5);
      close(m[0], 0.5 * Math.sqrt(Math.sqrt(0.01)), 1e-12);
      close(losses.ldamMargins([7, 7, 7], 0.3)[1], 0.3, 1e-12);
    });

    it('loss is CE(s (z - m_y onehot_y)), weighted mean with weights', () => {
      fc.assert(
        fc.property(batch, fc.boolean(), ({ n, c, seed, labels, counts }, weighted) => {
          const values = randomValues(n * c, seed, -1, 1);
          const m = losses.ldamMargins(counts, 0.5);
          const w = weighted ? losses.classBalancedWeights(counts) : null;
          let num = 0,
            den = 0;
          rows(values, n, c).forEach((v, i) => {
            const y = labels[i];
            const adjusted = v.map((x, j) => 30 * (j === y ? x - m[y] : x));
            const wy = w ? w[y] : 1;
            num += wy * nll(adjusted, y);
            den += wy;
          });
          close(losses.ldam(wt.tensor(values, [n, c]), labels, { classCounts: counts, weights: w }).item(), num / den, 1e-4);
        }),
        { numRuns: 20 },
      );
    });

    it('DRW: ones before the DRW epoch, class-balanced from it on', () => {
      assert.deepEqual(Array.from(losses.drwWeights(CIFAR10_LT, 159, 160)), new Array(10).fill(1));
      assert.deepEqual(losses.drwWeights(CIFAR10_LT, 160, 160), losses.classBalancedWeights(CIFAR10_LT, 0.9999));
      assert.deepEqual(losses.drwWeights(CIFAR10_LT, 199, 160, 0.99), losses.classBalancedWeights(CIFAR10_LT, 0.99));
    });
  });

  describe('class-balanced weights', () => {
    it('(1 - beta) / (1 - beta^n_j), normalised to sum C; rarer classes weigh no less', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 2, maxLength: 100 }),
          fc.constantFrom(0.9, 0.99, 0.999, 0.9999),
          (counts, beta) => {
            const w = losses.classBalancedWeights(counts, beta);
            close(
              w.reduce((a, b) => a + b, 0),
              counts.length,
              1e-12,
              'sum:',
            );
            const raw = counts.map((n) => (1 - beta) / (1 - beta ** n));
            const k = w[0] / raw[0];
            raw.forEach((r, j) => {
              close(w[j], k * r, 1e-12);
            });
            for (let i = 0; i < counts.length; i++)
              for (let j = 0; j < counts.length; j++) if (counts[i] < counts[j]) assert.ok(w[i] >= w[j]);
          },
        ),
        { numRuns: 50 },
      );
      assert.deepEqual(Array.from(losses.classBalancedWeights([5, 50, 500], 0)), [1, 1, 1]);
    });

    it('classBalanced is the weighted cross-entropy', () => {
      const z = wt.tensor(randomValues(30, 7, -2, 2), [3, 10]);
      const weights = Float32Array.from(losses.classBalancedWeights(CIFAR10_LT));
      assert.equal(
        losses.classBalanced(z, [0, 9, 4], { classCounts: CIFAR10_LT }).item(),
        losses.crossEntropy(z, [0, 9, 4], { weights }).item(),
      );
    });
  });

  describe('logit adjustment / balanced softmax', () => {
    it('uniform counts give plain cross-entropy', () => {
      fc.assert(
        fc.property(batch, ({ n, c, seed, labels }) => {
          const z = wt.tensor(randomValues(n * c, seed, -4, 4), [n, c]);
          close(
            losses.logitAdjusted(z, labels, { classCounts: new Array(c).fill(37) }).item(),
            losses.crossEntropy(z, labels).item(),
            1e-5,
          );
        }),
        { numRuns: 20 },
      );
    });

    it('is CE(z + tau log prior) in float64', () => {
      fc.assert(
        fc.property(batch, fc.constantFrom(0.5, 1, 2), ({ n, c, seed, labels, counts }, tau) => {
          const values = randomValues(n * c, seed, -4, 4);
          const total = counts.reduce((a, b) => a + b, 0);
          let want = 0;
          rows(values, n, c).forEach((v, i) => {
            want +=
              nll(
                v.map((x, j) => x + tau * Math.log(counts[j] / total)),
                labels[i],
              ) / n;
          });
          close(losses.logitAdjusted(wt.tensor(values, [n, c]), labels, { classCounts: counts, tau }).item(), want, 1e-4);
        }),
        { numRuns: 20 },
      );
    });
  });

  describe('makeLoss', () => {
    let z: wt.Tensor, f: wt.Tensor;
    before(() => {
      z = wt.tensor(randomValues(40, 11, -1, 1), [4, 10]).keep();
      f = wt.tensor(randomValues(16, 12, 0, 1), [4, 4]).keep();
    });
    const labels = Int32Array.from([0, 9, 8, 3]);
    const config = { classCounts: CIFAR10_LT };
    const at = (name: losses.LossName, epoch: number, epochs: number) =>
      losses.makeLoss(name, config).compute({ logits: z, features: f }, labels, epoch, epochs).item();

    it('each name computes its loss with the recipe defaults', () => {
      assert.equal(at('ce', 3, 30), losses.crossEntropy(z, labels).item());
      assert.equal(
        at('fbl', 20, 30),
        losses.featureBalanced(z, f, labels, { classCounts: CIFAR10_LT, lambda: 60, epoch: 20, epochs: 30, schedule: 'relative' }).item(),
      );
      assert.equal(at('focal', 3, 30), losses.focal(z, labels, { gamma: 1 }).item());
      assert.equal(at('cb', 3, 30), losses.classBalanced(z, labels, { classCounts: CIFAR10_LT, beta: 0.9999 }).item());
      assert.equal(at('balanced-softmax', 3, 30), losses.logitAdjusted(z, labels, { classCounts: CIFAR10_LT, tau: 1 }).item());
      assert.deepEqual(
        losses.LOSS_NAMES.map((name) => losses.makeLoss(name, config).needsFeatures),
        [false, true, false, false, false, false],
      );
    });

    it("'ldam-drw' re-weights from 0.8 * epochs (160 of 200, 24 of 30)", () => {
      const plain = losses.ldam(z, labels, { classCounts: CIFAR10_LT, maxM: 0.5, s: 30 }).item();
      const weighted = losses
        .ldam(z, labels, { classCounts: CIFAR10_LT, maxM: 0.5, s: 30, weights: losses.classBalancedWeights(CIFAR10_LT, 0.9999) })
        .item();
      assert.notEqual(plain, weighted);
      close(at('ldam-drw', 159, 200), plain, 1e-6);
      assert.equal(at('ldam-drw', 160, 200), weighted);
      close(at('ldam-drw', 23, 30), plain, 1e-6);
      assert.equal(at('ldam-drw', 24, 30), weighted);
      const early = losses
        .makeLoss('ldam-drw', { ...config, drwEpoch: 2 })
        .compute({ logits: z }, labels, 2, 30)
        .item();
      assert.equal(early, weighted);
    });

    it('fbl without features, unknown names and mismatched counts are errors', () => {
      assert.throws(() => losses.makeLoss('fbl', config).compute({ logits: z }, labels, 1, 30), /features/);
      assert.throws(() => losses.makeLoss('lsm' as never, config), /unknown loss 'lsm'/);
      assert.throws(
        () => losses.makeLoss('cb', { classCounts: [1, 2, 3] }).compute({ logits: z }, labels, 0, 30),
        /3 class counts for 10 classes/,
      );
      assert.throws(() => losses.makeLoss('cb', { classCounts: [1, 0] }), /positive/);
    });
  });
});
