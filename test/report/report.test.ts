// `wasmtail report` over hand-made run folders with known numbers: groups
// that differ only in seeds, sample std (n − 1), `mean ± std (n)`, n = 1
// without ±, the JSON schema, the CSV, and plots with error bars and names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/train/config.js';
import { stat } from '../../src/report/groups.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-report-'));
const CLASSES = ['Big', 'Middle', 'Small'];
const COUNTS = [500, 50, 5];

const shots = (top1: number, perClass: number[]) => ({ top1, many: perClass[0], medium: perClass[1], few: perClass[2], perClass });

function fakeRun(
  name: string,
  config: Partial<typeof DEFAULTS>,
  top1: number,
  perClass: number[],
  posthoc?: { logitAdjusted: ReturnType<typeof shots>; tauNorm: ReturnType<typeof shots> | null },
  folder = 'runs',
) {
  const dir = join(root, folder, name);
  mkdirSync(dir, { recursive: true });
  const last = { epoch: 3, ...shots(top1, perClass), ...(posthoc ? { posthoc } : {}) };
  writeFileSync(
    join(dir, 'summary.json'),
    JSON.stringify({
      config: { ...DEFAULTS, dataset: 'fashion-mnist-lt', epochs: 3, out: dir, ...config },
      classNames: CLASSES,
      trainCounts: COUNTS,
      last,
      best: { ...last, top1: top1 + 0.01 },
    }),
  );
  return dir;
}

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('wasmtail report', () => {
  it('sample standard deviation, as numpy.std(ddof=1)', () => {
    const s = stat([0.8, 0.9, 1.0]);
    assert.ok(Math.abs(s.mean! - 0.9) < 1e-12);
    assert.ok(Math.abs(s.std! - 0.1) < 1e-12);
    assert.deepEqual(stat([0.5]), { mean: 0.5, std: null });
    assert.deepEqual(stat([0.5, null]), { mean: null, std: null });
  });

  it('groups seeds, writes md / csv / json / html / svg with mean ± std (n)', () => {
    fakeRun('ce-1', { loss: 'ce', modelSeed: 1, lambda: 60 }, 0.8, [0.9, 0.7, 0.2]);
    fakeRun('ce-2', { loss: 'ce', modelSeed: 2, lambda: 10 }, 0.84, [0.92, 0.74, 0.3]);
    fakeRun('fbl-1', { loss: 'fbl', lambda: 10, modelSeed: 1 }, 0.86, [0.9, 0.8, 0.5]);
    fakeRun('fbl-2', { loss: 'fbl', lambda: 10, modelSeed: 2 }, 0.88, [0.9, 0.84, 0.6]);
    fakeRun('fbl-3', { loss: 'fbl', lambda: 10, modelSeed: 3, seed: 0 }, 0.9, [0.92, 0.86, 0.7]);
    fakeRun('fbl30', { loss: 'fbl', lambda: 30 }, 0.85, [0.9, 0.8, 0.4]);
    const out = join(root, 'report');
    const r = cli('report', join(root, 'runs'), '--out', out);
    assert.equal(r.code, 0, r.stderr);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.deepEqual(
      report.groups.map((g: { label: string; n: number }) => [g.label, g.n]),
      [
        ['loss ce', 2],
        ['loss fbl, lambda 10', 3],
        ['loss fbl, lambda 30', 1],
      ],
    );
    const [ce, fbl, fbl30] = report.groups;
    assert.ok(!('modelSeed' in fbl.config) && !('lambda' in ce.config), 'seeds and what CE ignores are not part of a group');
    assert.ok(Math.abs(fbl.top1.mean - 0.88) < 1e-12 && Math.abs(fbl.top1.std - 0.02) < 1e-12);
    assert.ok(Math.abs(fbl.best.mean - 0.89) < 1e-12);
    assert.ok(Math.abs(ce.perClass[2].std - Math.sqrt(0.005)) < 1e-12);
    assert.equal(fbl.perClass.length, 3);
    for (const k of ['many', 'medium', 'few']) assert.ok('mean' in fbl[k] && 'std' in fbl[k]);
    assert.equal(fbl30.top1.std, null);
    assert.equal(fbl.runs.length, 3);

    // Paired differences against the first group: FBL λ 10's model seeds 1 and 2 meet CE's (seed 3 has no partner).
    const [fblPaired, fbl30Paired] = report.pairedAgainstFirst;
    assert.equal(fblPaired.pairs, 2);
    assert.ok(Math.abs(fblPaired.diff.top1.mean - 0.05) < 1e-12 && Math.abs(fblPaired.diff.top1.std - Math.SQRT2 * 0.01) < 1e-12);
    assert.equal(fbl30Paired.pairs, 0, 'the λ 30 run has model seed 123, which no CE run has');
    assert.equal(fbl30Paired.diff.top1.mean, null);

    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md, /\| loss fbl, lambda 10 \| 2 \| \+5\.00 ± 1\.41 \(2\) \|/);
    assert.match(md, /\| loss fbl, lambda 10 \| 3 \| 88\.00 ± 2\.00 \(3\) \| 89\.00 ± 2\.00 \(3\) \|/);
    assert.match(md, /\| loss fbl, lambda 30 \| 1 \| 85\.00 \(1\) \|/);
    assert.match(md, /\| Small \| 5 \| 25\.00 ± 7\.07 \(2\) \| 60\.00 ± 10\.00 \(3\) \| 40\.00 \(1\) \|/);

    const csv = readFileSync(join(out, 'report.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 4);
    assert.match(
      csv[0],
      /^group,n,top1_mean,top1_std,best_mean,best_std,many_mean,many_std,medium_mean,medium_std,few_mean,few_std,class_Big_mean/,
    );
    assert.match(csv[2], /^"loss fbl, lambda 10",3,0\.88/);

    const perClass = readFileSync(join(out, 'per-class-accuracy.svg'), 'utf8');
    for (const name of CLASSES) assert.match(perClass, new RegExp(`>${name}</text>`));
    assert.ok((perClass.match(/<path d="M[^"]*V[^"]*H[^"]*H/g) ?? []).length >= 6, 'error bars on the groups of two and three runs');
    const top1 = readFileSync(join(out, 'top1.svg'), 'utf8');
    assert.ok((top1.match(/<path d="M[^"]*V[^"]*H[^"]*H/g) ?? []).length === 2, 'error bars on two of the three groups (n = 1 has none)');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<table>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
  });

  it('labels leave out options that are off and name those that are on', () => {
    fakeRun('ce', { loss: 'ce' }, 0.8, [0.9, 0.7, 0.2], undefined, 'labels');
    fakeRun('ce-drw', { loss: 'ce', drw: true }, 0.82, [0.9, 0.7, 0.4], undefined, 'labels');
    fakeRun('fbl-mixup', { loss: 'fbl', lambda: 10, mixup: 1 }, 0.83, [0.9, 0.7, 0.5], undefined, 'labels');
    const out = join(root, 'labels-report');
    assert.equal(cli('report', join(root, 'labels'), '--out', out).code, 0);
    const labels = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).groups.map((g: { label: string }) => g.label);
    assert.deepEqual(labels, ['loss ce', 'loss ce, drw', 'loss fbl, lambda 10, mixup 1']);
  });

  it('post-hoc re-scoring: a table beside the plain scores, CSV and JSON columns, a plot', () => {
    const la = (t: number, tail: number) => shots(t, [0.8, 0.8, tail]);
    fakeRun(
      'ce-1',
      { loss: 'ce', modelSeed: 1 },
      0.8,
      [0.9, 0.7, 0.2],
      { logitAdjusted: la(0.82, 0.5), tauNorm: la(0.81, 0.4) },
      'posthoc',
    );
    fakeRun('ce-2', { loss: 'ce', modelSeed: 2 }, 0.84, [0.92, 0.74, 0.3], { logitAdjusted: la(0.86, 0.7), tauNorm: null }, 'posthoc');
    // A run from before post-hoc scoring: its group has none, and the report still reads it.
    fakeRun('fbl-1', { loss: 'fbl', lambda: 10, modelSeed: 1 }, 0.86, [0.9, 0.8, 0.5], undefined, 'posthoc');
    const out = join(root, 'posthoc-report');
    const r = cli('report', join(root, 'posthoc'), '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const [ce, fbl] = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).groups;
    assert.ok(Math.abs(ce.posthoc.logitAdjusted.top1.mean - 0.84) < 1e-12);
    assert.ok(Math.abs(ce.posthoc.logitAdjusted.few.std - Math.sqrt(0.02)) < 1e-12);
    assert.equal(ce.posthoc.tauNorm, null, 'one run without tau-norm: no mean for the group');
    assert.deepEqual(fbl.posthoc, { logitAdjusted: null, tauNorm: null });

    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md, /## Post-hoc re-scoring/);
    assert.match(md, /\| loss ce \| logits \| 82\.00 ± 2\.83 \(2\) \|/);
    assert.match(
      md,
      /\| loss ce \| logit adjusted \(τ 1\) \| 84\.00 ± 2\.83 \(2\) \| 80\.00 ± 0\.00 \(2\) \| 80\.00 ± 0\.00 \(2\) \| 60\.00 ± 14\.14 \(2\) \|/,
    );
    assert.match(md, /\| loss ce \| τ-normalised \(τ 1\) \| n\/a \|/);
    const csv = readFileSync(join(out, 'report.csv'), 'utf8').trim().split('\n');
    const header = csv[0].split(',');
    const ceRow = csv[1].split(',');
    assert.equal(ceRow[header.indexOf('logitAdjusted_top1_mean')], '0.84');
    assert.equal(ceRow[header.indexOf('tauNorm_top1_mean')], '');
    // Paired against the first group: only fbl-1 shares seeds (0, model seed 1) with a CE run.
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    // First the baseline's own logit adjustment against its plain scores, run by run (tau-norm: one run lacks it, no row).
    const [adjusted, fblPaired] = report.pairedAgainstFirst;
    assert.equal(report.pairedAgainstFirst.length, 2);
    assert.equal(adjusted.label, 'loss ce + post-hoc logit adjusted');
    assert.equal(adjusted.pairs, 2);
    assert.ok(Math.abs(adjusted.diff.top1.mean - 0.02) < 1e-12 && Math.abs(adjusted.diff.top1.std) < 1e-12);
    assert.ok(Math.abs(adjusted.diff.smallest.mean - 0.35) < 1e-12, 'Small: 0.5 - 0.2 and 0.7 - 0.3');
    assert.equal(fblPaired.pairs, 1);
    assert.ok(Math.abs(fblPaired.diff.top1.mean - 0.06) < 1e-12);
    assert.ok(Math.abs(fblPaired.diff.smallest.mean - 0.3) < 1e-12);
    assert.match(md, /## Paired against loss ce/);
    assert.match(
      md,
      /\| loss fbl, lambda 10 \| 1 \| \+6\.00 \(1\) \| \+0\.00 \(1\) \| \+10\.00 \(1\) \| \+30\.00 \(1\) \| \+30\.00 \(1\) \|/,
    );
    const plot = readFileSync(join(out, 'posthoc.svg'), 'utf8');
    assert.match(plot, /logit adjusted/);
    assert.match(plot, /loss ce: Small/);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /Post-hoc re-scoring/);
  });

  it('bad input: no folder, several folders without --out, a folder without runs', () => {
    assert.equal(cli('report').code, 2);
    const r = cli('report', root, join(root, 'runs'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--out/);
    mkdirSync(join(root, 'nothing'));
    const none = cli('report', join(root, 'nothing'));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /nothing: holds no runs/);
  });
});
