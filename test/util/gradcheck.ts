// Gradient checking: the engine's analytic gradients (on the backend under
// test, float32) against central finite differences of the same op run on the
// float64 reference backend (plain TypeScript), through a random projection
// L = sum(r * f(inputs)) so that one backward pass checks every output.
import { setBackend } from '../../src/backend/current.js';
import type { Backend } from '../../src/backend/backend.js';
import { ReferenceBackend } from '../../src/backend/reference/referenceBackend.js';
import { type Tensor, tensor } from '../../src/tensor.js';
import { endStep } from '../../src/memory.js';

export const f64 = new ReferenceBackend('float64');

export interface GradCase {
  /** Input values and shapes; those with grad: true are differentiated. */
  inputs: { values: Float32Array; shape: number[]; grad?: boolean }[];
  /** The op under test, written against the public API. */
  fn: (xs: Tensor[]) => Tensor;
}

export interface GradReport {
  worst: number;
  where: string;
}

function f64data(t: Tensor): Float64Array {
  return (t.storage as unknown as { data: Float64Array }).data;
}

/** Float64 forward: returns sum(r * fn(inputs)) with the given input values. */
function projectedF64(c: GradCase, values: Float64Array[], r: Float64Array): number {
  setBackend(f64);
  const xs = c.inputs.map((inp, i) => {
    const t = tensor(new Float32Array(inp.values.length), inp.shape);
    f64data(t).set(values[i]);
    return t;
  });
  const y = f64data(c.fn(xs));
  let s = 0;
  for (let i = 0; i < y.length; i++) s += r[i] * y[i];
  endStep();
  return s;
}

/**
 * Checks |analytic - numeric| <= atol + rtol * |numeric| for every input
 * element; returns the worst ratio of error to tolerance (pass when <= 1).
 */
export async function gradcheck(
  under: Backend,
  c: GradCase,
  opts: { eps?: number; atol?: number; rtol?: number; seed?: number } = {},
): Promise<GradReport> {
  // float64 differences: a small step keeps truncation error far below the tolerance.
  const eps = opts.eps ?? 1e-4;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-3;
  // Analytic, on the backend under test.
  setBackend(under);
  const xs = c.inputs.map((inp) => tensor(inp.values, inp.shape, { requiresGrad: !!inp.grad }));
  const y = c.fn(xs);
  let seed = opts.seed ?? 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648) * 2 - 1;
  };
  const r = Float64Array.from({ length: y.size }, rand);
  y.backward(tensor(Float32Array.from(r), y.shape));
  const analytic = await Promise.all(xs.map((x) => (x.grad ? x.grad.data() : null)));
  for (const x of xs) x.dispose();
  endStep();

  const values = c.inputs.map((inp) => Float64Array.from(inp.values));
  let worst = 0;
  let where = '';
  c.inputs.forEach((inp, i) => {
    if (!inp.grad) return;
    for (let j = 0; j < inp.values.length; j++) {
      const orig = values[i][j];
      values[i][j] = orig + eps;
      const up = projectedF64(c, values, r);
      values[i][j] = orig - eps;
      const down = projectedF64(c, values, r);
      values[i][j] = orig;
      const numeric = (up - down) / (2 * eps);
      const got = analytic[i]![j];
      const ratio = Math.abs(got - numeric) / (atol + rtol * Math.abs(numeric));
      if (!(ratio <= worst)) {
        worst = Number.isNaN(ratio) ? Infinity : ratio;
        where = `input ${i} element ${j}: analytic ${got}, numeric ${numeric}`;
      }
    }
  });
  setBackend(under);
  return { worst, where };
}

/** Forward values on the backend under test against the float64 reference. */
export async function forwardcheck(under: Backend, c: GradCase, opts: { atol?: number; rtol?: number } = {}): Promise<GradReport> {
  const atol = opts.atol ?? 1e-4;
  const rtol = opts.rtol ?? 1e-4;
  setBackend(under);
  const got = await c.fn(c.inputs.map((inp) => tensor(inp.values, inp.shape))).data();
  endStep();
  setBackend(f64);
  const xs = c.inputs.map((inp) => {
    const t = tensor(new Float32Array(inp.values.length), inp.shape);
    f64data(t).set(Float64Array.from(inp.values));
    return t;
  });
  const want = Float64Array.from(f64data(c.fn(xs)));
  endStep();
  setBackend(under);
  let worst = 0;
  let where = '';
  for (let i = 0; i < want.length; i++) {
    const ratio = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Infinity : ratio;
      where = `element ${i}: got ${got[i]}, reference ${want[i]}`;
    }
  }
  return { worst, where };
}
