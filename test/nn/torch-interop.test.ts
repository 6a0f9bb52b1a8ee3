// PyTorch interop: a PyTorch-saved ResNet-20 loads unchanged and gives the
// same outputs; our ResNet-8 and ResNet-20 weights load into the PyTorch twin
// (strict) and one training step there (loss, every gradient, the SGD update)
// matches ours.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wt from '../../src/index.js';
import { loadSafetensorsFile } from '../../src/io/files.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { randomValues } from '../util/backends.js';

before(() => wt.init());

const PYTHON = process.env.WASMTAIL_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

function assertClose(got: Float32Array, want: Float32Array, what: string, rtol: number, atol: number): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const scale = Math.max(...Array.from(want, Math.abs));
  for (let i = 0; i < want.length; i++) {
    const tol = atol * scale + rtol * Math.abs(want[i]);
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: ${got[i]} vs PyTorch ${want[i]}`);
  }
}

describe('PyTorch interop', () => {
  it('a ResNet-20 saved by PyTorch (fixture) loads and gives its logits and features within 1e-4', async () => {
    const ckpt = await loadSafetensorsFile('test/nn/fixtures/torch-resnet20.safetensors');
    const expected = await loadSafetensorsFile('test/nn/fixtures/torch-resnet20.expected.safetensors');
    const model = wt.nn.resnet20({ numClasses: 10 });
    model.loadStateDict(ckpt);
    model.eval();
    const x = expected.get('x')!;
    const out = wt.noGrad(() => model.forward(wt.tensor(x.data, x.shape)));
    assertClose(out.logits.toFloat32Array(), expected.get('logits')!.data, 'logits', 1e-4, 1e-5);
    assertClose(out.features.toFloat32Array(), expected.get('features')!.data, 'features', 1e-4, 1e-5);
  });

  it('a checkpoint for another architecture is refused, naming what does not fit', async () => {
    const ckpt = await loadSafetensorsFile('test/nn/fixtures/torch-resnet20.safetensors');
    assert.throws(() => wt.nn.resnet32().loadStateDict(ckpt), /missing: layer1\.3\.conv1\.weight/);
    assert.throws(
      () => wt.nn.resnet20({ numClasses: 100 }).loadStateDict(ckpt),
      /linear\.weight has shape \[10, 64\] in the checkpoint but \[100, 64\] in the model/,
    );
  });

  it("every architecture is read back off its own state dict's block count", () => {
    for (const [arch, make] of Object.entries(wt.nn.ARCHITECTURES)) {
      const sd = new Map([...make({ numClasses: 10 }).stateDict()].map(([k, t]) => [k, { shape: t.shape, data: t.toFloat32Array() }]));
      assert.equal(wt.nn.describeStateDict(sd).arch, arch);
    }
  });

  // ResNet-8 (the demo's) and ResNet-20: one block a stage and several.
  for (const arch of ['resnet8', 'resnet20'] as const)
    it(`one ${arch} training step matches PyTorch: loss, every gradient, the SGD update`, {
      skip: hasTorch ? false : `no torch for ${PYTHON}`,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wasmtail-torch-'));
      const model = wt.nn.ARCHITECTURES[arch]({ numClasses: 10, seed: 5 });
      const last = `layer3.${model.blocksPerStage - 1}`;
      const n = 8;
      const x = randomValues(n * 3 * 32 * 32, 11, -2, 2);
      const y = Int32Array.from({ length: n }, (_, i) => (i * 3) % 10);
      const sd = new Map([...model.stateDict()].map(([k, t]) => [k, { shape: t.shape, data: t.toFloat32Array() }]));
      writeFileSync(join(dir, 'model.safetensors'), saveSafetensors(sd));
      writeFileSync(
        join(dir, 'batch.safetensors'),
        saveSafetensors({ x: { shape: [n, 3, 32, 32], data: x }, y: { shape: [n], data: Float32Array.from(y) } }),
      );
      const r = spawnSync(
        PYTHON,
        ['scripts/torch_resnet.py', 'step', join(dir, 'model.safetensors'), join(dir, 'batch.safetensors'), join(dir, 'out.safetensors')],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      const want = await loadSafetensorsFile(join(dir, 'out.safetensors'));

      model.eval();
      const ev = wt.noGrad(() => model.forward(wt.tensor(x, [n, 3, 32, 32])));
      assertClose(ev.logits.toFloat32Array(), want.get('eval.logits')!.data, 'eval logits', 1e-4, 1e-5);

      model.train();
      const opt = wt.optim.sgd(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 2e-4 });
      opt.zeroGrad();
      const { logits } = model.forward(wt.tensor(x, [n, 3, 32, 32]));
      const loss = wt.crossEntropy(logits, y);
      loss.backward();
      assertClose(Float32Array.of(loss.item()), want.get('loss')!.data, 'loss', 1e-5, 0);
      // Elementwise agreement cannot be asked of every gradient: float32 rounding
      // differs between engines by ~1e-6, and among ~10^5 ReLU inputs per layer a
      // few lie that close to 0, so their ReLU gate flips and the gradients below
      // that layer move by a few percent (checked: the float64 reference backend
      // sides with PyTorch at such an element, WASM with the other side, both
      // within rounding). A real bug (a wrong stride, transpose or sign) gives a
      // cosine far below 0.99; a flip leaves it above.
      const agree = (got: Float32Array, ref: Float32Array, what: string) => {
        let dot = 0,
          gg = 0,
          rr = 0,
          dd = 0;
        for (let i = 0; i < ref.length; i++) {
          dot += got[i] * ref[i];
          gg += got[i] ** 2;
          rr += ref[i] ** 2;
          dd += (got[i] - ref[i]) ** 2;
        }
        const cosine = dot / Math.sqrt(gg * rr);
        assert.ok(cosine > 0.995 && Math.sqrt(dd / rr) < 0.1, `${what}: cosine ${cosine}, relative L2 error ${Math.sqrt(dd / rr)}`);
      };
      for (const [name, p] of model.namedParameters()) agree(p.grad!.toFloat32Array(), want.get(`grad.${name}`)!.data, `grad ${name}`);
      // The last layers lie above every ReLU gate: elementwise there.
      for (const name of ['linear.weight', 'linear.bias', `${last}.bn2.weight`, `${last}.bn2.bias`]) {
        const p = [...model.namedParameters()].find(([n]) => n === name)![1];
        assertClose(p.grad!.toFloat32Array(), want.get(`grad.${name}`)!.data, `grad ${name}`, 1e-4, 1e-5);
      }
      const before = new Map([...model.namedParameters()].map(([n, p]) => [n, p.toFloat32Array()]));
      opt.step();
      for (const [name, p] of model.namedParameters()) {
        const w0 = before.get(name)!;
        const ours = p.toFloat32Array().map((v, i) => w0[i] - v);
        const theirs = want.get(`after.${name}`)!.data.map((v, i) => w0[i] - v);
        agree(ours, theirs, `SGD update of ${name}`);
      }
      // Running statistics come from the forward pass alone: elementwise.
      for (const [name, t] of model.namedBuffers()) {
        assertClose(t.toFloat32Array(), want.get(`after.${name}`)!.data, `after step ${name}`, 1e-4, 1e-5);
      }
    });
});
