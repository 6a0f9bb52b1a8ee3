// Two kernel builds A/B, in one process, interleaved: the 3x3 convolutions of
// ResNet-32's three stages (forward, backward input, the inference plans'
// prepared forward with its epilogue), each call on one of three input
// buffers in turn so that the input is not all in cache, as in a step.
// Reports each side's median ms per call and the median of the per-round
// ratios A / B (< 1: A is faster) with its range. For a change to the
// kernels: build the old tree's dist/ somewhere, then
// Run: npx tsx bench/build-ab.ts OLD/dist/wasmtail-relaxed.wasm dist/wasmtail-relaxed.wasm [batch 64]
import { readFileSync } from 'node:fs';
import { enableRelaxedSimd } from '../src/backend/wasm/loader.js';
import { harnessFor } from '../test/kernels/harness.js';
import { convGeometry } from '../src/backend/backend.js';
import { median } from './stats.js';
await enableRelaxedSimd();
const [pa, pb] = [process.argv[2], process.argv[3]];
if (!pa || !pb) throw new Error('usage: npx tsx bench/build-ab.ts A.wasm B.wasm [batch]');
const A = await harnessFor(await WebAssembly.compile(readFileSync(pa)));
const B = await harnessFor(await WebAssembly.compile(readFileSync(pb)));
const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const n = Number(process.argv[4] ?? 64);
for (const [c, hw] of [
  [16, 32],
  [32, 16],
  [64, 8],
] as const) {
  const g = convGeometry([n, c, hw, hw], [c, c, 3, 3], 1, 1);
  const args = [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow];
  for (const op of ['fwd', 'bwdIn', 'prepared']) {
    const runs = [A, B].map((h) => {
      const work = h.allocBytes(h.k.conv2dWorkspaceBytes(...args));
      const xs = [0, 1, 2].map(() => h.alloc(n * c * hw * hw, rnd(n * c * hw * hw)));
      const w = h.alloc(c * c * 9, rnd(c * c * 9)),
        y = h.alloc(n * c * hw * hw);
      const sc = h.alloc(c, rnd(c)),
        sh = h.alloc(c, rnd(c));
      const prep = h.allocBytes(h.k.conv2dPreparedFilterBytes(...args));
      const path = h.k.conv2dPrepareFilter(w, prep, ...args, work);
      let i = 0;
      if (op === 'fwd') return () => h.k.conv2dForward(xs[i++ % 3], w, y, ...args, work);
      if (op === 'bwdIn') return () => h.k.conv2dBackwardInput(xs[i++ % 3], w, y, ...args, work);
      return () => h.k.conv2dForwardAffinePrepared(xs[i++ % 3], prep, y, ...args, work, sc, sh, xs[(i + 1) % 3], 1, path);
    });
    const ratios: number[] = [];
    const ms: number[][] = [[], []];
    for (let r = 0; r < 25; r++) {
      const t = [0, 0];
      for (const k of r % 2 ? [1, 0] : [0, 1]) {
        const t0 = performance.now();
        for (let j = 0; j < 3; j++) runs[k]();
        t[k] = (performance.now() - t0) / 3;
        ms[k].push(t[k]);
      }
      ratios.push(t[0] / t[1]);
    }
    console.log(
      `${c}@${hw} n${n} ${op.padEnd(8)} A ${median(ms[0]).toFixed(3)} B ${median(ms[1]).toFixed(3)} ms  A/B ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
    );
  }
}
