// The toolbox's option checks: defaults, and a ConfigError naming the flag for each bad input.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, type LossName } from '../../src/train/config.js';
import { TOOLBOX_DEFAULTS, resolveToolboxOptions, type ToolboxInput } from '../../src/train/toolboxOptions.js';

const run: { loss: LossName; epochs: number } = { loss: 'fbl', epochs: 200 };

function refuses(input: ToolboxInput, message: RegExp, on = run): void {
  assert.throws(
    () => resolveToolboxOptions(input, on),
    (e: unknown) => e instanceof ConfigError && message.test(e.message),
  );
}

describe('resolveToolboxOptions', () => {
  it('fills the defaults and keeps valid settings', () => {
    assert.deepEqual(resolveToolboxOptions({}, run), TOOLBOX_DEFAULTS);
    const o = resolveToolboxOptions(
      { drw: true, drwEpoch: 150, mixup: 0.2, mixUntil: 0.9, cutout: 16, autoAugment: 'cifar10', posthocTau: 0.5 },
      run,
    );
    assert.deepEqual(o, {
      drw: true,
      drwEpoch: 150,
      mixup: 0.2,
      cutmix: null,
      mixUntil: 0.9,
      cutout: 16,
      autoAugment: 'cifar10',
      posthocTau: 0.5,
    });
    assert.equal(resolveToolboxOptions({ cutmix: 1 }, run).cutmix, 1);
  });

  it('refuses bad input with a message naming the flag', () => {
    refuses({ mixup: 0 }, /^--mixup must be a positive number .*got 0/);
    refuses({ mixup: -0.5 }, /^--mixup must be a positive number .*got -0.5/);
    refuses({ cutmix: Number.NaN }, /^--cutmix must be a positive number/);
    refuses({ mixup: 1, cutmix: 1 }, /^--mixup and --cutmix cannot both be set/);
    refuses({ mixup: 1, mixUntil: 0 }, /^--mix-until must be a fraction .* got 0/);
    refuses({ mixup: 1, mixUntil: 1.5 }, /^--mix-until must be a fraction/);
    refuses({ mixUntil: 0.5 }, /^--mix-until needs --mixup or --cutmix/);
    refuses({ cutout: -4 }, /^--cutout must be a non-negative integer .*got -4/);
    refuses({ cutout: 2.5 }, /^--cutout must be a non-negative integer/);
    refuses({ autoAugment: 'imagenet' }, /^--autoaugment imagenet is not built \(built: cifar10\)/);
    refuses({ posthocTau: -1 }, /^--posthoc-tau must be a number >= 0, got -1/);
    refuses({ drw: true }, /^--drw: the 'ldam-drw' loss re-weights classes by itself/, { loss: 'ldam-drw', epochs: 200 });
    refuses({ drw: true }, /^--drw: the 'cb' loss/, { loss: 'cb', epochs: 200 });
    refuses({ drwEpoch: 10 }, /^--drw-epoch needs --drw/);
    refuses({ drw: true, drwEpoch: 200 }, /^--drw-epoch must be an integer epoch in \[0, 200\), got 200/);
  });
});
