// Shared by the kernel tests (test/kernels): seeded random inputs and the
// tolerance checks that compare a kernel's output with its reference.
import assert from 'node:assert/strict';
import { randomValues } from './backends.js';

/** n deterministic values in [lo, hi) from a seed (randomValues, with the kernel tests' wider default range). */
export function random(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  return randomValues(n, seed, lo, hi);
}

/** A small deterministic generator (mulberry32) so failures replay. */
export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The next n values of rng, mapped to [-1, 1). */
export function randomFrom(n: number, rng: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

/** |a - b| <= atol + rtol |b| elementwise; NaN matches NaN, infinities must be equal. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    if (a === b) continue;
    assert.ok(Math.abs(a - b) <= atol + rtol * Math.abs(b), `${what}[${i}]: got ${a}, want ${b}`);
  }
}

/**
 * |got - want| <= atol + rtol |want| at every index of want, with no
 * exceptions: a NaN or an infinity on either side fails. where(i) names
 * index i in the failure message.
 */
export function assertWithin(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
  where: (i: number) => string,
): void {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]))) {
      assert.fail(`${where(i)} = ${got[i]}, want ${want[i]}`);
    }
  }
}

/**
 * The analytic gradient of f at `at` against float64 central differences
 * (step 1e-6): |numeric - grad| <= atol + 1e-5 |grad| for every element.
 */
export function assertGradient(f: (v: Float64Array) => number, at: Float64Array, grad: Float64Array, what: string, atol: number): void {
  const eps = 1e-6;
  for (let i = 0; i < at.length; i++) {
    const keep = at[i];
    at[i] = keep + eps;
    const up = f(at);
    at[i] = keep - eps;
    const down = f(at);
    at[i] = keep;
    const fd = (up - down) / (2 * eps);
    assert.ok(Math.abs(fd - grad[i]) <= atol + 1e-5 * Math.abs(grad[i]), `${what}[${i}]: analytic ${grad[i]}, numeric ${fd}`);
  }
}
