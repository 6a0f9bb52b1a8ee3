// assembly/gemm.ts (sgemm) against gemmRef in float64 on random inputs: odd
// sizes, every transpose combination, alpha/beta variants, blocking edges.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { kernelBuilds, loadHarness, type Harness } from './harness.js';
import { assertWithin, mulberry32, randomFrom } from '../util/close.js';
import { gemmRef } from '../../src/backend/reference/kernels/gemm.js';

let h: Harness;

/** Runs sgemm in WASM and gemmRef in float64 and compares with |a - b| <= atol + rtol * |b|. */
function check(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  beta: number,
  seed: number,
  cInit?: Float32Array,
): void {
  const rng = mulberry32(seed);
  const a = randomFrom(m * k, rng),
    b = randomFrom(k * n, rng);
  const c0 = cInit ?? randomFrom(m * n, rng);
  const pa = h.alloc(m * k, a),
    pb = h.alloc(k * n, b),
    pc = h.alloc(m * n, c0);
  const work = h.allocBytes(h.k.gemmWorkspaceBytes(m, n, k));
  h.k.sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, pa, pb, beta, pc, work);
  const got = h.read(pc, m * n);
  const want = Float64Array.from(c0);
  gemmRef(transA, transB, m, n, k, alpha, Float64Array.from(a), Float64Array.from(b), beta, want);
  assertWithin(
    got,
    want,
    1e-6 * (k + 1) * Math.max(1, Math.abs(alpha)),
    1e-4,
    (i) => `sgemm(${+transA}, ${+transB}, m=${m}, n=${n}, k=${k}, alpha=${alpha}, beta=${beta}) ` + `C[${Math.floor(i / n)}, ${i % n}]`,
  );
}

const size = fc.oneof(fc.constantFrom(1, 3, 4, 8, 17, 63, 65), fc.integer({ min: 1, max: 40 }));

for (const build of await kernelBuilds())
  describe(`sgemm (${build})`, () => {
    before(async () => {
      h = await loadHarness(build);
    });

    it('matches gemmRef on random shapes, transposes, alpha and beta', () => {
      fc.assert(
        fc.property(
          size,
          size,
          size,
          fc.boolean(),
          fc.boolean(),
          fc.constantFrom(1, -0.5, 2.25),
          fc.constantFrom(0, 1, 0.3, -1.5),
          fc.integer(),
          (m, n, k, ta, tb, alpha, beta, seed) => check(ta, tb, m, n, k, alpha, beta, seed),
        ),
        { numRuns: 150 },
      );
    });

    it('crosses the k, m and n blocking boundaries (kc = 256, mc = 128)', () => {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        check(ta, tb, 131, 37, 517, 1, 0.5, 7);
        check(ta, tb, 129, 9, 256, -1, 0, 8);
      }
    });

    it("sgemmRows (one thread's share): any split of the rows gives the same C bit for bit", () => {
      const m = 37,
        n = 19,
        k = 300,
        rng = mulberry32(11);
      const a = h.alloc(m * k, randomFrom(m * k, rng)),
        b = h.alloc(k * n, randomFrom(k * n, rng));
      const c0 = randomFrom(m * n, rng),
        work = h.allocBytes(h.k.gemmWorkspaceBytes(m, n, k));
      for (const [ta, tb] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const whole = h.alloc(m * n, c0),
          split = h.alloc(m * n, c0);
        h.k.sgemm(ta, tb, m, n, k, 1.5, a, b, 0.5, whole, work);
        for (const [r0, r1] of [
          [0, 5],
          [5, 16],
          [16, 37],
        ])
          h.k.sgemmRows(ta, tb, m, n, k, 1.5, a, b, 0.5, split, work, r0, r1);
        assert.deepEqual(h.read(split, m * n), h.read(whole, m * n), `transA ${ta}, transB ${tb}`);
      }
    });

    it('ignores C when beta = 0, NaN included', () => {
      for (const [ta, tb] of [
        [false, false],
        [true, true],
      ]) {
        check(ta, tb, 7, 13, 300, 1, 0, 3, new Float32Array(7 * 13).fill(NaN));
      }
    });

    it('scales C by beta when k = 0 or alpha = 0', () => {
      const c = h.alloc(6, [1, 2, NaN, 4, 5, 6]);
      h.k.sgemm(0, 0, 2, 3, 0, 1, c, c, 0, c, h.allocBytes(h.k.gemmWorkspaceBytes(2, 3, 0)));
      assert.deepEqual([...h.read(c, 6)], [0, 0, 0, 0, 0, 0]);
      const d = h.alloc(4, [1, 2, 3, 4]),
        a = h.alloc(4, [9, 9, 9, 9]);
      h.k.sgemm(0, 0, 2, 2, 2, 0, a, a, 2, d, h.allocBytes(h.k.gemmWorkspaceBytes(2, 2, 2)));
      assert.deepEqual([...h.read(d, 4)], [2, 4, 6, 8]);
    });
  });
