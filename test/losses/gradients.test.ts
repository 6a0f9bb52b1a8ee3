// Every loss's gradient on the WASM backend against float64 central finite
// differences (test/util/gradcheck.ts), and its forward value against the
// float64 reference backend, over random batch sizes and class counts.
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

/** A random batch: N in 1..6, C in 2..11, labels, class counts and a seed. */
const batch = lossBatch(11);

function input(shape: number[], seed: number, lo = -3, hi = 3) {
  return {
    values: randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
    shape,
    grad: true,
  };
}

async function check(c: GradCase, tol: { atol?: number; rtol?: number } = {}): Promise<void> {
  const fwd = await forwardcheck(wasm.backend, c, { atol: 1e-4, rtol: 1e-4, ...tol });
  assert.ok(fwd.worst <= 1, `forward differs from the float64 reference: ${fwd.where}`);
  const grad = await gradcheck(wasm.backend, c, tol);
  assert.ok(grad.worst <= 1, `gradient differs from finite differences: ${grad.where}`);
}

function property<T>(arb: fc.Arbitrary<T>, body: (v: T) => Promise<void>): Promise<void> {
  return fc.assert(fc.asyncProperty(arb, body), { numRuns: RUNS });
}

describe('losses: gradients against finite differences (wasm backend)', () => {
  before(() => wt.init({ backend: 'wasm' }));

  it('crossEntropy (re-exported op)', async () => {
    await property(batch, async ({ n, c, seed, labels }) => {
      await check({ inputs: [input([n, c], seed)], fn: ([z]) => losses.crossEntropy(z, labels) });
    });
  });

  it('featureBalanced: into logits and features, both schedules', async () => {
    await property(
      fc.tuple(batch, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 29 }), fc.boolean()),
      async ([{ n, c, seed, labels, counts }, d, epoch, reference]) => {
        const config = {
          classCounts: counts,
          lambda: 6,
          epoch,
          epochs: 30,
          schedule: reference ? ('reference' as const) : ('relative' as const),
        };
        await check({
          inputs: [input([n, c], seed), input([n, d], seed + 1, 0.2, 2)],
          fn: ([z, f]) => losses.featureBalanced(z, f, labels, config),
        });
      },
    );
  });

  it('focal: integer and fractional gamma, with and without class weights', async () => {
    await property(
      fc.tuple(batch, fc.constantFrom(0, 1, 2, 0.5, 1.7), fc.boolean()),
      async ([{ n, c, seed, labels, counts }, gamma, weighted]) => {
        const weights = weighted ? losses.classBalancedWeights(counts, 0.999) : null;
        await check({ inputs: [input([n, c], seed)], fn: ([z]) => losses.focal(z, labels, { gamma, weights }) });
      },
    );
  });

  it('ldam: margins, scale and DRW weights', async () => {
    await property(
      fc.tuple(batch, fc.double({ min: 1, max: 30, noNaN: true }), fc.boolean()),
      async ([{ n, c, seed, labels, counts }, s, weighted]) => {
        const weights = losses.drwWeights(counts, weighted ? 160 : 0, 160);
        // Cosine logits lie in [-1, 1], as from the NormedLinear classifier LDAM is paired with.
        await check({ inputs: [input([n, c], seed, -1, 1)], fn: ([z]) => losses.ldam(z, labels, { classCounts: counts, s, weights }) });
      },
    );
  });

  it('classBalanced', async () => {
    await property(batch, async ({ n, c, seed, labels, counts }) => {
      await check({ inputs: [input([n, c], seed)], fn: ([z]) => losses.classBalanced(z, labels, { classCounts: counts }) });
    });
  });

  it('logitAdjusted (balanced softmax)', async () => {
    await property(fc.tuple(batch, fc.constantFrom(0.5, 1, 2)), async ([{ n, c, seed, labels, counts }, tau]) => {
      await check({ inputs: [input([n, c], seed)], fn: ([z]) => losses.logitAdjusted(z, labels, { classCounts: counts, tau }) });
    });
  });

  it('makeLoss: every loss through the factory', async () => {
    await property(
      fc.tuple(batch, fc.constantFrom(...losses.LOSS_NAMES), fc.integer({ min: 0, max: 29 })),
      async ([{ n, c, seed, labels, counts }, name, epoch]) => {
        const loss = losses.makeLoss(name, { classCounts: counts, lambda: 6 });
        await check({
          inputs: [input([n, c], seed, -1, 1), { ...input([n, 4], seed + 1, 0.2, 2), grad: loss.needsFeatures }],
          fn: ([logits, features]) => loss.compute({ logits, features }, labels, epoch, 30),
        });
      },
    );
  });

  it('normedLinear: into features and weight', async () => {
    await property(
      fc.tuple(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 2, max: 11 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      ),
      async ([n, d, c, seed]) => {
        await check({
          inputs: [input([n, d], seed, -1, 1), input([d, c], seed + 1, -1, 1)],
          fn: ([x, w]) => wt.nn.normedLinear(x, w),
        });
      },
    );
  });
});
