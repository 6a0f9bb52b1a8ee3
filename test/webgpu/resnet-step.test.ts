// A full ResNet-32 training step on WebGPU (lavapipe in CI) against the WASM
// backend: logits and loss elementwise, every gradient and SGD update by
// cosine and relative L2 error (ReLU gates flip on float32 rounding, as in
// test/nn/torch-interop.test.ts), the last layers and the running
// statistics elementwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as wt from '../../src/index.js';
import type { Backend } from '../../src/backend/backend.js';
import { setBackend } from '../../src/backend/current.js';
import { randomValues, webgpuBackend } from '../util/backends.js';

const wasm = await wt.init({ backend: 'wasm' });
const gpu = await webgpuBackend();

const N = 4;
const x = randomValues(N * 3 * 32 * 32, 11, -2, 2);
const y = Int32Array.from({ length: N }, (_, i) => (i * 3) % 10);

interface StepResult {
  logits: Float32Array;
  loss: number;
  grads: Map<string, Float32Array>;
  updates: Map<string, Float32Array>;
  buffers: Map<string, Float32Array>;
}

async function trainingStep(b: Backend): Promise<StepResult> {
  setBackend(b);
  const model = wt.nn.resnet32({ numClasses: 10, seed: 5 });
  const opt = wt.optim.sgd(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 2e-4 });
  const before = new Map<string, Float32Array>();
  for (const [name, p] of model.namedParameters()) before.set(name, await p.data());
  opt.zeroGrad();
  const out = model.forward(wt.tensor(x, [N, 3, 32, 32]));
  const loss = wt.crossEntropy(out.logits, y);
  loss.backward();
  const result: StepResult = {
    logits: await out.logits.data(),
    loss: (await loss.data())[0],
    grads: new Map(),
    updates: new Map(),
    buffers: new Map(),
  };
  for (const [name, p] of model.namedParameters()) result.grads.set(name, await p.grad!.data());
  opt.step();
  for (const [name, p] of model.namedParameters()) {
    const w0 = before.get(name)!;
    result.updates.set(
      name,
      (await p.data()).map((v, i) => w0[i] - v),
    );
  }
  for (const [name, t] of model.namedBuffers()) result.buffers.set(name, await t.data());
  return result;
}

function assertClose(got: Float32Array, want: Float32Array, what: string, rtol: number, atol: number): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const scale = Math.max(...Array.from(want, Math.abs));
  for (let i = 0; i < want.length; i++) {
    const tol = atol * scale + rtol * Math.abs(want[i]);
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: WebGPU ${got[i]} vs WASM ${want[i]}`);
  }
}

function assertAgree(got: Float32Array, want: Float32Array, what: string): void {
  let dot = 0,
    gg = 0,
    ww = 0,
    dd = 0;
  for (let i = 0; i < want.length; i++) {
    dot += got[i] * want[i];
    gg += got[i] ** 2;
    ww += want[i] ** 2;
    dd += (got[i] - want[i]) ** 2;
  }
  if (ww === 0 && gg === 0) return;
  const cosine = dot / Math.sqrt(gg * ww);
  assert.ok(cosine > 0.995 && Math.sqrt(dd / ww) < 0.1, `${what}: cosine ${cosine}, relative L2 error ${Math.sqrt(dd / ww)}`);
}

describe('ResNet-32 training step: WebGPU against WASM', { skip: gpu ? false : 'no WebGPU adapter' }, () => {
  it('logits, loss, every gradient, the SGD update and the running statistics agree', async () => {
    const want = await trainingStep(wasm);
    const got = await trainingStep(gpu!);
    assertClose(got.logits, want.logits, 'logits', 1e-4, 1e-5);
    assertClose(Float32Array.of(got.loss), Float32Array.of(want.loss), 'loss', 1e-5, 0);
    assert.equal(got.grads.size, want.grads.size);
    for (const [name, g] of want.grads) assertAgree(got.grads.get(name)!, g, `grad ${name}`);
    for (const name of ['linear.weight', 'linear.bias', 'layer3.4.bn2.weight', 'layer3.4.bn2.bias']) {
      assertClose(got.grads.get(name)!, want.grads.get(name)!, `grad ${name}`, 1e-4, 1e-5);
    }
    for (const [name, u] of want.updates) assertAgree(got.updates.get(name)!, u, `SGD update of ${name}`);
    for (const [name, b] of want.buffers) {
      assertClose(got.buffers.get(name)!, b, `after step ${name}`, 1e-4, 1e-5);
    }
  });
});
