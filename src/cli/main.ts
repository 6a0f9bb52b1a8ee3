/**
 * The command line: `wasmtail train | eval | predict | fetch | sweep | report | demo | info`.
 * Progress goes to stderr; results to stdout and the output folder.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { init, info, shutdown } from '../init.js';
import { ConfigError, DATASET_CHOICES, DEFAULTS, PRESETS, resolveConfig, type TrainConfig } from '../train/config.js';
import { train, NumericalError, type RunSummary } from '../train/run.js';
import { LOSS_NAMES } from '../losses/factory.js';
import { ARCHITECTURES, type ArchName } from '../nn/resnet.js';
import { InterruptedError, StopRequest } from '../train/interrupt.js';
import { DEMO_PRESET, runDemo } from './demo.js';
import { evalCommand, predictCommand } from './inference.js';
import { downloadForConfig, fetchCommand } from './fetch.js';
import { sweepCommand, SWEEP_USAGE } from '../sweep/command.js';
import { reportCommand } from '../report/command.js';

const USAGE = `wasmtail: train and run long-tail image classifiers on WebAssembly SIMD

usage:
  wasmtail train [--preset NAME] [--dataset cifar10-lt|cifar100-lt|fashion-mnist-lt|cifar10|cifar100|fashion-mnist|folder]
                 [--data-dir DIR] [--image-size 32] [--grey] [--skip-bad] [--imb 100] [--imb-type exp|step] [--loss ce|fbl|focal|ldam-drw|cb|balanced-softmax]
                 [--lambda 60] [--curriculum relative|reference] [--arch ${Object.keys(ARCHITECTURES).join('|')}]
                 [--epochs 200] [--batch 64] [--lr 0.1] [--wd 2e-4] [--momentum 0.9] [--nesterov] [--warmup 5]
                 [--seed 0] [--model-seed 123] [--limit-train N] [--limit-test N] --out runs/NAME [--resume] [--threads N]
                 [--force-threads] (more --threads than logical cores) [--allow-changes] (--resume with changed settings)
                 [--backend wasm|webgpu|reference] [--download [--mirror URL]]
                 [--drw [--drw-epoch E]] [--mixup A | --cutmix A [--mix-until F]] [--cutout S] [--autoaugment cifar10]
                 [--posthoc-tau 1]   (long-tail toolbox: deferred re-weighting, mixing, augmentation, post-hoc scoring)
  wasmtail eval --checkpoint FILE [--dataset ...] [--data-dir DIR] [--imb ...] [--limit-test N] [--posthoc-tau T] [--download] [--backend ...]
                                                   (data set, subset and limits: the checkpoint's own unless given)
  wasmtail predict --checkpoint FILE [--dataset ...] IMAGE...   (PNG or JPEG files, or raw CIFAR-format records)
  wasmtail fetch cifar10|cifar100|fashion-mnist [--dir data] [--mirror URL]
                                                   (official files, MD5-checked; --download on train / eval does the same)
${SWEEP_USAGE}
  wasmtail demo [--epochs ${PRESETS[DEMO_PRESET].epochs}] [--arch ${PRESETS[DEMO_PRESET].arch}]      (CE vs FBL on the shipped Fashion-MNIST-LT, preset ${DEMO_PRESET}; what \`npm start\` runs)
  wasmtail info

--dataset folder: DIR/train/<class>/*.png|jpg and DIR/test/<class>/ (or val/), torchvision's ImageFolder layout;
  the folder as it is, or a long-tailed subset of it when --imb / --imb-type are given.

presets: ${Object.keys(PRESETS).join(', ')}
The defaults reproduce the FBL recipe (ResNet-32, CIFAR-10-LT rho=100, 200 epochs, batch 64, lr 0.1, wd 2e-4, lambda 60).`;

/** The options of `train` (and of the commands that share them: eval, predict, sweep). */
export const TRAIN_OPTIONS = {
  preset: { type: 'string' },
  dataset: { type: 'string' },
  'data-dir': { type: 'string' },
  imb: { type: 'string' },
  'image-size': { type: 'string' },
  grey: { type: 'boolean' },
  'skip-bad': { type: 'boolean' },
  download: { type: 'boolean' },
  mirror: { type: 'string' },
  dir: { type: 'string' },
  'imb-type': { type: 'string' },
  loss: { type: 'string' },
  lambda: { type: 'string' },
  curriculum: { type: 'string' },
  arch: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  wd: { type: 'string' },
  momentum: { type: 'string' },
  nesterov: { type: 'boolean' },
  warmup: { type: 'string' },
  seed: { type: 'string' },
  'model-seed': { type: 'string' },
  'limit-train': { type: 'string' },
  'limit-test': { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  'allow-changes': { type: 'boolean' },
  threads: { type: 'string' },
  'force-threads': { type: 'boolean' },
  backend: { type: 'string' },
  checkpoint: { type: 'string' },
  drw: { type: 'boolean' },
  'drw-epoch': { type: 'string' },
  mixup: { type: 'string' },
  cutmix: { type: 'string' },
  'mix-until': { type: 'string' },
  cutout: { type: 'string' },
  autoaugment: { type: 'string' },
  'posthoc-tau': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function number(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new UsageError(`--${name} expects a number, got '${v}'`);
  return x;
}

function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got '${v}'`);
  return v as T;
}

export class UsageError extends Error {}

/** The settings given on the command line, and only those (no defaults): what overrides a checkpoint's saved configuration. */
export function explicitConfig(values: Record<string, string | boolean | undefined>): Partial<TrainConfig> {
  const s = (k: string) => values[k] as string | undefined;
  let dataset = oneOf(s('dataset'), 'dataset', DATASET_CHOICES);
  // An image folder is taken as it is unless a long-tail profile is asked for.
  if (dataset === 'folder' && (s('imb') !== undefined || s('imb-type') !== undefined)) dataset = 'folder-lt';
  const partial: Partial<TrainConfig> = {
    dataset,
    dataDir: s('data-dir'),
    imageSize: number(s('image-size'), 'image-size'),
    grey: values.grey as boolean | undefined,
    skipBad: values['skip-bad'] as boolean | undefined,
    imb: number(s('imb'), 'imb'),
    imbType: oneOf(s('imb-type'), 'imb-type', ['exp', 'step']),
    loss: oneOf(s('loss'), 'loss', LOSS_NAMES),
    lambda: number(s('lambda'), 'lambda'),
    curriculum: oneOf(s('curriculum'), 'curriculum', ['relative', 'reference']),
    arch: oneOf(s('arch'), 'arch', Object.keys(ARCHITECTURES) as ArchName[]),
    epochs: number(s('epochs'), 'epochs'),
    batch: number(s('batch'), 'batch'),
    lr: number(s('lr'), 'lr'),
    wd: number(s('wd'), 'wd'),
    momentum: number(s('momentum'), 'momentum'),
    nesterov: values.nesterov as boolean | undefined,
    warmup: number(s('warmup'), 'warmup'),
    seed: number(s('seed'), 'seed'),
    modelSeed: number(s('model-seed'), 'model-seed'),
    limitTrain: number(s('limit-train'), 'limit-train'),
    limitTest: number(s('limit-test'), 'limit-test'),
    out: s('out'),
    threads: number(s('threads'), 'threads') ?? undefined,
    drw: values.drw as boolean | undefined,
    drwEpoch: number(s('drw-epoch'), 'drw-epoch'),
    mixup: number(s('mixup'), 'mixup'),
    cutmix: number(s('cutmix'), 'cutmix'),
    mixUntil: number(s('mix-until'), 'mix-until'),
    cutout: number(s('cutout'), 'cutout'),
    // Checked by resolveConfig, which names the policies built.
    autoAugment: s('autoaugment') as TrainConfig['autoAugment'] | undefined,
    posthocTau: number(s('posthoc-tau'), 'posthoc-tau'),
  };
  for (const k of Object.keys(partial) as (keyof TrainConfig)[]) if (partial[k] === undefined) delete partial[k];
  return partial;
}

export function configFromArgs(values: Record<string, string | boolean | undefined>): TrainConfig {
  return resolveConfig(explicitConfig(values), values.preset as string | undefined);
}

/** The options of any command; unknown options and missing values throw (exit 2). */
export function parseCommandLine(args: string[]) {
  return parseArgs({ args, options: TRAIN_OPTIONS, allowPositionals: true, strict: true });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  // Their own flags (and no engine): the cells they start are ordinary train runs.
  if (command === 'sweep') return sweepCommand(rest);
  if (command === 'report') return reportCommand(rest);
  const { values, positionals } = parseCommandLine(rest);
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const threads = number(values.threads as string | undefined, 'threads');
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new UsageError(`--threads must be a positive integer, got '${values.threads}'`);
  }
  // Each kernel thread is a worker with its own V8 heap (tens of MB) that only
  // competes for the same cores: 1,000 of them took 8 GB and 25x longer.
  const cores = availableParallelism();
  if (threads !== undefined && threads > cores && !values['force-threads']) {
    throw new UsageError(
      `--threads ${threads} is more than the ${cores} logical cores of this machine, where the extra threads ` +
        'only cost memory and time; use --threads ' +
        cores +
        ' or fewer, or pass --force-threads to insist',
    );
  }
  // The wasm backend takes relaxed SIMD where the runtime has it (under Node 20
  // init() switches V8's flag on) and as many threads as cores unless told.
  // Fetching needs no kernels.
  if (command === 'fetch') return fetchCommand(values, positionals);
  await init({ backend: oneOf(values.backend, 'backend', ['wasm', 'webgpu', 'reference']) ?? 'wasm', threads });
  switch (command) {
    case 'train': {
      if (!values.out) throw new UsageError('train needs --out runs/NAME (the folder for metrics, checkpoints and plots)');
      let cfg = configFromArgs(values);
      if (values.download) cfg = await downloadForConfig(cfg, values);
      if (values['allow-changes'] && !values.resume) throw new UsageError('--allow-changes only applies with --resume');
      const stop = new StopRequest().listen((signal) =>
        process.stderr.write(
          `\nwasmtail: ${signal} received: finishing the current ` +
            `step and saving the exact position in ${cfg.out}; send it again to exit at once\n`,
        ),
      );
      let summary: RunSummary;
      try {
        summary = await train(cfg, { resume: values.resume, allowChanges: values['allow-changes'], stop });
      } catch (e) {
        if (e instanceof InterruptedError) {
          const again = argv.includes('--resume') ? argv : [...argv, '--resume'];
          process.stderr.write(`\nwasmtail: ${e.message}\nto continue: wasmtail ${again.join(' ')}\n`);
          return e.exitCode;
        }
        throw e;
      } finally {
        stop.close();
      }
      const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(2)}%`);
      process.stdout.write(
        JSON.stringify({
          out: cfg.out,
          bestEpoch: summary.best.epoch,
          bestTop1: summary.best.top1,
          lastTop1: summary.last.top1,
          many: summary.last.many,
          medium: summary.last.medium,
          few: summary.last.few,
          wallSeconds: summary.wallSeconds,
        }) + '\n',
      );
      process.stderr.write(
        `done: best top-1 ${pct(summary.best.top1)} (epoch ${summary.best.epoch}), last ${pct(summary.last.top1)}; ` +
          `see ${cfg.out}/summary.json and the .svg plots\n`,
      );
      return 0;
    }
    case 'eval':
      return evalCommand(values);
    case 'predict':
      return predictCommand(values, positionals);
    case 'demo':
      return runDemo({
        epochs: number(values.epochs as string | undefined, 'epochs'),
        arch: values.arch as string | undefined,
        out: (values.out as string | undefined) ?? 'runs/demo',
        extraArgs: [
          ...(['limit-train', 'limit-test', 'batch', 'threads'] as const).flatMap((k) => (values[k] ? [`--${k}`, String(values[k])] : [])),
          ...(values['force-threads'] ? ['--force-threads'] : []),
        ],
      });
    case 'info':
      process.stdout.write(JSON.stringify({ ...info(), node: process.version, defaults: DEFAULTS }, null, 2) + '\n');
      return 0;
    default:
      throw new UsageError(`unknown command '${command}' (train, eval, predict, fetch, sweep, report, demo, info)`);
  }
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
    shutdown();
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof UsageError || e instanceof ConfigError || err.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`wasmtail: ${err.message}\nrun 'wasmtail --help' for usage\n`);
      process.exitCode = 2;
    } else if (e instanceof NumericalError) {
      process.stderr.write(`\nwasmtail: training stopped: ${err.message}\n`);
      process.exitCode = 3;
    } else {
      process.stderr.write(`\nwasmtail: ${err.message.replace(/^wasmtail: /, '')}\n`);
      if (process.env.WASMTAIL_DEBUG) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 1;
    }
  }
}
