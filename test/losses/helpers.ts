// Shared by the loss tests: a random batch for fast-check properties.
import fc from 'fast-check';

/** n labels in 0..c-1. */
export const labelsOf = (n: number, c: number) => fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n });

/** c per-class image counts in 1..5000. */
export const countsOf = (c: number) => fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: c, maxLength: c });

/**
 * A random batch: N in 1..6, C in 2..maxClasses and a seed, then what `more` draws for that N and C
 * (by default labels and class counts).
 */
export function lossBatch<T extends Record<string, unknown>>(
  maxClasses: number,
  more: (n: number, c: number) => { [K in keyof T]: fc.Arbitrary<T[K]> },
): fc.Arbitrary<{ n: number; c: number; seed: number } & T>;
export function lossBatch(maxClasses: number): fc.Arbitrary<{ n: number; c: number; seed: number; labels: number[]; counts: number[] }>;
export function lossBatch(
  maxClasses: number,
  more: (n: number, c: number) => Record<string, fc.Arbitrary<unknown>> = (n, c) => ({ labels: labelsOf(n, c), counts: countsOf(c) }),
) {
  return fc
    .record({
      n: fc.integer({ min: 1, max: 6 }),
      c: fc.integer({ min: 2, max: maxClasses }),
      seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    })
    .chain(({ n, c, seed }) => fc.record({ n: fc.constant(n), c: fc.constant(c), seed: fc.constant(seed), ...more(n, c) }));
}
