// Where a ResNet-32 eval forward spends its time, at one batch size on one
// thread, through model.forward() and through an inference plan
// (src/nn/resnetPlan.ts): the CPU time of a call; the sum over kernel calls
// of each call site's fastest time (the kernels' own time, little disturbed
// by other processes); and the CPU time of a call with every kernel replaced
// by a no-op (the JavaScript around the kernels: tensors, scopes, dispatch).
// Run: npm run build:wasm && npx tsx bench/infer-profile.ts [batch 1] [calls 300]
import * as wt from '../src/index.js';
import { backend } from '../src/backend/current.js';
import { ResNetInferencePlan } from '../src/nn/resnetPlan.js';

const batch = Number(process.argv[2] ?? 1),
  calls = Number(process.argv[3] ?? (batch > 1 ? 20 : 300));
await wt.init({ threads: 1 });
const model = wt.nn.resnet32({ numClasses: 10 });
model.eval();
const x = Float32Array.from({ length: batch * 3 * 32 * 32 }, (_, i) => Math.sin(i));
const plan = new ResNetInferencePlan(model, [batch, 3, 32, 32]);
const paths: [string, () => unknown][] = [
  ['model.forward()', () => wt.noGrad(() => model.forward(wt.tensor(x, [batch, 3, 32, 32])).logits.toFloat32Array())],
  ['plan.run()', () => plan.run(x)],
];

type Kernels = Record<string, (...args: number[]) => number>;
const be = backend() as unknown as { k: Kernels };
const kernels = be.k;
const cpuMs = (fn: () => unknown, n: number) => {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / n;
};

for (const [label, run] of paths) {
  for (let i = 0; i < Math.max(20, calls / 3); i++) run();
  const total = cpuMs(run, calls);
  // Fastest time of each kernel call site (the i-th kernel call of a forward), by kernel.
  const fastest: { name: string; ms: number }[] = [];
  let site = 0;
  be.k = Object.fromEntries(
    Object.entries(kernels).map(([name, f]) => [
      name,
      (...args: number[]) => {
        const t0 = performance.now();
        const r = f(...args);
        const ms = performance.now() - t0;
        const s = fastest[site];
        if (s) s.ms = Math.min(s.ms, ms);
        // Convolutions (x, filter, y, n, c, h, w, oc, kh, kw, stride, ...) by geometry.
        else
          fastest[site] = {
            name: /^conv2dForward/.test(name)
              ? `${name} ${args[4]}->${args[7]} ${args[8]}x${args[9]} s${args[10]} @${args[5]}x${args[6]}`
              : name,
            ms,
          };
        site++;
        return r;
      },
    ]),
  );
  for (let i = 0; i < calls; i++) {
    site = 0;
    run();
  }
  // Kernels as no-ops, except the queries of workspace sizes that the dispatch needs.
  be.k = Object.fromEntries(Object.entries(kernels).map(([name, f]) => [name, /Bytes$|Chunks$/.test(name) ? f : () => 0]));
  for (let i = 0; i < calls; i++) run();
  const jsOnly = cpuMs(run, 10 * calls);
  be.k = kernels;
  const byKernel = new Map<string, { calls: number; ms: number }>();
  for (const { name, ms } of fastest) {
    const k = byKernel.get(name) ?? { calls: 0, ms: 0 };
    byKernel.set(name, { calls: k.calls + 1, ms: k.ms + ms });
  }
  const kernelMs = fastest.reduce((a, s) => a + s.ms, 0);
  console.log(`${label}, batch ${batch}: ${total.toFixed(3)} ms CPU a call`);
  console.log(`  kernels (fastest per call site, summed): ${kernelMs.toFixed(3)} ms, ${fastest.length} calls`);
  for (const [name, k] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms))
    console.log(`    ${name.padEnd(48)} ${String(k.calls).padStart(4)} calls ${k.ms.toFixed(4)} ms`);
  console.log(`  JavaScript around them (kernels as no-ops): ${jsOnly.toFixed(3)} ms CPU a call`);
}
plan.dispose();
