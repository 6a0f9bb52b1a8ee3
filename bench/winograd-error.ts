// Error against float64 of the three paths of a 3x3 / stride 1 / padding 1
// convolution: direct (assembly/conv.ts, WINOGRAD_MODE=0), Winograd F(2x2,
// 3x3) (assembly/winograd.ts, WINOGRAD_MODE=2) and F(4x4, 3x3)
// (assembly/winograd4.ts, WINOGRAD4_MODE=2), each compiled here with asc, on
// ResNet-32's three stages, forward and backward input, with the activations
// scaled by 1, 10 and 100 (weights in [-1, 1) / sqrt(9 c), about He's scale).
// The same builds' backward filter: direct, F(3x3, 2x2)
// (assembly/winograd-filter.ts) and F(3x3, 4x4) (assembly/winograd4-filter.ts),
// the activations x scaled as above and dY in [-1, 1).
// Two measures per output:
//   max rel  max |y - y64| / max |y64|
//   tol      the largest |y - y64| / (atol + rtol |y64|) with the kernel
//            tests' tolerance (test/kernels/winograd.test.ts: atol =
//            1e-5 + 2e-6 * sum length, rtol = 1e-4), at the unscaled
//            activations' atol times the scale: the share of the tolerance used.
// Inputs: uniform in [-s, s) ("signed"), and |uniform| (post-ReLU activations,
// all of one sign: the transforms' sums no longer cancel).
//
// Run: npx tsx bench/winograd-error.ts [--plain] [--n N] [--filter (the backward filter only)]
import { enableRelaxedSimd } from '../src/backend/wasm/loader.js';
import { compileVariant, type KernelVariant, put } from './kernelVariant.js';
import { convGeometry, type ConvGeometry } from '../src/backend/backend.js';
import { conv2dBackwardFilterRef, conv2dBackwardInputRef, conv2dForwardRef } from '../src/backend/reference/kernels/conv.js';

type Kernels = KernelVariant;

function uniform(n: number, seed: number, scale: number, abs: boolean): Float32Array {
  let x = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const u = x / 2 ** 31 - 1;
    return (abs ? Math.abs(u) : u) * scale;
  });
}

type Op = 'forward' | 'backward input' | 'backward filter';

/** Output of op on kernels s: input is x (forward), dY (backward input) or x (backward filter, with second = dY); else second = the weights. */
function run(s: Kernels, g: ConvGeometry, op: Op, input: Float32Array, second: Float32Array): Float32Array {
  const args = [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow];
  const workBytes = s.k.conv2dWorkspaceBytes(...args);
  const work = s.heap.alloc(workBytes);
  const pin = put(s, input),
    p2 = put(s, second);
  const outLen = op === 'forward' ? g.n * g.oc * g.oh * g.ow : op === 'backward input' ? g.n * g.c * g.h * g.w : g.oc * g.c * 9;
  const pout = put(s, new Float32Array(outLen));
  if (op === 'forward') s.k.conv2dForward(pin, p2, pout, ...args, work);
  else if (op === 'backward input') s.k.conv2dBackwardInput(pin, p2, pout, ...args, work);
  else s.k.conv2dBackwardFilter(pin, p2, pout, ...args, work);
  const out = new Float32Array(s.mem.buffer, pout, outLen).slice();
  s.heap.free(work, workBytes);
  s.heap.free(pin, Math.max(1, input.length) * 4);
  s.heap.free(p2, Math.max(1, second.length) * 4);
  s.heap.free(pout, Math.max(1, outLen) * 4);
  return out;
}

function errors(got: Float32Array, want: Float64Array, atol: number, rtol: number): { rel: number; tol: number } {
  let maxRef = 0,
    maxErr = 0,
    tol = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    maxRef = Math.max(maxRef, Math.abs(want[i]));
    maxErr = Math.max(maxErr, e);
    tol = Math.max(tol, e / (atol + rtol * Math.abs(want[i])));
  }
  return { rel: maxErr / maxRef, tol };
}

const argv = process.argv.slice(2);
const nAt = argv.indexOf('--n');
const n = nAt >= 0 ? Number(argv[nAt + 1]) : 2;
const target = argv.includes('--plain') ? 'simd' : 'relaxed';
if (target === 'relaxed' && !(await enableRelaxedSimd())) throw new Error('relaxed SIMD is not available');
const paths: [string, Kernels][] = [
  ['direct', await compileVariant(target, ['WINOGRAD_MODE=0'])],
  ['F(2,3)', await compileVariant(target, ['WINOGRAD_MODE=2'])],
  ['F(4,3)', await compileVariant(target, ['WINOGRAD_MODE=2', 'WINOGRAD4_MODE=2'])],
];
console.log(`build ${target}, batch ${n}; per path: max rel / tol share (backward filter: F(2,3) is F(3x3, 2x2), F(4,3) is F(3x3, 4x4))`);
console.log(`| shape | op | inputs | scale | ${paths.map(([name]) => `${name} max rel | ${name} tol`).join(' | ')} |`);
console.log(`|---|---|---|---:|${paths.map(() => '---:|---:').join('|')}|`);
const ops: Op[] = argv.includes('--filter') ? ['backward filter'] : ['forward', 'backward input', 'backward filter'];
for (const hw of [32, 16, 8]) {
  const ch = 512 / hw;
  const g = convGeometry([n, ch, hw, hw], [ch, ch, 3, 3], 1, 1);
  const w = uniform(ch * ch * 9, 2, 1 / Math.sqrt(9 * ch), false);
  const w64 = Float64Array.from(w);
  const dy = uniform(g.n * g.oc * g.oh * g.ow, 3, 1, false);
  const dy64 = Float64Array.from(dy);
  for (const op of ops) {
    for (const abs of [false, true]) {
      for (const scale of [1, 10, 100]) {
        const len = op === 'backward input' ? g.n * g.oc * g.oh * g.ow : g.n * g.c * g.h * g.w;
        const input = uniform(len, 1, scale, abs);
        const input64 = Float64Array.from(input);
        let want: Float64Array, second: Float32Array, sumLength: number;
        if (op === 'backward filter') {
          want = new Float64Array(g.oc * g.c * 9);
          conv2dBackwardFilterRef(input64, dy64, want, g);
          second = dy;
          sumLength = g.n * g.oh * g.ow;
        } else {
          want = new Float64Array(op === 'forward' ? g.n * g.oc * g.oh * g.ow : g.n * g.c * g.h * g.w);
          if (op === 'forward') conv2dForwardRef(input64, w64, want, g);
          else conv2dBackwardInputRef(input64, w64, want, g);
          second = w;
          sumLength = ch * 9;
        }
        const atol = (1e-5 + 2e-6 * sumLength) * scale;
        const cells = paths.map(([, s]) => {
          const { rel, tol } = errors(run(s, g, op, input, second), want, atol, 1e-4);
          return `${rel.toExponential(1)} | ${(100 * tol).toFixed(1)} %`;
        });
        console.log(`| ${ch}->${ch} @${hw}x${hw} | ${op} | ${abs ? 'post-ReLU' : 'signed'} | ${scale} | ${cells.join(' | ')} |`);
      }
    }
  }
}
