// A whole tiny training run pinned bit for bit: the final weights and running
// statistics in last.safetensors (SHA-256 of each tensor's bytes, in name
// order), the momentum buffers and batch RNG state in its metadata, and every
// epoch's metrics, against golden values
// computed on main 2fb537d before the trainer became one library
// (src/train/trainer.ts). Three epochs touch each branch of the recipe's
// learning-rate schedule (warm-up, x0.01, x0.0001) and FBL's curriculum.
// Regenerate (only with a justification in the commit): WASMTAIL_WRITE_GOLDEN=1.
import { it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wt from '../../src/index.js';
import { train } from '../../src/train/index.js';
import { loadSafetensorsFile } from '../../src/io/files.js';
import { quiet, runMetrics, tinyConfig } from '../util/cli.js';

const FIXTURE = new URL('./fixtures/run-golden.json', import.meta.url);
const root = mkdtempSync(join(tmpdir(), 'wasmtail-run-golden-'));
after(() => rmSync(root, { recursive: true, force: true }));

it('a 3-epoch ResNet-20 FBL run ends with the golden weights and metrics (WASM, plain SIMD, one thread)', async () => {
  await wt.init({ backend: 'wasm', simd: 'plain', threads: 1 });
  const out = join(root, 'run');
  const cfg = tinyConfig(out, { lrSteps: [1, 2], limitTrain: 128, limitTest: 64, loss: 'fbl', lambda: 10 });
  await train(cfg, { progress: quiet() });
  wt.shutdown();
  const ckpt = await loadSafetensorsFile(join(out, 'last.safetensors'));
  const tensors: Record<string, string> = {};
  for (const name of [...ckpt.tensors.keys()].sort()) {
    const t = ckpt.tensors.get(name)!;
    tensors[name] = createHash('sha256')
      .update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
      .digest('hex');
  }
  const metrics = runMetrics(out);
  // The momentum buffers travel in the metadata (src/train/checkpoint.ts), with the batch order's RNG state.
  const optimizer = createHash('sha256').update(ckpt.metadata.optimizer).digest('hex');
  const got = { tensors, optimizer, batchRng: createHash('sha256').update(ckpt.metadata.batchRng).digest('hex'), metrics };
  if (process.env.WASMTAIL_WRITE_GOLDEN) {
    writeFileSync(FIXTURE, `${JSON.stringify(got, null, 1)}\n`);
    return;
  }
  assert.deepEqual(got, JSON.parse(readFileSync(FIXTURE, 'utf8')));
});
