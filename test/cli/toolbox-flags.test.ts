// The long-tail toolbox's flags on the command line: parsed into the run's
// configuration, and bad values refused with exit 2 and the flag named.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromArgs, parseCommandLine } from '../../src/cli/main.js';
import { cli } from '../util/cli.js';

const config = (...args: string[]) => configFromArgs(parseCommandLine(['--out', 'x', ...args]).values);

it('parses every toolbox flag into the configuration', () => {
  const cfg = config('--epochs', '10', '--drw', '--drw-epoch', '7', '--mixup', '0.2', '--mix-until', '0.5', '--cutout', '8');
  assert.equal(cfg.drw, true);
  assert.equal(cfg.drwEpoch, 7);
  assert.equal(cfg.mixup, 0.2);
  assert.equal(cfg.cutmix, null);
  assert.equal(cfg.mixUntil, 0.5);
  assert.equal(cfg.cutout, 8);
  const other = config('--cutmix', '1', '--autoaugment', 'cifar10', '--posthoc-tau', '0.5');
  assert.deepEqual([other.cutmix, other.autoAugment, other.posthocTau, other.drw], [1, 'cifar10', 0.5, false]);
});

it('leaves the options off without their flags', () => {
  const cfg = config();
  assert.deepEqual(
    [cfg.drw, cfg.drwEpoch, cfg.mixup, cfg.cutmix, cfg.mixUntil, cfg.cutout, cfg.autoAugment, cfg.posthocTau],
    [false, null, null, null, 1, 0, null, 1],
  );
});

for (const [args, flag] of [
  [['--mixup', '0'], '--mixup'],
  [['--cutout=-1'], '--cutout'],
  [['--autoaugment', 'imagenet'], '--autoaugment imagenet'],
  [['--mixup', '1', '--cutmix', '1'], '--mixup and --cutmix'],
  [['--mix-until', '0.5'], '--mix-until'],
] as const) {
  it(`exits 2 naming the flag for ${args.join(' ')}`, () => {
    const r = cli('train', '--out', '/nonexistent/never-written', ...args);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(flag), r.stderr);
  });
}
