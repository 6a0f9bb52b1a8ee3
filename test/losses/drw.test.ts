// Deferred re-weighting for any loss: the schedule, the class weights the
// losses now take (FBL and balanced softmax newly), their gradients, and LDAM
// with the schedule equal to the 'ldam-drw' loss bit for bit.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as wt from '../../src/index.js';
import * as losses from '../../src/losses/index.js';
import { gradcheck, forwardcheck, type GradCase } from '../util/gradcheck.js';
import { conformanceBackends, randomValues } from '../util/backends.js';
import { lossBatch } from './helpers.js';

const wasm = (await conformanceBackends()).find((b) => b.name === 'wasm')!;
const RUNS = Number(process.env.WT_GRAD_RUNS ?? 12);
const CIFAR10_LT = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50];

/** float64 -log softmax(v)_y. */
function nll(v: number[], y: number): number {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0)) - v[y];
}

describe('drwSchedule', () => {
  it('is null before 80 % of the epochs, then the class-balanced weights (beta 0.9999), summing to C', () => {
    const s = losses.drwSchedule(CIFAR10_LT, { epochs: 200 });
    assert.equal(s.weightsAt(0), null);
    assert.equal(s.weightsAt(159), null);
    const w = s.weightsAt(160)!;
    assert.deepEqual(w, losses.classBalancedWeights(CIFAR10_LT, 0.9999));
    assert.deepEqual(s.weightsAt(199), w);
    assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 10) < 1e-12);
    // By hand: (1 - beta) / (1 - beta^n) for n = 5000 and 50, normalised to sum C.
    const raw = CIFAR10_LT.map((n) => 1e-4 / (1 - 0.9999 ** n));
    const total = raw.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(w[0] - (raw[0] / total) * 10) < 1e-12 && Math.abs(w[9] - (raw[9] / total) * 10) < 1e-12);
    // (1 - 0.9999^5000) / (1 - 0.9999^50) = 0.39347 / 0.0049876 = 78.89.
    assert.ok(Math.abs(w[9] / w[0] - 78.89) < 0.01, `tail / head weight ${w[9] / w[0]}`);
    const early = losses.drwSchedule(CIFAR10_LT, { epochs: 30, drwEpoch: 3, beta: 0.99 });
    assert.equal(early.weightsAt(2), null);
    assert.deepEqual(early.weightsAt(3), losses.classBalancedWeights(CIFAR10_LT, 0.99));
    // The returned weights are copies: a caller cannot change later epochs' weights.
    early.weightsAt(3)!.fill(0);
    assert.deepEqual(early.weightsAt(4), losses.classBalancedWeights(CIFAR10_LT, 0.99));
    assert.throws(() => losses.drwSchedule(CIFAR10_LT, { epochs: 0 }), /epochs must be a positive integer/);
    assert.throws(() => losses.drwSchedule([1, 0], { epochs: 5 }), /class counts must be positive/);
  });
});

describe('class weights in every loss (wasm backend)', () => {
  before(() => wt.init({ backend: 'wasm' }));

  it('LDAM with the DRW schedule equals the ldam-drw loss exactly, before and after the switch', async () => {
    const n = 16;
    const z = randomValues(n * 10, 4, -1, 1);
    const y = Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);
    const drw = losses.drwSchedule(CIFAR10_LT, { epochs: 200 });
    const ldamDrw = losses.makeLoss('ldam-drw', { classCounts: CIFAR10_LT });
    for (const epoch of [0, 100, 159, 160, 199]) {
      const a = wt.tensor(z, [n, 10], { requiresGrad: true });
      const lossA = ldamDrw.compute({ logits: a }, y, epoch, 200);
      lossA.backward();
      const b = wt.tensor(z, [n, 10], { requiresGrad: true });
      const lossB = losses.ldam(b, y, { classCounts: CIFAR10_LT, weights: drw.weightsAt(epoch) });
      lossB.backward();
      assert.deepEqual(await lossB.data(), await lossA.data(), `loss at epoch ${epoch}`);
      assert.deepEqual(await b.grad!.data(), await a.grad!.data(), `gradient at epoch ${epoch}`);
      wt.endStep();
    }
  });

  it('weighted FBL: cross_entropy(z - s / (||f|| + 1e-12), y, weight=w) as torch weighs it; all-ones weights give the fused loss', async () => {
    const n = 5;
    const c = 4;
    const d = 3;
    const zv = randomValues(n * c, 11);
    const fv = randomValues(n * d, 12, 0.1, 2);
    const y = [0, 3, 3, 1, 2];
    const counts = [800, 100, 20, 5];
    const weights = [0.2, 0.5, 1.1, 2.2];
    const config = { classCounts: counts, lambda: 6, epoch: 20, epochs: 30 };
    const got = (await losses.featureBalanced(wt.tensor(zv, [n, c]), wt.tensor(fv, [n, d]), y, { ...config, weights }).data())[0];
    const curr = losses.fblCurriculum(20, 30);
    const lam = losses.featureBalanceWeights(counts);
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      const norm = Math.hypot(...Array.from(fv.subarray(i * d, (i + 1) * d)));
      const v = Array.from({ length: c }, (_, j) => zv[i * c + j] - (curr * 6 * lam[j]) / (norm + 1e-12));
      num += weights[y[i]] * nll(v, y[i]);
      den += weights[y[i]];
    }
    assert.ok(Math.abs(got - num / den) <= 1e-5 * (1 + Math.abs(num / den)), `${got} vs ${num / den}`);
    const ones = (
      await losses.featureBalanced(wt.tensor(zv, [n, c]), wt.tensor(fv, [n, d]), y, { ...config, weights: [1, 1, 1, 1] }).data()
    )[0];
    const fused = (await losses.featureBalanced(wt.tensor(zv, [n, c]), wt.tensor(fv, [n, d]), y, config).data())[0];
    assert.ok(Math.abs(ones - fused) <= 1e-6 * (1 + Math.abs(fused)), `${ones} vs ${fused}`);
  });

  it("weighted balanced softmax and CE through makeLoss are torch's weighted mean; ldam-drw and cb refuse extra weights", async () => {
    const z = randomValues(12, 21);
    const y = [2, 0, 1];
    const counts = [300, 30, 3];
    const w = [0.5, 1, 1.5];
    const prior = counts.map((n) => Math.log(n / 333));
    const want = (offsets: number[]) => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < 3; i++) {
        num +=
          w[y[i]] *
          nll(
            Array.from({ length: 3 }, (_, j) => z[i * 3 + j] + offsets[j]),
            y[i],
          );
        den += w[y[i]];
      }
      return num / den;
    };
    const t = () => wt.tensor(z.subarray(0, 9), [3, 3]);
    const bs = (await losses.makeLoss('balanced-softmax', { classCounts: counts }).compute({ logits: t() }, y, 0, 1, w).data())[0];
    assert.ok(Math.abs(bs - want(prior)) < 1e-5, `balanced softmax ${bs} vs ${want(prior)}`);
    const ce = (await losses.makeLoss('ce', { classCounts: counts }).compute({ logits: t() }, y, 0, 1, w).data())[0];
    assert.ok(Math.abs(ce - want([0, 0, 0])) < 1e-5, `ce ${ce} vs ${want([0, 0, 0])}`);
    for (const name of ['ldam-drw', 'cb'] as const) {
      assert.throws(
        () => losses.makeLoss(name, { classCounts: counts }).compute({ logits: t() }, y, 0, 1, w),
        /re-weights classes by itself/,
      );
    }
    assert.throws(() => losses.logitAdjusted(t(), y, { classCounts: counts, weights: [1, 2] }), /2 class weights for 3 classes/);
  });

  it('gradients of the weighted FBL and balanced softmax match float64 central differences', async () => {
    const arb = lossBatch(9);
    await fc.assert(
      fc.asyncProperty(arb, async ({ n, c, seed, labels, counts }) => {
        const weights = losses.classBalancedWeights(counts, 0.999);
        const cases: GradCase[] = [
          {
            inputs: [
              { values: randomValues(n * c, seed, -3, 3), shape: [n, c], grad: true },
              { values: randomValues(n * 4, seed + 1, 0.2, 2), shape: [n, 4], grad: true },
            ],
            fn: ([z, f]) => losses.featureBalanced(z, f, labels, { classCounts: counts, lambda: 6, epoch: 25, epochs: 30, weights }),
          },
          {
            inputs: [{ values: randomValues(n * c, seed, -3, 3), shape: [n, c], grad: true }],
            fn: ([z]) => losses.logitAdjusted(z, labels, { classCounts: counts, weights }),
          },
        ];
        for (const gc of cases) {
          const fwd = await forwardcheck(wasm.backend, gc, { atol: 1e-4, rtol: 1e-4 });
          assert.ok(fwd.worst <= 1, `forward differs from the float64 reference: ${fwd.where}`);
          const grad = await gradcheck(wasm.backend, gc);
          assert.ok(grad.worst <= 1, `gradient differs from finite differences: ${grad.where}`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
