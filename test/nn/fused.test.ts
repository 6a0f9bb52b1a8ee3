// The ResNets' fusions. Eval mode: conv -> batch norm -> (+ shortcut) -> ReLU
// as one op (src/ops/fused.ts) when no gradient is wanted; with gradients on,
// the same chain runs as the separate differentiable ops: both must give the
// same logits and features. Training mode: batch norm -> (+ shortcut) -> ReLU
// as one op (batchNormAct), which must train bit for bit as the separate ops.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as wt from '../../src/index.js';
import { mulberry32, randomFrom } from '../util/close.js';
import { withTrainedBatchNorm } from '../util/batchnorm.js';
import type { Backend, Capability } from '../../src/backend/backend.js';
import { backend, setBackend } from '../../src/backend/current.js';

/** b as a backend that states one capability fewer (its methods unchanged). */
function withoutCapability(b: Backend, capability: Capability): Backend {
  const capabilities = new Set([...b.capabilities].filter((c) => c !== capability));
  return new Proxy(b, { get: (target, key) => (key === 'capabilities' ? capabilities : Reflect.get(target, key, target)) });
}

before(() => wt.init({ threads: 1 }));

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-3 + Math.abs(b[i])));
  return worst;
}

describe('fused eval forward', () => {
  it('ResNet-20 in eval mode: the fused forward (no grad) matches the separate ops (grad on) and trained statistics are used', () => {
    const model = wt.nn.resnet20({ numClasses: 10, seed: 3 });
    const rng = mulberry32(11);
    // Non-trivial running statistics and affine parameters, as after training.
    model.loadStateDict(withTrainedBatchNorm(model, rng));
    model.eval();
    const x = randomFrom(3 * 3 * 17 * 17, rng);
    const fused = wt.noGrad(() => model.forward(wt.tensor(x, [3, 3, 17, 17])));
    const fusedLogits = fused.logits.toFloat32Array(),
      fusedFeatures = fused.features.toFloat32Array();
    const separate = model.forward(wt.tensor(x, [3, 3, 17, 17]));
    assert.ok(maxRelDiff(fusedLogits, separate.logits.toFloat32Array()) < 1e-4, 'logits differ');
    assert.ok(maxRelDiff(fusedFeatures, separate.features.toFloat32Array()) < 1e-4, 'features differ');
    wt.sum(separate.logits).backward();
    assert.ok(model.conv1.weight.grad, 'the grad-on path records a backward');
  });

  it('ResNet-20 training steps with the fused batch norm + residual + ReLU are bit-identical to the separate ops', () => {
    const steps = () => {
      const model = wt.nn.resnet20({ numClasses: 10, seed: 5 });
      const opt = wt.optim.sgd(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
      const rng = mulberry32(2);
      const x = randomFrom(6 * 3 * 12 * 12, rng);
      for (let step = 0; step < 2; step++) {
        opt.zeroGrad();
        wt.crossEntropy(model.forward(wt.tensor(x, [6, 3, 12, 12])).logits, [0, 3, 1, 9, 3, 7]).backward();
        opt.step();
      }
      return [...model.stateDict().values()].map((t) => Array.from(new Uint32Array(t.toFloat32Array().buffer)));
    };
    const fused = steps();
    const be = backend();
    assert.ok(be.capabilities.has('batchNormAct'), 'the fused run used the fusion');
    // The same backend without the capability: the op runs the separate primitives.
    setBackend(withoutCapability(be, 'batchNormAct'));
    try {
      assert.deepEqual(steps(), fused);
    } finally {
      setBackend(be);
    }
  });
});
