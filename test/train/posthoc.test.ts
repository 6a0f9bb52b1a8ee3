// Post-hoc logit adjustment and the tau-normalised classifier: hand-computed
// values, PyTorch (Kang et al.'s pnorm, Menon et al.'s adjustment) on random
// inputs, and the shot-group scoring over batches.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PosthocScorer, logitAdjustedLogits, shotAccuracy, tauNormalizedLogits, tauNormalizedWeight } from '../../src/train/posthoc.js';
import { randomValues } from '../util/backends.js';

const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
if (!python && process.env.CI === 'true') throw new Error('CI: no python3 with torch (Debian python3-torch)');

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

describe('post-hoc corrections', () => {
  it('logit adjustment subtracts tau log prior (by hand)', () => {
    // prior [0.9, 0.1]: 1 - log 0.9 = 1.1053605, 0.5 - log 0.1 = 2.8025851; the tail class wins.
    close(logitAdjustedLogits(Float32Array.of(1, 0.5), [900, 100]), [1.1053605, 2.8025851], 1e-6, 'tau 1');
    close(
      logitAdjustedLogits(Float32Array.of(1, 0.5, 0, 0), [900, 100], 0.5),
      [1.0526803, 1.6512925, 0.0526803, 1.1512925],
      1e-6,
      'tau 0.5',
    );
    assert.deepEqual(logitAdjustedLogits(Float32Array.of(1, 2), [3, 4], 0), Float32Array.of(1, 2));
    assert.throws(() => logitAdjustedLogits(Float32Array.of(1, 2), [3, 0]), /class 1 has 0 training images/);
    assert.throws(() => logitAdjustedLogits(Float32Array.of(1, 2, 3), [3, 4]), /3 logits are not rows of 2 classes/);
  });

  it('tau-norm divides each class row by its norm to the power tau (by hand)', () => {
    const w = Float32Array.of(3, 4, 0, 2);
    close(tauNormalizedWeight(w, 2), [0.6, 0.8, 0, 1], 1e-7, 'tau 1');
    close(tauNormalizedWeight(w, 2, 0.5), [3 / Math.sqrt(5), 4 / Math.sqrt(5), 0, 2 / Math.sqrt(2)], 1e-7, 'tau 0.5');
    assert.deepEqual(tauNormalizedWeight(Float32Array.of(0, 0, 1, 0), 2), Float32Array.of(0, 0, 1, 0));
    // features [1, 1]: 0.6 + 0.8 = 1.4 and 1, plus the bias.
    close(tauNormalizedLogits(Float32Array.of(1, 1), w, Float32Array.of(0.1, -0.1), 2), [1.5, 0.9], 1e-7, 'logits');
    close(tauNormalizedLogits(Float32Array.of(1, 1), w, null, 2, 0), [7, 2], 1e-7, 'tau 0 = the plain classifier');
    assert.throws(() => tauNormalizedLogits(Float32Array.of(1, 1, 1), w, null, 2), /do not fit/);
  });

  it("matches PyTorch (pnorm of Kang et al.'s classifier-balancing code, z - tau log prior)", {
    skip: python ? false : 'no python3 with torch',
  }, () => {
    const n = 7;
    const c = 5;
    const d = 6;
    const input = {
      n,
      c,
      d,
      logits: Array.from(randomValues(n * c, 1, -3, 3)),
      features: Array.from(randomValues(n * d, 2, 0, 2)),
      weight: Array.from(randomValues(c * d, 3, -1, 1)),
      bias: Array.from(randomValues(c, 4, -0.5, 0.5)),
      counts: [1000, 400, 90, 30, 7],
    };
    const script = `
import json, sys, torch
torch.set_default_dtype(torch.float64)
a = json.load(sys.stdin)
z = torch.tensor(a['logits']).reshape(a['n'], a['c'])
f = torch.tensor(a['features']).reshape(a['n'], a['d'])
w = torch.tensor(a['weight']).reshape(a['c'], a['d'])
b = torch.tensor(a['bias'])
prior = torch.tensor(a['counts'], dtype=torch.float64); prior = prior / prior.sum()
def pnorm(weights, p):
    normB = torch.norm(weights, 2, 1)
    ws = weights.clone()
    for i in range(weights.size(0)):
        ws[i] = ws[i] / torch.pow(normB[i], p)
    return ws
out = {}
for tau in (1.0, 0.5, 1.5):
    out['la%s' % tau] = (z - tau * torch.log(prior)).flatten().tolist()
    out['tn%s' % tau] = (torch.mm(f, pnorm(w, tau).t()) + b).flatten().tolist()
print(json.dumps(out))
`;
    const r = spawnSync(python!, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = JSON.parse(r.stdout) as Record<string, number[]>;
    for (const tau of [1, 0.5, 1.5]) {
      const key = Number.isInteger(tau) ? `${tau}.0` : `${tau}`;
      close(logitAdjustedLogits(Float32Array.from(input.logits), input.counts, tau), want[`la${key}`], 1e-6, `logit adjustment tau ${tau}`);
      close(
        tauNormalizedLogits(Float32Array.from(input.features), Float32Array.from(input.weight), Float32Array.from(input.bias), c, tau),
        want[`tn${key}`],
        1e-5,
        `tau-norm tau ${tau}`,
      );
    }
  });

  it('shotAccuracy: top-1, many / medium / few and per class (by hand)', () => {
    // Classes: 500 (many), 50 (medium), 5 (few) training images. Predictions: argmax of each row.
    const logits = Float32Array.of(
      3,
      0,
      0, // label 0, right
      0,
      3,
      0, // label 0, wrong
      0,
      3,
      0, // label 1, right
      0,
      0,
      3, // label 2, right
      3,
      0,
      0, // label 2, wrong
      1,
      1,
      0, // label 0: a tie goes to the first class, right
    );
    const acc = shotAccuracy(logits, [0, 0, 1, 2, 2, 0], [500, 50, 5]);
    assert.deepEqual(acc, { top1: 4 / 6, many: 2 / 3, medium: 1, few: 1 / 2, perClass: [2 / 3, 1, 1 / 2] });
    const none = shotAccuracy(Float32Array.of(1, 0), [0], [500, 50]);
    assert.equal(none.medium, null);
    assert.ok(Number.isNaN(none.perClass[1]));
  });

  it('PosthocScorer over batches equals scoring the whole set; tau 0 gives the plain accuracy', () => {
    const n = 40;
    const c = 4;
    const d = 3;
    const features = randomValues(n * d, 5, 0, 2);
    const weight = randomValues(c * d, 6, -1, 1);
    const bias = randomValues(c, 7, -0.2, 0.2);
    const counts = [600, 80, 25, 4];
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 3) % c);
    const logits = tauNormalizedLogits(features, weight, bias, c, 0);
    const scorer = new PosthocScorer({ trainCounts: counts, weight, bias, adjustTau: 1, normTau: 1 });
    for (let start = 0; start < n; start += 16) {
      const end = Math.min(n, start + 16);
      scorer.add(logits.subarray(start * c, end * c), features.subarray(start * d, end * d), labels.subarray(start, end));
    }
    const got = scorer.result();
    assert.deepEqual(got.logitAdjusted, shotAccuracy(logitAdjustedLogits(logits, counts), labels, counts));
    assert.deepEqual(got.tauNorm, shotAccuracy(tauNormalizedLogits(features, weight, bias, c, 1), labels, counts));
    const plain = new PosthocScorer({ trainCounts: counts, weight, bias, adjustTau: 0, normTau: 0 });
    plain.add(logits, features, labels);
    const r = plain.result();
    assert.deepEqual(r.logitAdjusted, shotAccuracy(logits, labels, counts));
    assert.deepEqual(r.tauNorm, r.logitAdjusted);
    assert.throws(() => new PosthocScorer({ trainCounts: counts, weight: weight.subarray(1), bias: null }), /not 4 class rows/);
    // The cosine classifier: logit adjustment only.
    const cosine = new PosthocScorer({ trainCounts: counts, weight: null, bias: null });
    cosine.add(logits, features, labels);
    assert.deepEqual(cosine.result(), { logitAdjusted: got.logitAdjusted, tauNorm: null });
    // LDAM's cosine logits are adjusted after the loss's scale s: raw cosines in [-1, 1] would be swamped by log-prior offsets.
    const cosines = logits.map((z) => Math.tanh(z));
    const ldam = new PosthocScorer({ trainCounts: counts, weight: null, bias: null, logitScale: 30 });
    ldam.add(cosines, features, labels);
    const scaled = ldam.result().logitAdjusted;
    assert.deepEqual(
      scaled,
      shotAccuracy(
        logitAdjustedLogits(
          cosines.map((z) => 30 * z),
          counts,
        ),
        labels,
        counts,
      ),
    );
    assert.notDeepEqual(scaled, shotAccuracy(logitAdjustedLogits(cosines, counts), labels, counts), 'the scale changes the decisions here');
  });
});
