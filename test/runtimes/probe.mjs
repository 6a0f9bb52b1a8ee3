// Run by runtimes.test.ts under Node, Bun and Deno alike (plain JavaScript, so
// that no runtime needs a TypeScript loader), against the built package in
// dist/: what info() reports after a default init, hashes of the exact bits
// of two ResNet-20 SGD steps on each kernel build and thread count the runtime
// has, the logits wasmtail/infer gives for the embedding fixture, and
// shutdown() of a threaded pool eight times over. Prints one JSON object; the
// process must then end by itself, with nothing on stderr.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as wt from '../../dist/index.js';
import * as infer from '../../dist/infer.js';

const [checkpoint, inputs] = process.argv.slice(2);

/** Two SGD steps of ResNet-20 (batch norm in training mode) and an eval forward; sha256 of every parameter's and the logits' bits. */
function resnetStepsHash() {
  const model = wt.nn.resnet20({ numClasses: 10, seed: 7 });
  const opt = wt.optim.sgd(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const x = Float32Array.from({ length: 5 * 3 * 16 * 16 }, (_, i) => Math.sin(i * 0.37));
  const losses = [];
  for (let step = 0; step < 2; step++) {
    opt.zeroGrad();
    const { logits } = model.forward(wt.tensor(x, [5, 3, 16, 16]));
    const loss = wt.crossEntropy(logits, [0, 3, 1, 9, 3]);
    losses.push(loss.item());
    loss.backward();
    opt.step();
  }
  model.eval();
  const { logits } = wt.noGrad(() => model.forward(wt.tensor(x, [5, 3, 16, 16])));
  const hash = createHash('sha256');
  for (const t of [...model.parameters(), logits]) hash.update(new Uint8Array(t.toFloat32Array().buffer));
  return { losses, hash: hash.digest('hex') };
}

const report = { runtime: runtimeName(), steps: {} };

/** (func (param v128 v128 v128) (result v128) f32x4.relaxed_madd): the loader's own probe, asked again here after init. */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);

await wt.init();
report.info = wt.info();
// After init: under Node 20, init itself switches relaxed SIMD on (a V8 flag).
report.relaxedValidates = WebAssembly.validate(RELAXED_SIMD_PROBE);

for (const simd of report.info.build === 'relaxed-simd' ? ['plain', 'relaxed'] : ['plain']) {
  for (const threads of [1, 2]) {
    const b = await wt.init({ simd, threads });
    // Split even this small batch over both threads (the default threshold would keep it on one).
    b.minParallelFlops = 0;
    report.steps[`${simd}/${threads}`] = { threadsInUse: wt.info().threads, ...resnetStepsHash() };
    wt.shutdown();
  }
}

// A threaded pool started and shut down again, eight times: no worker may throw afterwards.
for (let i = 0; i < 8; i++) {
  await wt.init({ threads: 2 });
  wt.tensor([1, 2, 3], [3]).toFloat32Array();
  wt.shutdown();
}

const bytes = readFileSync(checkpoint);
const raw = readFileSync(inputs);
const model = await infer.loadModel(bytes);
const out = await infer.predict(model, new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
report.logits = out.flatMap((p) => Array.from(p.logits));
report.info = { ...report.info, inferKernels: infer.KERNELS_FILE };
process.stdout.write(JSON.stringify(report) + '\n');

function runtimeName() {
  if (typeof globalThis.Bun !== 'undefined') return `bun ${globalThis.Bun.version}`;
  if (typeof globalThis.Deno !== 'undefined') return `deno ${globalThis.Deno.version.deno}`;
  return `node ${process.version}`;
}
