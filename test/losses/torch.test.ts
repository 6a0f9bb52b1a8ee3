// Cross-check against PyTorch: the reference code's formulas (LDAM-DRW's
// LDAMLoss, focal_loss, DRW / 'Reweight' weights and NormedLinear; the FBL
// formula of RECIPE.md; balanced softmax), run in float64 by python3 + torch
// on fixed inputs, against our values and gradients. Skipped when python3 or
// torch is missing.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as wt from '../../src/index.js';
import * as losses from '../../src/losses/index.js';
import { randomValues } from '../util/backends.js';

const SCRIPT = `
import json, sys
import numpy as np
import torch
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)
inp = json.load(sys.stdin)
n, c, d = inp['n'], inp['c'], inp['d']
counts = inp['counts']
target = torch.tensor(inp['labels'])

def run(fn, *xs):
    xs = [torch.tensor(x).reshape(shape).requires_grad_() for x, shape in xs]
    loss = fn(*xs)
    loss.backward()
    return {'value': loss.item(), 'grads': [x.grad.flatten().tolist() for x in xs]}

def per_cls_weights(beta):
    effective_num = 1.0 - np.power(beta, counts)
    w = (1.0 - beta) / np.array(effective_num)
    return torch.tensor(w / np.sum(w) * len(counts))

def ldam(x, weight):
    m_list = 1.0 / np.sqrt(np.sqrt(counts))
    m_list = torch.tensor(m_list * (0.5 / np.max(m_list)))
    index = torch.zeros_like(x, dtype=torch.bool)
    index.scatter_(1, target.view(-1, 1), True)
    batch_m = torch.matmul(m_list[None, :], index.double().transpose(0, 1)).view((-1, 1))
    output = torch.where(index, x - batch_m, x)
    return F.cross_entropy(30 * output, target, weight=weight)

def focal(x, gamma, weight):
    ce = F.cross_entropy(x, target, reduction='none', weight=weight)
    p = torch.exp(-ce)
    return ((1 - p) ** gamma * ce).mean()

def fbl(z, f, lam, curr):
    lam_j = np.log(max(counts)) - np.log(counts)
    lam_j = torch.tensor(lam_j / lam_j.max())
    return F.cross_entropy(z - curr * lam * lam_j[None, :] / (f.norm(dim=1, keepdim=True) + 1e-12), target)

def normed(x, w):
    return F.normalize(x, dim=1).mm(F.normalize(w, dim=0))

z = (inp['logits'], [n, c])
cos = (inp['cosine'], [n, c])
f = (inp['features'], [n, d])
w = (inp['weight'], [d, c])
prior = torch.log(torch.tensor(counts, dtype=torch.float64) / sum(counts))
out = {
    'drw_before': per_cls_weights(0).tolist(),
    'drw_after': per_cls_weights(0.9999).tolist(),
    'ldam': run(lambda x: ldam(x, None), cos),
    'ldam_drw': run(lambda x: ldam(x, per_cls_weights(0.9999)), cos),
    'focal1': run(lambda x: focal(x, 1, None), z),
    'focal2_weighted': run(lambda x: focal(x, 2, per_cls_weights(0.9999)), z),
    'cb': run(lambda x: F.cross_entropy(x, target, weight=per_cls_weights(0.9999)), z),
    'balanced_softmax': run(lambda x: F.cross_entropy(x + torch.log(torch.tensor(counts, dtype=torch.float64))[None, :], target), z),
    'logit_adjusted': run(lambda x: F.cross_entropy(x + prior[None, :], target), z),
    'fbl': run(lambda a, b: fbl(a, b, 60, (25 / 28.5) ** 2), z, f),
    'normed': run(lambda a, b: (normed(a, b) * torch.tensor(inp['projection']).reshape(n, c)).sum(), f, w),
}
json.dump(out, sys.stdout)
`;

const probe = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
const skip =
  probe.status === 0
    ? false
    : `python3 with torch is not available (${(probe.stderr || String(probe.error ?? '')).trim().split('\n').pop()})`;

describe('losses: against PyTorch', { skip }, () => {
  const n = 5,
    c = 10,
    d = 6;
  const counts = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50];
  const labels = [9, 0, 3, 8, 9];
  const inputs = {
    n,
    c,
    d,
    counts,
    labels,
    logits: Array.from(randomValues(n * c, 1, -4, 4)),
    cosine: Array.from(randomValues(n * c, 2, -1, 1)),
    features: Array.from(randomValues(n * d, 3, 0, 2)),
    weight: Array.from(randomValues(d * c, 4, -1, 1)),
    projection: Array.from(randomValues(n * c, 5, -1, 1)),
  };
  type Result = { value: number; grads: number[][] };
  let torch: Record<string, Result> & { drw_before: number[]; drw_after: number[] };

  before(async () => {
    await wt.init({ backend: 'wasm' });
    const run = spawnSync('python3', ['-c', SCRIPT], { input: JSON.stringify(inputs), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    torch = JSON.parse(run.stdout);
  });

  function compare(name: string, fn: (xs: wt.Tensor[]) => wt.Tensor, xs: [number[], number[]][], tol = 1e-4): void {
    const ts = xs.map(([v, shape]) => wt.tensor(v, shape, { requiresGrad: true }));
    const loss = fn(ts);
    loss.backward();
    const want = torch[name];
    assert.ok(Math.abs(loss.item() - want.value) <= tol * (1 + Math.abs(want.value)), `${name}: ${loss.item()} vs torch ${want.value}`);
    ts.forEach((t, k) => {
      const got = t.grad!.toFloat32Array();
      want.grads[k].forEach((g, i) => {
        assert.ok(Math.abs(got[i] - g) <= tol * (1 + Math.abs(g)), `${name} grad ${k}[${i}]: ${got[i]} vs torch ${g}`);
      });
      t.dispose();
    });
  }

  const z = (): [number[], number[]] => [inputs.logits, [n, c]];
  const cos = (): [number[], number[]] => [inputs.cosine, [n, c]];

  it('DRW weights', () => {
    assert.deepEqual(Array.from(losses.drwWeights(counts, 159, 160)), torch.drw_before);
    Array.from(losses.drwWeights(counts, 160, 160)).forEach((w, j) => {
      assert.ok(Math.abs(w - torch.drw_after[j]) < 1e-12);
    });
  });

  it('LDAM, plain and with DRW weights', () => {
    compare('ldam', ([x]) => losses.ldam(x, labels, { classCounts: counts }), [cos()]);
    compare('ldam_drw', ([x]) => losses.ldam(x, labels, { classCounts: counts, weights: losses.drwWeights(counts, 160, 160) }), [cos()]);
  });

  it('focal (gamma 1; gamma 2 with class weights)', () => {
    compare('focal1', ([x]) => losses.focal(x, labels, { gamma: 1 }), [z()]);
    compare('focal2_weighted', ([x]) => losses.focal(x, labels, { gamma: 2, weights: losses.classBalancedWeights(counts) }), [z()]);
  });

  it('class-balanced, balanced softmax and logit adjustment', () => {
    compare('cb', ([x]) => losses.classBalanced(x, labels, { classCounts: counts }), [z()]);
    compare('balanced_softmax', ([x]) => losses.logitAdjusted(x, labels, { classCounts: counts }), [z()]);
    compare('logit_adjusted', ([x]) => losses.logitAdjusted(x, labels, { classCounts: counts, tau: 1 }), [z()]);
  });

  it('feature-balanced (epoch 25 of 30, relative schedule)', () => {
    compare('fbl', ([a, b]) => losses.featureBalanced(a, b, labels, { classCounts: counts, epoch: 25, epochs: 30 }), [
      z(),
      [inputs.features, [n, d]],
    ]);
  });

  it('NormedLinear forward and backward', () => {
    compare('normed', ([x, w]) => wt.sum(wt.mul(wt.nn.normedLinear(x, w), wt.tensor(inputs.projection, [n, c]))), [
      [inputs.features, [n, d]],
      [inputs.weight, [d, c]],
    ]);
  });
});
