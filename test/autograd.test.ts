// The tape and the memory policy: accumulation, no-grad, shared subgraphs,
// released tensors, scopes, and flat memory over many steps.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as wt from '../src/index.js';

before(() => wt.init());

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `element ${i}: ${a[i]} vs ${b[i]}`);
};

describe('autograd', () => {
  it('accumulates gradients across backward calls, as PyTorch does', () => {
    const x = wt.tensor([1, 2, 3], [3], { requiresGrad: true });
    wt.sum(wt.mul(x, x)).backward();
    close(x.grad!.toFloat32Array(), [2, 4, 6]);
    wt.sum(wt.mul(x, x)).backward();
    close(x.grad!.toFloat32Array(), [4, 8, 12]);
  });

  it('sums gradients of a tensor used several times (shared subgraph)', () => {
    const x = wt.tensor([0.5, -1.5], [2], { requiresGrad: true });
    const y = wt.add(x, x); // dy/dx = 2
    const z = wt.mul(y, wt.reshape(y, [2])); // 4x^2 -> 8x
    wt.sum(wt.add(z, y)).backward(); // 8x + 2
    close(x.grad!.toFloat32Array(), [6, -10]);
  });

  it('records nothing under noGrad', () => {
    const x = wt.tensor([1, 2], [2], { requiresGrad: true });
    const y = wt.noGrad(() => wt.mul(x, x));
    assert.equal(y.requiresGrad, false);
    assert.throws(() => wt.sum(y).backward(), /does not require grad/);
  });

  it('refuses a non-scalar root without a gradient', () => {
    const x = wt.tensor([1, 2], [2], { requiresGrad: true });
    assert.throws(() => wt.mul(x, x).backward(), /needs a scalar/);
  });

  it('accepts an explicit output gradient', () => {
    const x = wt.tensor([1, 2], [2], { requiresGrad: true });
    wt.mul(x, x).backward(wt.tensor([1, 10], [2]));
    close(x.grad!.toFloat32Array(), [2, 40]);
  });
});

describe('memory policy', () => {
  it('a tensor used after its step ended throws an error that says so', () => {
    const t = wt.tensor([1, 2, 3], [3]);
    wt.endStep();
    assert.throws(() => t.toFloat32Array(), /was released because its step ended/);
  });

  it('keep() holds a tensor across steps; dispose() frees it', () => {
    const t = wt.tensor([1, 2, 3], [3]).keep();
    wt.endStep();
    close(t.toFloat32Array(), [1, 2, 3]);
    t.dispose();
    assert.throws(() => t.toFloat32Array(), /dispose\(\) was called/);
  });

  it('tidy() frees what it created except what it returns', () => {
    let inner: wt.Tensor | undefined;
    const out = wt.tidy(() => {
      inner = wt.tensor([1, 2], [2]);
      return wt.add(inner, inner);
    });
    assert.throws(() => inner!.toFloat32Array(), /created inside tidy\(\) and not returned/);
    close(out.toFloat32Array(), [2, 4]);
  });

  it('survivors of endStep() stay usable', () => {
    const x = wt.tensor([3], [1]);
    wt.endStep([x]);
    close(x.toFloat32Array(), [3]);
  });

  it('a view outlives the tensor it views', () => {
    const x = wt.tensor([1, 2, 3, 4], [2, 2]);
    const v = wt.reshape(x, [4]).keep();
    wt.endStep();
    close(v.toFloat32Array(), [1, 2, 3, 4]);
    v.dispose();
  });

  it('memory stays flat over many training steps (soak: WASM heap and resident memory)', (t) => {
    const w = wt.tensor(new Float32Array(8 * 3 * 3 * 3).fill(0.1), [8, 3, 3, 3], { requiresGrad: true });
    const lw = wt.tensor(new Float32Array(4 * 8).fill(0.05), [4, 8], { requiresGrad: true });
    const gamma = wt.tensor(new Float32Array(8).fill(1), [8], { requiresGrad: true });
    const beta = wt.tensor(new Float32Array(8), [8], { requiresGrad: true });
    const rm = wt.zeros([8], { persistent: true });
    const rv = wt.full([8], 1, { persistent: true });
    const labels = Int32Array.from([0, 1, 2, 3]);
    const step = () => {
      wt.endStep();
      const x = wt.tensor(
        Float32Array.from({ length: 4 * 3 * 8 * 8 }, (_, i) => Math.sin(i)),
        [4, 3, 8, 8],
      );
      const h = wt.relu(wt.batchNorm2d(wt.conv2d(x, w, { padding: 1 }), gamma, beta, rm, rv, { training: true }));
      const loss = wt.crossEntropy(wt.linear(wt.globalAvgPool2d(h), lw), labels);
      loss.backward();
      return loss.item();
    };
    for (let i = 0; i < 20; i++) step();
    const before = (wt.info() as { heapBytesInUse: number }).heapBytesInUse;
    const memBefore = (wt.info() as { memoryBytes: number }).memoryBytes;
    const rssBefore = process.memoryUsage().rss;
    const STEPS = 1000;
    for (let i = 0; i < STEPS; i++) step();
    const after = (wt.info() as { heapBytesInUse: number }).heapBytesInUse;
    const memAfter = (wt.info() as { memoryBytes: number }).memoryBytes;
    const rssAfter = process.memoryUsage().rss;
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    t.diagnostic(
      `after warm-up: WASM heap in use ${mib(before)} MiB, linear memory ${mib(memBefore)} MiB, RSS ${mib(rssBefore)} MiB; ` +
        `after ${STEPS} more steps: ${mib(after)} MiB, ${mib(memAfter)} MiB, RSS ${mib(rssAfter)} MiB`,
    );
    assert.equal(after, before, `bytes in use after ${STEPS} more steps`);
    assert.equal(memAfter, memBefore, `linear memory size after ${STEPS} more steps`);
    // RSS also holds the JS heap, which the garbage collector sizes as it likes: allow it some slack, not a per-step leak.
    assert.ok(rssAfter - rssBefore < 32 * 2 ** 20, `RSS grew by ${mib(rssAfter - rssBefore)} MiB over ${STEPS} steps`);
  });
});
