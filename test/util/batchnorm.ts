// Weights that look trained: batch-norm running statistics and affine terms
// drawn at random. With the defaults (mean 0, var 1, gamma 1, beta 0) every
// way of computing batch norm agrees, so a test of a fusion or a plan would
// not see a mistake in it.
import type { Module } from '../../src/nn/module.js';
import { randomFrom } from './close.js';

export function withTrainedBatchNorm(model: Module, rng: () => number): Map<string, { shape: readonly number[]; data: Float32Array }> {
  return new Map(
    [...model.stateDict()].map(([name, t]) => {
      let data = t.toFloat32Array();
      if (name.endsWith('running_mean')) data = randomFrom(t.size, rng);
      if (name.endsWith('running_var')) data = randomFrom(t.size, rng).map((v) => 0.5 + Math.abs(v));
      if (/bn\d\.weight$/.test(name)) data = randomFrom(t.size, rng).map((v) => 1 + 0.3 * v);
      if (/bn\d\.bias$/.test(name)) data = randomFrom(t.size, rng).map((v) => 0.2 * v);
      return [name, { shape: t.shape, data }] as const;
    }),
  );
}
