// The conformance suite: every differentiable op, on every backend, checked
// (a) forward against the float64 plain-TypeScript reference and (b) its
// gradient against central finite differences in float64.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as wt from '../../src/index.js';
import { gradcheck, forwardcheck, type GradCase } from '../util/gradcheck.js';
import { setBackend } from '../../src/backend/current.js';
import { conformanceBackends, randomValues, type NamedBackend } from '../util/backends.js';

const backends = await conformanceBackends();
// Stop the worker threads and destroy the GPU device before the process ends,
// rather than leaving them to the runtime's exit: Deno once died at exit with
// glibc's heap-corruption abort after every test here had passed (CI, stop 20).
after(() => {
  for (const nb of backends) nb.backend.dispose();
});
const dim = (max = 5) => fc.integer({ min: 1, max });
const seed = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const RUNS = Number(process.env.WT_GRAD_RUNS ?? 15);

function input(shape: number[], s: number, grad = true, lo = -1, hi = 1) {
  return {
    values: randomValues(
      shape.reduce((a, b) => a * b, 1),
      s,
      lo,
      hi,
    ),
    shape,
    grad,
  };
}

async function check(nb: NamedBackend, c: GradCase, tol: { atol?: number; rtol?: number } = {}): Promise<void> {
  const fwd = await forwardcheck(nb.backend, c, { atol: 1e-4, rtol: 1e-4, ...tol });
  assert.ok(fwd.worst <= 1, `forward differs from the float64 reference: ${fwd.where}`);
  const grad = await gradcheck(nb.backend, c, tol);
  assert.ok(grad.worst <= 1, `gradient differs from finite differences: ${grad.where}`);
}

function property<T>(arb: fc.Arbitrary<T>, body: (v: T) => Promise<void>, runs = RUNS): Promise<void> {
  return fc.assert(fc.asyncProperty(arb, body), { numRuns: runs });
}

for (const nb of backends) {
  describe(`conformance: ${nb.name} backend`, () => {
    before(() => setBackend(nb.backend));

    it('add / sub / mul / div with broadcasting', async () => {
      const shapes = fc.tuple(dim(), dim(), dim(), fc.integer({ min: 0, max: 3 }), seed);
      await property(shapes, async ([a, b, c, mode, s]) => {
        const full = [a, b, c];
        // mode picks the second operand's shape: same, row, column, scalar.
        const other = [[a, b, c], [1, b, c], [a, 1, 1], []][mode];
        for (const op of [wt.add, wt.sub, wt.mul] as const) {
          await check(nb, { inputs: [input(full, s), input(other, s + 1)], fn: ([x, y]) => op(x, y) });
          await check(nb, { inputs: [input(other, s + 2), input(full, s + 3)], fn: ([x, y]) => op(x, y) });
        }
        await check(nb, { inputs: [input(full, s), input(other, s + 1, true, 0.5, 2)], fn: ([x, y]) => wt.div(x, y) });
      });
    });

    it('relu / neg / exp / log / sqrt / scale', async () => {
      await property(fc.tuple(dim(), dim(17), seed), async ([a, b, s]) => {
        const x = input([a, b], s);
        // Keep relu's inputs away from its kink at 0.
        x.values = x.values.map((v) => (Math.abs(v) < 0.01 ? 0.5 : v));
        await check(nb, { inputs: [x], fn: ([t]) => wt.relu(t) });
        await check(nb, { inputs: [input([a, b], s)], fn: ([t]) => wt.neg(t) });
        await check(nb, { inputs: [input([a, b], s)], fn: ([t]) => wt.exp(t) });
        await check(nb, { inputs: [input([a, b], s, true, 0.5, 3)], fn: ([t]) => wt.log(t) });
        await check(nb, { inputs: [input([a, b], s, true, 0.5, 3)], fn: ([t]) => wt.sqrt(t) });
        await check(nb, { inputs: [input([a, b], s)], fn: ([t]) => wt.scale(t, -1.7) });
      });
    });

    it('sum / mean / reshape', async () => {
      await property(fc.tuple(dim(), dim(), dim(), seed), async ([a, b, c, s]) => {
        await check(nb, { inputs: [input([a, b, c], s)], fn: ([t]) => wt.sum(t) }, { atol: 1e-3 });
        await check(nb, { inputs: [input([a, b, c], s)], fn: ([t]) => wt.mean(t) });
        await check(nb, { inputs: [input([a, b, c], s)], fn: ([t]) => wt.mul(wt.reshape(t, [a * b, c]), wt.reshape(t, [a * b, -1])) });
      });
    });

    it('sumTo / broadcastTo', async () => {
      await property(fc.tuple(dim(), dim(), dim(), fc.integer({ min: 0, max: 7 }), seed), async ([a, b, c, mask, s]) => {
        const small = [a, b, c].map((d, i) => (mask & (1 << i) ? 1 : d));
        await check(nb, { inputs: [input([a, b, c], s)], fn: ([t]) => wt.sumTo(t, small) }, { atol: 1e-3 });
        await check(nb, { inputs: [input(small, s)], fn: ([t]) => wt.broadcastTo(t, [a, b, c]) });
      });
    });

    it('sumTo / broadcasting binaries at rank 4, odd sizes (strided reads, reductions over several runs of dims)', async () => {
      const odd = fc.integer({ min: 1, max: 7 });
      await property(
        fc.tuple(odd, odd, odd, odd, fc.integer({ min: 0, max: 15 }), seed),
        async ([a, b, c, d, mask, s]) => {
          const full = [a, b, c, d];
          const small = full.map((v, i) => (mask & (1 << i) ? 1 : v));
          await check(nb, { inputs: [input(full, s)], fn: ([t]) => wt.sumTo(t, small) }, { atol: 1e-3 });
          await check(nb, { inputs: [input(full, s), input(small, s + 1)], fn: ([x, y]) => wt.mul(x, y) }, { atol: 1e-3 });
          await check(
            nb,
            { inputs: [input(small.slice(1), s + 2, true, 0.5, 2), input(full, s + 3)], fn: ([x, y]) => wt.div(y, x) },
            { atol: 1e-3 },
          );
        },
        8,
      );
    });

    it('amax: forward (a constant, no gradient), NaN propagates', async () => {
      await property(fc.tuple(dim(), dim(9), dim(), fc.integer({ min: 0, max: 2 }), seed), async ([a, b, c, axis, s]) => {
        const fwd = await forwardcheck(
          nb.backend,
          { inputs: [input([a, b, c], s, false)], fn: ([t]) => wt.amax(t, axis) },
          { atol: 1e-9, rtol: 0 },
        );
        assert.ok(fwd.worst <= 1, `amax differs from the float64 reference: ${fwd.where}`);
      });
      setBackend(nb.backend);
      const t = wt.tensor([1, NaN, 3, 4, -2, 0], [2, 3]);
      const m = await wt.amax(t, 1).data();
      assert.ok(Number.isNaN(m[0]) && m[1] === 4, `amax [[1, NaN, 3], [4, -2, 0]] = [${m}]`);
      assert.throws(() => wt.amax(t, 2), /axis 2 out of range/);
    });

    it('matmul', async () => {
      await property(fc.tuple(dim(9), dim(9), dim(9), seed), async ([m, k, n, s]) => {
        await check(nb, { inputs: [input([m, k], s), input([k, n], s + 1)], fn: ([a, b]) => wt.matmul(a, b) });
      });
    });

    it('linear with and without bias', async () => {
      await property(fc.tuple(dim(7), dim(9), dim(9), seed), async ([n, i, o, s]) => {
        await check(nb, { inputs: [input([n, i], s), input([o, i], s + 1), input([o], s + 2)], fn: ([x, w, b]) => wt.linear(x, w, b) });
        await check(nb, { inputs: [input([n, i], s), input([o, i], s + 1)], fn: ([x, w]) => wt.linear(x, w) });
      });
    });

    it('conv2d over random geometries', async () => {
      const geom = fc.record({
        n: dim(2),
        c: dim(3),
        oc: dim(3),
        h: fc.integer({ min: 3, max: 7 }),
        w: fc.integer({ min: 3, max: 7 }),
        k: fc.constantFrom(1, 3),
        stride: fc.constantFrom(1, 2),
        pad: fc.constantFrom(0, 1, 2),
        s: seed,
      });
      await property(
        geom,
        async ({ n, c, oc, h, w, k, stride, pad, s }) => {
          await check(
            nb,
            {
              inputs: [input([n, c, h, w], s), input([oc, c, k, k], s + 1)],
              fn: ([x, wt_]) => wt.conv2d(x, wt_, { stride, padding: pad }),
            },
            { atol: 2e-3 },
          );
        },
        Math.ceil(RUNS / 2),
      );
    });

    it('batchNorm2d in training and eval mode', async () => {
      await property(fc.tuple(dim(3), dim(3), dim(3), dim(3), seed), async ([n, c, h, w, s]) => {
        fc.pre(n * h * w >= 2);
        for (const training of [true, false]) {
          await check(
            nb,
            {
              inputs: [
                input([n, c, h, w], s),
                input([c], s + 1, true, 0.5, 1.5),
                input([c], s + 2),
                input([c], s + 3, false),
                input([c], s + 4, false, 0.5, 2),
              ],
              fn: ([x, g, b, rm, rv]) => wt.batchNorm2d(x, g, b, rm, rv, { training }),
            },
            { atol: 2e-3, rtol: 2e-3 },
          );
        }
      });
    });

    it('batchNormAct (training: batch norm, residual, ReLU as one op)', async () => {
      await property(fc.tuple(dim(3), dim(3), dim(3), dim(3), fc.boolean(), seed), async ([n, c, h, w, withResidual, s]) => {
        fc.pre(n * h * w >= 2);
        const inputs = [
          input([n, c, h, w], s),
          input([c], s + 1, true, 0.5, 1.5),
          input([c], s + 2),
          input([c], s + 3, false),
          input([c], s + 4, false, 0.5, 2),
          input([n, c, h, w], s + 5, withResidual),
        ];
        const fn =
          (relu: boolean) =>
          ([x, g, b, rm, rv, r]: wt.Tensor[]) =>
            wt.batchNormAct(x, g, b, rm, rv, { training: true, residual: withResidual ? r : null, relu });
        // The gradient without ReLU (finite differences across its kink test nothing of ours;
        // test/kernels/batchnorm-act.test.ts checks the masked backward), the forward with it.
        await check(nb, { inputs, fn: fn(false) }, { atol: 2e-3, rtol: 2e-3 });
        const fwd = await forwardcheck(nb.backend, { inputs, fn: fn(true) }, { atol: 2e-3, rtol: 2e-3 });
        assert.ok(fwd.worst <= 1, `fused forward with ReLU differs from the float64 reference: ${fwd.where}`);
      });
    });

    it('conv2dBatchNormEval (inference fusion: conv, eval batch norm, residual, ReLU)', async () => {
      const geom = fc.record({
        n: dim(2),
        c: dim(3),
        oc: dim(4),
        h: fc.integer({ min: 3, max: 7 }),
        w: fc.integer({ min: 3, max: 7 }),
        stride: fc.constantFrom(1, 2),
        withResidual: fc.boolean(),
        s: seed,
      });
      await property(
        geom,
        async ({ n, c, oc, h, w, stride, withResidual, s }) => {
          const oh = Math.floor((h - 1) / stride) + 1,
            ow = Math.floor((w - 1) / stride) + 1;
          const inputs = [
            input([n, c, h, w], s),
            input([oc, c, 3, 3], s + 1),
            input([oc], s + 2, true, 0.5, 1.5),
            input([oc], s + 3),
            input([oc], s + 4, false),
            input([oc], s + 5, false, 0.5, 2),
            input([n, oc, oh, ow], s + 6, withResidual),
          ];
          const fn =
            (relu: boolean) =>
            ([x, w_, g, b, rm, rv, r]: wt.Tensor[]) =>
              wt.conv2dBatchNormEval(
                x,
                w_,
                { weight: g, bias: b, runningMean: rm, runningVar: rv, eps: 1e-5 },
                { stride, padding: 1, residual: withResidual ? r : null, relu },
              );
          // Without ReLU the gradient too (it runs as the separate ops); with it, the fused forward
          // only (finite differences across ReLU's kink would not test anything of ours).
          await check(nb, { inputs, fn: fn(false) }, { atol: 2e-3, rtol: 2e-3 });
          const fwd = await forwardcheck(nb.backend, { inputs, fn: fn(true) }, { atol: 2e-3, rtol: 2e-3 });
          assert.ok(fwd.worst <= 1, `fused forward with ReLU differs from the float64 reference: ${fwd.where}`);
        },
        Math.ceil(RUNS / 2),
      );
    });

    it('globalAvgPool2d', async () => {
      await property(fc.tuple(dim(3), dim(4), dim(5), dim(5), seed), async ([n, c, h, w, s]) => {
        await check(nb, { inputs: [input([n, c, h, w], s)], fn: ([x]) => wt.globalAvgPool2d(x) });
      });
    });

    it('downsamplePadChannels (option-A shortcut)', async () => {
      await property(
        fc.tuple(dim(2), dim(4), dim(7), dim(7), fc.constantFrom(1, 2), fc.integer({ min: 0, max: 2 }), seed),
        async ([n, c, h, w, stride, padC, s]) => {
          await check(nb, { inputs: [input([n, c, h, w], s)], fn: ([x]) => wt.downsamplePadChannels(x, stride, padC) });
        },
      );
    });

    it('crossEntropy, plain and class-weighted', async () => {
      await property(fc.tuple(dim(6), fc.integer({ min: 2, max: 11 }), seed), async ([n, c, s]) => {
        const labels = Int32Array.from(randomValues(n, s + 7, 0, c), Math.floor);
        const weights = Array.from(randomValues(c, s + 9, 0.2, 2));
        await check(nb, { inputs: [input([n, c], s, true, -3, 3)], fn: ([z]) => wt.crossEntropy(z, labels) });
        await check(nb, { inputs: [input([n, c], s, true, -3, 3)], fn: ([z]) => wt.crossEntropy(z, labels, { weights }) });
      });
    });

    it('featureBalancedLoss: gradient into logits and features', async () => {
      await property(fc.tuple(dim(6), fc.integer({ min: 2, max: 11 }), dim(8), seed), async ([n, c, d, s]) => {
        const labels = Int32Array.from(randomValues(n, s + 7, 0, c), Math.floor);
        const classCounts = Array.from(randomValues(c, s + 5, 5, 5000), Math.round);
        await check(nb, {
          inputs: [input([n, c], s, true, -3, 3), input([n, d], s + 1, true, 0.2, 2)],
          fn: ([z, f]) => wt.featureBalancedLoss(z, f, labels, { classCounts, lambda: 6, curr: 0.7 }),
        });
      });
    });

    it('a composite network: conv, batch norm, relu, residual add, pooling, linear, loss', async () => {
      await property(
        fc.tuple(dim(2), seed),
        async ([n, s]) => {
          const labels = Int32Array.from(randomValues(n, s, 0, 3), Math.floor);
          await check(
            nb,
            {
              inputs: [
                input([n, 2, 5, 5], s),
                input([3, 2, 3, 3], s + 1),
                input([3], s + 2, true, 0.5, 1.5),
                input([3], s + 3),
                input([3], s + 4, false),
                input([3], s + 5, false, 0.5, 2),
                input([3, 3], s + 6),
                input([3], s + 7),
              ],
              fn: ([x, w, g, b, rm, rv, lw, lb]) => {
                const h = wt.conv2d(x, w, { padding: 1 });
                // exp rather than relu: no kink for finite differences to straddle.
                const a = wt.exp(wt.scale(wt.add(wt.batchNorm2d(h, g, b, rm, rv, { training: true }), h), 0.5));
                return wt.crossEntropy(wt.linear(wt.globalAvgPool2d(a), lw, lb), labels);
              },
            },
            { atol: 2e-3, rtol: 2e-3 },
          );
        },
        5,
      );
    });
  });
}
