// Where a ResNet-32 training step spends its time, per backend primitive
// (wall time of each Backend method, summed over the steps), on the default
// build with the given thread count.
// Run: npm run build:wasm && npx tsx bench/step-profile.ts [threads 2] [batch 128] [--sites: convolutions by geometry too]
import * as wt from '../src/index.js';
import { backend } from '../src/backend/current.js';
import { benchStep } from './trainerStep.js';
import type { ConvGeometry } from '../src/backend/backend.js';
const threads = Number(process.argv[2] ?? 2),
  batch = Number(process.argv[3] ?? 128);
await wt.init({ threads });
const b = backend() as unknown as Record<string, (...args: unknown[]) => unknown>;
const acc = new Map<string, number>();
const bySite = new Map<string, number>();
for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(b))) {
  if (
    [
      'constructor',
      'convOverBatch',
      'overChannels',
      'overElements',
      'convFlops',
      'geometry',
      'args',
      'call',
      'runParts',
      'walkDescriptor',
      'labelPtr',
      'p',
      'view',
      'parts',
      'workspace',
      'grow',
      'describe',
      'setThreads',
      'dispose',
      'convJobs',
      'runJobs',
      'convRunner',
      'convWorkspaceBytes',
    ].includes(name) ||
    typeof b[name] !== 'function'
  )
    continue;
  const f = b[name].bind(b);
  b[name] = (...args: unknown[]) => {
    const t0 = performance.now();
    const r = f(...args);
    const ms = performance.now() - t0;
    acc.set(name, (acc.get(name) ?? 0) + ms);
    // Convolutions also by geometry (their last argument before any epilogue is a ConvGeometry).
    const g = args.find((a): a is ConvGeometry => typeof a === 'object' && a !== null && 'kh' in a && 'oc' in a);
    if (name.startsWith('conv2d') && g) {
      const site = `${name} ${g.c}->${g.oc} ${g.kh}x${g.kw} s${g.stride} @${g.h}x${g.w}`;
      bySite.set(site, (bySite.get(site) ?? 0) + ms);
    }
    return r;
  };
}
const step = benchStep(
  wt.nn.resnet32({ numClasses: 10 }),
  Float32Array.from({ length: batch * 3 * 32 * 32 }, () => Math.random() * 2 - 1),
  batch,
);
const steps = 4;
let total = 0;
for (let i = 0; i < steps + 1; i++) {
  if (i === 1) {
    acc.clear();
    bySite.clear();
  }
  const t0 = performance.now();
  await step();
  if (i >= 1) total += performance.now() - t0;
}
console.log(
  `threads ${threads} batch ${batch}: ${(total / steps).toFixed(1)} ms/step, ${((batch / (total / steps)) * 1000).toFixed(1)} img/s, build ${wt.info().build}`,
);
const rows = [...acc].filter(([k]) => !['describe', 'view', 'parts', 'workspace', 'grow'].includes(k)).sort((a, b) => b[1] - a[1]);
let sum = 0;
for (const [, v] of rows) sum += v;
for (const [k, v] of rows.slice(0, 16))
  console.log(k.padEnd(28), (v / steps).toFixed(1).padStart(8), 'ms', ((100 * v) / total).toFixed(1).padStart(5), '%');
console.log('outside the backend'.padEnd(28), ((total - sum) / steps).toFixed(1).padStart(8), 'ms');
if (process.argv.includes('--sites')) {
  console.log('convolutions by geometry:');
  for (const [k, v] of [...bySite].sort((a, b) => b[1] - a[1]))
    console.log('  ' + k.padEnd(52), (v / steps).toFixed(1).padStart(8), 'ms', ((100 * v) / total).toFixed(1).padStart(5), '%');
}
wt.shutdown();
