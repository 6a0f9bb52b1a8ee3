// Every training loss on the WebGPU backend: forward against the float64
// reference and gradient against finite differences (test/util/gradcheck.ts),
// through the factory the trainer uses. Focal loss takes its row maximum on
// the device there (no read-back inside an op).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as losses from '../../src/losses/index.js';
import { gradcheck, forwardcheck, type GradCase } from '../util/gradcheck.js';
import { randomValues, webgpuBackend } from '../util/backends.js';

const gpu = await webgpuBackend();

describe('losses on the WebGPU backend', { skip: gpu ? false : 'no WebGPU adapter' }, () => {
  it('every loss of makeLoss, and focal with large logits', async () => {
    const [n, c] = [5, 7];
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 3) % c);
    const counts = Array.from({ length: c }, (_, j) => 1000 >> j);
    const cases: (GradCase & { name: string })[] = losses.LOSS_NAMES.map((name) => {
      const loss = losses.makeLoss(name, { classCounts: counts, lambda: 6 });
      return {
        name,
        inputs: [
          { values: randomValues(n * c, 3, -1, 1), shape: [n, c], grad: true },
          { values: randomValues(n * 4, 4, 0.2, 2), shape: [n, 4], grad: loss.needsFeatures },
        ],
        fn: ([logits, features]) => loss.compute({ logits, features }, labels, 10, 30),
      };
    });
    // exp() of these would overflow without the row-max shift.
    cases.push({
      name: 'focal, logits near 100',
      inputs: [{ values: randomValues(n * c, 5, 95, 105), shape: [n, c], grad: true }],
      fn: ([logits]) => losses.focal(logits, labels, { gamma: 2 }),
    });
    for (const { name, ...c } of cases) {
      const fwd = await forwardcheck(gpu!, c, { atol: 1e-4, rtol: 1e-4 });
      assert.ok(fwd.worst <= 1, `${name}: forward differs from the float64 reference: ${fwd.where}`);
      const grad = await gradcheck(gpu!, c);
      assert.ok(grad.worst <= 1, `${name}: gradient differs from finite differences: ${grad.where}`);
    }
  });
});
