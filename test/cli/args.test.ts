// The command line's arguments, fuzzed: every argument list either gives a
// valid configuration or a usage error that says what is wrong.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { configFromArgs, parseCommandLine, UsageError } from '../../src/cli/main.js';
import { ConfigError } from '../../src/train/config.js';

const FLAGS = [
  '--dataset',
  '--data-dir',
  '--imb',
  '--imb-type',
  '--loss',
  '--lambda',
  '--curriculum',
  '--arch',
  '--epochs',
  '--batch',
  '--lr',
  '--wd',
  '--momentum',
  '--nesterov',
  '--warmup',
  '--seed',
  '--model-seed',
  '--limit-train',
  '--limit-test',
  '--out',
  '--resume',
  '--threads',
  '--preset',
  '--bogus',
  '-h',
  '--',
];
const VALUES = [
  '0',
  '1',
  '-1',
  '64',
  '0.1',
  '1e-3',
  'NaN',
  'Infinity',
  '',
  'abc',
  'fbl',
  'ce',
  'exp',
  'step',
  'cifar10-lt',
  'fashion-mnist-lt',
  'resnet32',
  'resnet7',
  'reference',
  'fashion-lt-30',
  '3.5',
  '1e400',
  '--epochs',
];

const RUNS = 2000;
it(`fuzz: ${RUNS} random argument lists parse to a valid config or fail with a usage error`, () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(...FLAGS), fc.constantFrom(...VALUES), fc.string({ maxLength: 8 })), { maxLength: 12 }),
      (argv) => {
        try {
          const { values } = parseCommandLine(argv);
          const cfg = configFromArgs(values);
          assert.ok(cfg.epochs >= 0 && Number.isInteger(cfg.batch) && Number.isFinite(cfg.lr) && cfg.lr > 0);
        } catch (e) {
          const err = e as Error & { code?: string };
          const expected = e instanceof UsageError || e instanceof ConfigError || err.code?.startsWith('ERR_PARSE_ARGS');
          assert.ok(expected, `unexpected ${err.name}: ${err.message} for ${JSON.stringify(argv)}`);
          assert.ok(err.message.length > 10);
        }
      },
    ),
    { numRuns: RUNS },
  );
});
