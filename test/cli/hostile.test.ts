// The command line against careless and hostile use: too many threads, two
// writers on one folder, eval of a checkpoint on data it does not fit or
// with its own saved settings, non-finite weights, SIGTERM / SIGINT.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as wt from '../../src/index.js';
import { loadModel, predict } from '../../src/infer.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../../src/io/files.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { ARCHITECTURES } from '../../src/nn/resnet.js';
import { resolveConfig } from '../../src/train/config.js';
import { encodePng } from '../util/png.js';
import { cli, finished, runMetrics as metrics, spawnCli, tinyArgs } from '../util/cli.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-hostile-'));
after(() => rmSync(root, { recursive: true, force: true }));

const TINY = tinyArgs({ '--limit-train': 160, '--limit-test': 100, '--loss': 'fbl', '--lambda': 10, '--warmup': 1 });

describe('hostile use of the command line', () => {
  it('--threads beyond the logical cores: exit 2 naming the cores and --force-threads', () => {
    const r = cli('info', '--threads', '1000');
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`--threads 1000 is more than the ${availableParallelism()} logical cores .*--force-threads`));
  });

  it('--dataset fashion-mnist without --data-dir: refused (the shipped copy is the long-tailed subset), exit 2', () => {
    const r = cli('train', '--dataset', 'fashion-mnist', '--epochs', '1', '--out', join(root, 'balanced'));
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--dataset fashion-mnist \(all 60,000 images, balanced\) needs --data-dir.*\/usr\/share\/datasets\/fashion-mnist/,
    );
  });

  it('a second train run on a folder in use is refused naming the holder; the first finishes; the lock is gone after', async () => {
    const out = join(root, 'contended');
    const first = spawnCli('train', ...TINY, '--epochs', '3', '--out', out);
    const firstDone = finished(first);
    const deadline = Date.now() + 120_000;
    while (!existsSync(join(out, '.lock')) && Date.now() < deadline) await sleep(10);
    const second = await finished(spawnCli('train', ...TINY, '--epochs', '1', '--out', out));
    assert.equal(second.code, 1, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`--out .*contended is in use: .*\\.lock is held by wasmtail train \\(pid ${first.pid} on .*, since `),
    );
    const a = await firstDone;
    assert.equal(a.code, 0, a.stderr);
    assert.equal(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).last.epoch, 3, 'the folder holds the first run');
    assert.ok(!existsSync(join(out, '.lock')));
  });

  describe('eval and predict', () => {
    const run = join(root, 'run');
    let summary: { last: Record<string, unknown> };
    before(() => {
      const r = cli('train', ...TINY, '--epochs', '1', '--out', run);
      assert.equal(r.code, 0, r.stderr);
      summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    });

    it("eval with no flags uses the checkpoint's data set, subset and test limit: the run's own metrics", () => {
      const r = cli('eval', '--checkpoint', join(run, 'last.safetensors'));
      assert.equal(r.code, 0, r.stderr);
      const m = JSON.parse(r.stdout);
      assert.equal(m.n, 100);
      for (const key of ['top1', 'top5', 'many', 'medium', 'few']) assert.equal(m[key], summary.last[key], key);
    });

    it("predict names classes as the checkpoint's data set does, unless --dataset says otherwise", () => {
      writeFileSync(join(root, 'grey.png'), encodePng(new Uint8Array(28 * 28).fill(100), 28, 28, 1));
      const names = (...flags: string[]) => {
        const r = cli('predict', '--checkpoint', join(run, 'best.safetensors'), ...flags, join(root, 'grey.png'));
        assert.equal(r.code, 0, r.stderr);
        return Object.keys(JSON.parse(r.stdout).probabilities);
      };
      assert.equal(names()[0], 'T-shirt/top');
      assert.equal(names('--dataset', 'cifar10-lt')[0], 'airplane');
    });

    it('a missing checkpoint or image: named, with the cause in words rather than an fs error code', () => {
      let r = cli('eval', '--checkpoint', join(root, 'nothere.safetensors'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /nothere\.safetensors: cannot be read \(no such file\)/);
      r = cli('predict', '--checkpoint', join(run, 'best.safetensors'), join(root, 'nothere.png'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /nothere\.png: cannot be read \(no such file\)/);
      assert.doesNotMatch(r.stderr, /ENOENT/);
    });

    it('a 10-class checkpoint on 100-class data: refused before evaluating, naming both counts', async () => {
      await wt.init({ threads: 1 });
      const file = join(root, 'cifar10.safetensors');
      const model = ARCHITECTURES.resnet20({ numClasses: 10, inChannels: 3 });
      await saveCheckpoint(file, model, null, {
        config: JSON.stringify(resolveConfig({ dataset: 'cifar10-lt', arch: 'resnet20', out: 'x' })),
      });
      const dir = join(root, 'cifar-100-binary');
      mkdirSync(dir);
      const records = (labels: number[]) => Uint8Array.from(labels.flatMap((l) => [l % 20, l, ...new Array(3072).fill(l)]));
      writeFileSync(join(dir, 'train.bin'), records(Array.from({ length: 100 }, (_, i) => i)));
      writeFileSync(join(dir, 'test.bin'), records([3, 50, 99]));
      const r = cli('eval', '--checkpoint', file, '--dataset', 'cifar100-lt', '--data-dir', root, '--imb', '1');
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /cifar10\.safetensors: the model has 10 classes but cifar100-lt has 100/);
    });

    it('a NaN weight: predict, eval and wasmtail/infer refuse naming the tensor; nothing is printed as a prediction', async () => {
      const file = join(root, 'nan.safetensors');
      const { tensors, metadata } = await loadSafetensorsFile(join(run, 'best.safetensors'));
      tensors.get('linear.weight')!.data[5] = Infinity;
      await saveSafetensorsFile(file, tensors, metadata);
      writeFileSync(join(root, 'x.png'), encodePng(new Uint8Array(28 * 28).fill(100), 28, 28, 1));
      for (const r of [cli('predict', '--checkpoint', file, join(root, 'x.png')), cli('eval', '--checkpoint', file)]) {
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /nan\.safetensors: tensor linear\.weight holds Infinity at index 5/);
      }
      await assert.rejects(
        loadModel(new Uint8Array(readFileSync(file)), { name: 'nan.safetensors' }),
        /nan\.safetensors: tensor linear\.weight holds Infinity at index 5/,
      );
      // Finite weights, non-finite input: an error, never a NaN probability.
      const good = await loadModel(new Uint8Array(readFileSync(join(run, 'best.safetensors'))));
      await assert.rejects(
        predict(good, new Float32Array(28 * 28).fill(NaN)),
        /predict\(\): image 0: the model's logit for class \d is NaN/,
      );
    });
  });

  describe('signals', () => {
    const ARGS = [...TINY, '--epochs', '4'];
    const whole = join(root, 'sig-whole');
    before(() => assert.equal(cli('train', ...ARGS, '--out', whole).code, 0));

    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      it(`${signal} mid-run: the step finishes, the exact position is saved, exit ${code} with how to resume; --resume ends bit-identical`, async () => {
        const out = join(root, `sig-${signal}`);
        const child = spawnCli('train', ...ARGS, '--out', out);
        const done = finished(child);
        const deadline = Date.now() + 240_000;
        while (!existsSync(join(out, 'last.safetensors')) && Date.now() < deadline) await sleep(20);
        await sleep(Math.floor(Math.random() * 800));
        child.kill(signal);
        const r = await done;
        assert.equal(r.code, code, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(`stopped by ${signal} in epoch \\d after step \\d of 5; .*last\\.safetensors holds the exact position`),
        );
        assert.match(r.stderr, /to continue: wasmtail train .* --resume/);
        assert.ok(!existsSync(join(out, '.lock')), 'the lock is released');
        const resumed = cli('train', ...ARGS, '--out', out, '--resume');
        assert.equal(resumed.code, 0, resumed.stderr);
        const a = await loadSafetensorsFile(join(whole, 'last.safetensors'));
        const b = await loadSafetensorsFile(join(out, 'last.safetensors'));
        for (const [name, t] of a.tensors) assert.deepEqual(b.tensors.get(name)!.data, t.data, `${name} differs after the resume`);
        assert.deepEqual(metrics(out), metrics(whole));
        const history = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).history;
        assert.deepEqual(
          history.map((h: { event: string }) => h.event),
          ['started', 'interrupted', 'resumed'],
        );
      });
    }

    it('a second SIGTERM exits at once, leaving the last good checkpoint', async () => {
      const out = join(root, 'sig-twice');
      const child = spawnCli('train', ...ARGS, '--out', out);
      const done = finished(child);
      const deadline = Date.now() + 240_000;
      while (!existsSync(join(out, 'last.safetensors')) && Date.now() < deadline) await sleep(20);
      child.kill('SIGTERM');
      await sleep(1);
      child.kill('SIGTERM');
      const r = await done;
      assert.equal(r.code, 143, r.stderr);
      assert.match(r.stderr, /second SIGTERM: exiting now/);
      const last = await loadSafetensorsFile(join(out, 'last.safetensors'));
      assert.ok(last.tensors.has('linear.weight'), 'last.safetensors still loads');
    });
  });
});
