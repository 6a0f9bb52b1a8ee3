// The built package's speed under whichever runtime runs this file (plain
// JavaScript, so Node, Bun and Deno run it as it is), plain-SIMD build:
//   node bench/runtimes.mjs
//   node_modules/.bin/deno run -A bench/runtimes.mjs
//   node_modules/.bin/bun bench/runtimes.mjs
// The fastest of several repetitions of: a 512 x 512 x 512 matmul (one
// kernel call), a ResNet-20 eval forward at batch 64 (32 x 32 x 3), and a
// ResNet-20 SGD step at batch 64 on one thread and on two. Minima, so that a
// busy machine disturbs them least; compare runtimes only within one sitting.
import * as wt from '../dist/index.js';

function fastest(repeats, fn) {
  fn();
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return +best.toFixed(1);
}

const runtime = globalThis.Bun
  ? `bun ${globalThis.Bun.version}`
  : globalThis.Deno
    ? `deno ${globalThis.Deno.version.deno}`
    : `node ${process.version}`;
const row = { runtime };
const x = Float32Array.from({ length: 64 * 3 * 32 * 32 }, (_, i) => Math.sin(i));
const labels = Array.from({ length: 64 }, (_, i) => i % 10);

for (const threads of [1, 2]) {
  await wt.init({ simd: 'plain', threads });
  if (threads === 1) {
    const a = wt.tensor(
      Float32Array.from({ length: 512 * 512 }, (_, i) => Math.cos(i)),
      [512, 512],
    );
    row.matmul512Ms = fastest(10, () => wt.tidy(() => wt.matmul(a, a).toFloat32Array()));
    const model = wt.nn.resnet20({ numClasses: 10, seed: 7 });
    model.eval();
    row.forward64Ms = fastest(6, () =>
      wt.tidy(() => wt.noGrad(() => model.forward(wt.tensor(x, [64, 3, 32, 32])).logits.toFloat32Array())),
    );
  }
  const model = wt.nn.resnet20({ numClasses: 10, seed: 7 });
  const opt = wt.optim.sgd(model.parameters(), { lr: 0.1, momentum: 0.9 });
  row[`step64Threads${threads}Ms`] = fastest(5, () => {
    opt.zeroGrad();
    const { logits } = model.forward(wt.tensor(x, [64, 3, 32, 32]));
    wt.crossEntropy(logits, labels).backward();
    opt.step();
  });
  wt.shutdown();
}
console.log(JSON.stringify(row));
