// ResNet-32 training images/s (the trainer's step: forward + loss + backward
// + SGD, bench/trainerStep.ts) on one backend; run once per
// backend to compare WebGPU with WASM on the same machine.
// Run: npx tsx bench/backends.bench.ts webgpu|wasm|reference [batch 128] [steps 10] [arch resnet32]
// (THREADS=n sets the WASM backend's threads.)
// (scripts/gpu-check.sh runs it on a GPU machine.)
import * as wt from '../src/index.js';
import { benchStep } from './trainerStep.js';

const kind = (process.argv[2] ?? 'wasm') as 'wasm' | 'webgpu' | 'reference';
const batch = Number(process.argv[3] ?? 128);
const steps = Number(process.argv[4] ?? 10);
const arch = (process.argv[5] ?? 'resnet32') as 'resnet20' | 'resnet32';

await wt.init({ backend: kind, ...(process.env.THREADS ? { threads: Number(process.env.THREADS) } : {}) });
const model = wt.nn[arch]({ numClasses: 10, seed: 1 });
const step = benchStep(
  model,
  Float32Array.from({ length: batch * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37)),
  batch,
);
const times: number[] = [];
let loss = NaN;
for (let i = 0; i < steps + 2; i++) {
  const t0 = performance.now();
  ({ loss } = await step());
  // The update's end: a device backend has only queued it.
  await model.parameters()[0].data();
  if (i >= 2) times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const ms = times[Math.floor(times.length / 2)];
console.log(
  JSON.stringify({
    backend: kind,
    arch,
    batch,
    steps,
    msPerStep: Number(ms.toFixed(1)),
    imagesPerSec: Number(((batch / ms) * 1000).toFixed(1)),
    loss: Number(loss.toFixed(4)),
    engine: wt.info(),
  }),
);
wt.shutdown();
