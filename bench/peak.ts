// The WASM SIMD ceiling a core reaches: a tight loop of independent f32x4
// multiply-adds (12 accumulators, enough to cover the FMA latency on two
// ports), compiled with asc at bench time in the plain build (mul + add) and
// the relaxed build (relaxed_madd, fused where the CPU has FMA). On two
// threads a worker runs the same loop at the same time as the main thread.
import asc from 'assemblyscript/asc';
import { Worker } from 'node:worker_threads';
import { enableRelaxedSimd } from '../src/backend/wasm/loader.js';

const ACCUMULATORS = 12;
/** Flops per loop iteration: each accumulator does one multiply and one add on 4 lanes. */
const FLOPS_PER_ITER = ACCUMULATORS * 4 * 2;

function source(relaxed: boolean): string {
  const acc = Array.from({ length: ACCUMULATORS }, (_, i) => `c${i}`);
  // c = c * a + b: the multiply depends on the loop-carried value, so nothing can be hoisted out of the loop.
  const step = (c: string) => (relaxed ? `${c} = f32x4.relaxed_madd(${c}, a, b);` : `${c} = f32x4.add(f32x4.mul(${c}, a), b);`);
  return `
export function peak(iters: i32): f32 {
  const a = f32x4.splat(0.9999), b = f32x4.splat(0.0001);
  ${acc.map((c, i) => `let ${c} = f32x4.splat(${i + 1});`).join(' ')}
  for (let i = 0; i < iters; i++) {
    ${acc.map(step).join('\n    ')}
  }
  const s = ${acc
    .join(' + ')
    .replace(/(c\d+) \+ /g, 'f32x4.add($1, ')
    .replace(/$/, ')'.repeat(ACCUMULATORS - 1))};
  return f32x4.extract_lane(s, 0);
}`;
}

async function compileProbe(relaxed: boolean): Promise<WebAssembly.Module> {
  if (relaxed && !(await enableRelaxedSimd())) throw new Error('relaxed SIMD is not available');
  const { binary, stderr, error } = await asc.compileString(source(relaxed), {
    optimizeLevel: 3,
    runtime: 'stub',
    enable: relaxed ? ['simd', 'relaxed-simd'] : ['simd'],
  } as Parameters<typeof asc.compileString>[1]);
  if (error || !binary) throw new Error(`peak probe did not compile: ${error}\n${stderr}`);
  return WebAssembly.compile(binary as Uint8Array<ArrayBuffer>);
}

const WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ module, iters }) => {
  const peak = new WebAssembly.Instance(module, {}).exports.peak;
  peak(iters);
  parentPort.postMessage('done');
});
`;

/** GFLOPS of the probe, best of `repeats` runs of `iters` iterations per thread (a ceiling: the best run). */
export async function peakGflops(relaxed: boolean, threads: 1 | 2, iters = 20_000_000, repeats = 5): Promise<number> {
  const module = await compileProbe(relaxed);
  const peak = new WebAssembly.Instance(module, {}).exports.peak as (n: number) => number;
  peak(iters / 10);
  const worker = threads === 2 ? new Worker(WORKER, { eval: true }) : null;
  let best = 0;
  try {
    // Repeat 0 warms the worker up (its start and compile); the others time both threads' loops together.
    for (let r = 0; r <= repeats; r++) {
      const other = worker ? new Promise<void>((resolve) => worker.once('message', () => resolve())) : null;
      const t0 = performance.now();
      worker?.postMessage({ module, iters });
      peak(iters);
      await other;
      const ms = performance.now() - t0;
      if (r > 0) best = Math.max(best, (threads * iters * FLOPS_PER_ITER) / ms / 1e6);
    }
  } finally {
    await worker?.terminate();
  }
  return best;
}
