// Worker threads over the shared memory: results do not depend on the thread
// count, bit for bit (each image, row of C, batch-norm channel, elementwise
// range and backward-filter chunk is computed as one thread computes it), and
// repeat exactly run to run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as wt from '../src/index.js';
import { backend } from '../src/backend/current.js';
import type { WasmBackend } from '../src/backend/wasm/wasmBackend.js';
import { ResNetInferencePlan } from '../src/nn/resnetPlan.js';
import { mulberry32, randomFrom } from './util/close.js';

/** Splits even the tiny shapes below over the threads (the default threshold keeps them on one). */
function splitEverything(): void {
  (backend() as WasmBackend).minParallelFlops = 0;
}

/** Values as exact bit patterns, so that -0 vs 0 and NaN payloads count as differences too. */
const bits = (t: wt.Tensor) => new Uint32Array(t.toFloat32Array().buffer);

/** conv2d forward and both gradients (direct and Winograd paths) and a matmul with both gradients on odd batch sizes; elementwise ops on an odd length. */
function convAndGemm(): Uint32Array[] {
  const out: Uint32Array[] = [];
  const rng = mulberry32(5);
  for (const [n, c, hw, oc, stride] of [
    [1, 3, 9, 4, 1],
    [3, 5, 8, 6, 2],
    [5, 4, 7, 8, 1],
    [7, 2, 6, 3, 1],
    [13, 3, 5, 5, 1],
    // Winograd F(4x4, 3x3) (assembly/winograd4.ts): 12x12 and larger images, at least 8 channels; the filter
    // gradient by F(3x3, 4x4) (assembly/winograd4-filter.ts), one image per chunk on each thread.
    [5, 9, 13, 8, 1],
  ]) {
    const x = wt.tensor(randomFrom(n * c * hw * hw, rng), [n, c, hw, hw], { requiresGrad: true });
    const w = wt.tensor(randomFrom(oc * c * 9, rng), [oc, c, 3, 3], { requiresGrad: true });
    const y = wt.conv2d(x, w, { stride, padding: 1 });
    wt.sum(wt.mul(y, wt.tensor(randomFrom(y.size, rng), y.shape))).backward();
    out.push(bits(y), bits(x.grad!), bits(w.grad!));
  }
  for (const [m, k, n] of [
    [37, 29, 11],
    [9, 300, 17],
  ]) {
    const a = wt.tensor(randomFrom(m * k, rng), [m, k], { requiresGrad: true });
    const b = wt.tensor(randomFrom(k * n, rng), [k, n], { requiresGrad: true });
    const y = wt.matmul(a, b);
    wt.sum(wt.mul(y, y)).backward();
    out.push(bits(y), bits(a.grad!), bits(b.grad!));
  }
  const v = wt.tensor(randomFrom(1001, rng), [1001]);
  out.push(bits(wt.exp(v)), bits(wt.log(wt.mul(v, v))), bits(wt.relu(v)), bits(wt.sub(v, wt.mul(v, v))));
  return out;
}

/** Two SGD steps of ResNet-20 on a small batch (batch norm in training mode), then an eval forward: every parameter and the logits. */
function resnetSteps(): Uint32Array[] {
  const model = wt.nn.resnet20({ numClasses: 10, seed: 7 });
  const opt = wt.optim.sgd(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const rng = mulberry32(9);
  const x = randomFrom(5 * 3 * 16 * 16, rng);
  for (let step = 0; step < 2; step++) {
    opt.zeroGrad();
    const { logits } = model.forward(wt.tensor(x, [5, 3, 16, 16]));
    wt.crossEntropy(logits, [0, 3, 1, 9, 3]).backward();
    opt.step();
  }
  model.eval();
  const { logits } = wt.noGrad(() => model.forward(wt.tensor(x, [5, 3, 16, 16])));
  return [...model.parameters().map(bits), bits(logits)];
}

/**
 * An inference plan's logits at batch 5, whose threads all read each conv's
 * one prepared filter (16x16 inputs: F(4,3), F(2,3) and direct convs), and
 * model.forward()'s.
 */
function planLogits(): Uint32Array[] {
  const model = wt.nn.resnet20({ numClasses: 10, seed: 7 }).eval();
  const x = randomFrom(5 * 3 * 16 * 16, mulberry32(4));
  const plan = new ResNetInferencePlan(model, [5, 3, 16, 16]);
  const logits = plan.run(x).slice();
  plan.dispose();
  return [new Uint32Array(logits.buffer), bits(wt.noGrad(() => model.forward(wt.tensor(x, [5, 3, 16, 16]))).logits)];
}

async function withThreads(n: number, fn: () => Uint32Array[]): Promise<Uint32Array[]> {
  assert.equal(await wt.setThreads(n), n);
  assert.equal(wt.info().threads, n);
  return fn();
}

describe('threads', () => {
  before(async () => {
    await wt.init({ threads: 2 });
    splitEverything();
  });
  after(() => wt.shutdown());

  it('info() reports the threads in use and the shared memory', () => {
    assert.equal(wt.info().threads, 2);
    assert.equal(wt.info().sharedMemory, true);
  });

  it('conv2d (forward, both gradients), matmul and elementwise ops: 1, 2 and 3 threads bit-identical, 2 threads repeatable', async () => {
    const one = await withThreads(1, convAndGemm);
    const two = await withThreads(2, convAndGemm);
    const again = await withThreads(2, convAndGemm);
    const three = await withThreads(3, convAndGemm);
    assert.deepEqual(two, one);
    assert.deepEqual(again, two);
    assert.deepEqual(three, one);
  });

  it("an inference plan (prepared filters shared by the threads): 1, 2 and 3 threads bit-identical, and model.forward()'s logits", async () => {
    const one = await withThreads(1, planLogits);
    assert.deepEqual(one[0], one[1]);
    assert.deepEqual(await withThreads(2, planLogits), one);
    assert.deepEqual(await withThreads(3, planLogits), one);
  });

  it('ResNet-20 training steps: the same parameters, bit for bit, on 1 and 2 threads', async () => {
    const one = await withThreads(1, resnetSteps);
    const two = await withThreads(2, resnetSteps);
    assert.deepEqual(two, one);
  });

  it('falls back to one thread on a private memory, and shutdown() leaves one thread working', async () => {
    const module = await WebAssembly.compile(
      await import('node:fs').then((fs) => fs.readFileSync(new URL('../dist/wasmtail.wasm', import.meta.url))),
    );
    await wt.init({ module, threads: 2 });
    assert.equal(wt.info().threads, 1);
    assert.equal(wt.info().sharedMemory, false);
    await wt.init({ threads: 2 });
    wt.shutdown();
    assert.equal(wt.info().threads, 1);
    assert.equal(wt.sum(wt.matmul(wt.tensor([1, 2], [1, 2]), wt.tensor([3, 4], [2, 1]))).item(), 11);
  });
});
