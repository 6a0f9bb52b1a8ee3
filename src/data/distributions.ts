/**
 * Gamma and Beta deviates from a seeded MT19937, for MixUp / CutMix's
 * lambda ~ Beta(alpha, alpha). Marsaglia & Tsang (2000) for Gamma, with
 * Gamma(a) = Gamma(a + 1) * U^(1/a) for a < 1 (their section 6), and
 * Beta(a, b) = X / (X + Y) for X ~ Gamma(a), Y ~ Gamma(b). Seeded and exactly
 * reproducible from the generator's state, but not numpy's stream (numpy's
 * legacy beta uses Johnk's method for a, b <= 1). Pure TypeScript.
 */
import type { MT19937 } from './mt19937.js';

/** log of a Gamma(shape, 1) deviate, shape > 0 (in logs so that tiny shapes cannot underflow to 0). */
function logGamma(rng: MT19937, shape: number): number {
  if (shape < 1) {
    const g = logGamma(rng, shape + 1);
    // 1 - U lies in (0, 1]: its logarithm is finite.
    return g + Math.log(1 - rng.randomSample()) / shape;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.standardNormal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.randomSample();
    // The squeeze accepts most draws without a logarithm.
    if (u < 1 - 0.0331 * x * x * x * x) return Math.log(d * v);
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return Math.log(d * v);
  }
}

function checkShape(shape: number, op: string, name: string): void {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new RangeError(`${op}: ${name} must be a positive number, got ${shape}`);
}

/** A Gamma(shape, 1) deviate, shape > 0. */
export function sampleGamma(rng: MT19937, shape: number): number {
  checkShape(shape, 'sampleGamma', 'shape');
  return Math.exp(logGamma(rng, shape));
}

/** A Beta(a, b) deviate in [0, 1], a, b > 0: the a-draw first, then the b-draw. */
export function sampleBeta(rng: MT19937, a: number, b: number): number {
  checkShape(a, 'sampleBeta', 'a');
  checkShape(b, 'sampleBeta', 'b');
  const lx = logGamma(rng, a);
  const ly = logGamma(rng, b);
  // X / (X + Y) = 1 / (1 + exp(log Y - log X)).
  return 1 / (1 + Math.exp(ly - lx));
}
