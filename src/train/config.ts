/**
 * A training run's configuration, its defaults (the FBL paper's CIFAR-LT
 * recipe, ../shared/RECIPE.md) and named presets.
 */
import type { ArchName } from '../nn/resnet.js';
import type { LossName } from '../losses/factory.js';
import { warmupStepDecay, type Schedule } from './schedules.js';
import { ConfigError } from './configError.js';
import { resolveToolboxOptions, TOOLBOX_DEFAULTS, type ToolboxOptions } from './toolboxOptions.js';

export type DatasetChoice =
  | 'cifar10-lt'
  | 'cifar100-lt'
  | 'fashion-mnist-lt'
  | 'cifar10'
  | 'cifar100'
  | 'fashion-mnist'
  | 'folder'
  | 'folder-lt';

export const DATASET_CHOICES: readonly DatasetChoice[] = [
  'cifar10-lt',
  'cifar100-lt',
  'fashion-mnist-lt',
  'cifar10',
  'cifar100',
  'fashion-mnist',
  'folder',
  'folder-lt',
];
export type { LossName };
export { ConfigError };

/** The long-tail toolbox's options (DRW, mixing, augmentation, post-hoc scoring) are part of a run's configuration. */
export interface TrainConfig extends ToolboxOptions {
  dataset: DatasetChoice;
  /** Folder with the standard files; null: the copy shipped with the project (fashion-mnist-lt only). */
  dataDir: string | null;
  /** Image folders ('folder', 'folder-lt'): the side every image is resized to. */
  imageSize: number;
  /** Image folders: one luminance channel instead of RGB. */
  grey: boolean;
  /** Image folders: leave unreadable images out (listed in summary.json) instead of stopping. */
  skipBad: boolean;
  imb: number;
  imbType: 'exp' | 'step';
  loss: LossName;
  /** FBL's stimulus scale. */
  lambda: number;
  /** FBL curriculum: 'relative' = (e / (0.95 E))^2 (default), 'reference' = (e / (E - 10))^2 as the paper's code. */
  curriculum: 'relative' | 'reference';
  arch: ArchName;
  epochs: number;
  batch: number;
  lr: number;
  wd: number;
  momentum: number;
  nesterov: boolean;
  /** Linear warm-up epochs. */
  warmup: number;
  /** Epochs (1-based, exclusive) after which lr is x0.01 and x0.0001; default 0.8 E and 0.9 E (160, 180 at 200). */
  lrSteps: [number, number] | null;
  /** Seed of the long-tailed subset (numpy's, as the reference: 0). */
  seed: number;
  /** Seed of the weight initialisation and of the batch order. */
  modelSeed: number;
  /** Use only the first N training images after the LT subset (quick runs, tests); 0 = all. */
  limitTrain: number;
  /** Evaluate on the first N test images; 0 = all. */
  limitTest: number;
  out: string;
  threads: number | null;
}

export const DEFAULTS: TrainConfig = {
  dataset: 'cifar10-lt',
  dataDir: null,
  imageSize: 32,
  grey: false,
  skipBad: false,
  imb: 100,
  imbType: 'exp',
  loss: 'fbl',
  lambda: 60,
  curriculum: 'relative',
  arch: 'resnet32',
  epochs: 200,
  batch: 64,
  lr: 0.1,
  wd: 2e-4,
  momentum: 0.9,
  nesterov: false,
  warmup: 5,
  lrSteps: null,
  seed: 0,
  modelSeed: 123,
  limitTrain: 0,
  limitTest: 0,
  out: 'runs/latest',
  threads: null,
  ...TOOLBOX_DEFAULTS,
};

/** Named configurations: the paper's runs, and the short schedules used in docs/RESULTS.md. */
export const PRESETS: Record<string, Partial<TrainConfig>> = {
  'fbl-cifar10-lt': { dataset: 'cifar10-lt', imb: 100, loss: 'fbl', lambda: 60, arch: 'resnet32', epochs: 200, batch: 64 },
  'fbl-cifar100-lt': { dataset: 'cifar100-lt', imb: 100, loss: 'fbl', lambda: 60, arch: 'resnet32', epochs: 200, batch: 64 },
  'ce-cifar10-lt': { dataset: 'cifar10-lt', imb: 100, loss: 'ce', arch: 'resnet32', epochs: 200, batch: 64 },
  'ldam-drw-cifar10-lt': { dataset: 'cifar10-lt', imb: 100, loss: 'ldam-drw', arch: 'resnet32', epochs: 200, batch: 128 },
  'fashion-lt-30': { dataset: 'fashion-mnist-lt', imb: 100, arch: 'resnet32', epochs: 30, batch: 64 },
  // npm start (src/cli/demo.ts): about 83 s of CPU a run (README). Lambda 30, the web demo's for the same
  // ResNet-8: 10 lifted the two smallest classes by only 3 to 6 points over CE on this short schedule.
  // Three epochs, the last at lr x0.01: two end at lr 0.1, where the two runs' test accuracy is noise.
  'fashion-lt-demo': { dataset: 'fashion-mnist-lt', imb: 100, arch: 'resnet8', epochs: 3, batch: 64, warmup: 1, lambda: 30 },
};

export function resolveConfig(partial: Partial<TrainConfig>, preset?: string): TrainConfig {
  if (preset !== undefined && !(preset in PRESETS)) {
    throw new ConfigError(`unknown preset '${preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
  }
  const cfg: TrainConfig = { ...DEFAULTS, ...(preset ? PRESETS[preset] : {}), ...partial };
  const positive = (v: number, name: string) => {
    if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`--${name} must be a positive number, got ${v}`);
  };
  positive(cfg.epochs, 'epochs');
  positive(cfg.batch, 'batch');
  positive(cfg.lr, 'lr');
  positive(cfg.imb, 'imb');
  const nonNegativeInteger = (v: number, name: string) => {
    if (!(Number.isInteger(v) && v >= 0)) throw new ConfigError(`--${name} must be a non-negative integer, got ${v}`);
  };
  nonNegativeInteger(cfg.epochs, 'epochs');
  nonNegativeInteger(cfg.batch, 'batch');
  nonNegativeInteger(cfg.seed, 'seed');
  nonNegativeInteger(cfg.modelSeed, 'model-seed');
  nonNegativeInteger(cfg.limitTrain, 'limit-train');
  nonNegativeInteger(cfg.limitTest, 'limit-test');
  if (cfg.threads !== null) nonNegativeInteger(cfg.threads, 'threads');
  if (!(cfg.wd >= 0)) throw new ConfigError(`--wd must be >= 0, got ${cfg.wd}`);
  if (!(cfg.warmup >= 0)) throw new ConfigError(`--warmup must be >= 0, got ${cfg.warmup}`);
  if (!(cfg.lambda >= 0)) throw new ConfigError(`--lambda must be >= 0, got ${cfg.lambda}`);
  if (!(cfg.momentum >= 0 && cfg.momentum < 1)) throw new ConfigError(`--momentum must be in [0, 1), got ${cfg.momentum}`);
  if (cfg.nesterov && cfg.momentum === 0) throw new ConfigError('--nesterov needs --momentum > 0');
  if (!(Number.isInteger(cfg.imageSize) && cfg.imageSize >= 8 && cfg.imageSize <= 256)) {
    throw new ConfigError(`--image-size must be an integer from 8 to 256, got ${cfg.imageSize}`);
  }
  if (cfg.dataset.startsWith('folder') && !cfg.dataDir) {
    throw new ConfigError(`--dataset ${cfg.dataset} needs --data-dir DIR (holding train/<class>/ and test/<class>/ or val/<class>/)`);
  }
  if (cfg.imb < 1) throw new ConfigError(`--imb (the imbalance ratio n_max / n_min) must be >= 1, got ${cfg.imb}`);
  // Checked with what was given (--mix-until alone is an error, not a default).
  // A saved configuration carries mixUntil's default even without mixing: only another value needs --mixup or --cutmix.
  const given: Record<string, unknown> = { ...(preset ? PRESETS[preset] : {}), ...partial };
  if (given.mixUntil === TOOLBOX_DEFAULTS.mixUntil) delete given.mixUntil;
  const input = Object.fromEntries(Object.keys(TOOLBOX_DEFAULTS).flatMap((k) => (given[k] === undefined ? [] : [[k, given[k]]])));
  return { ...cfg, ...resolveToolboxOptions(input, cfg) };
}

/** The two lr drops, 1-based epochs after which they apply. */
export function lrSteps(cfg: TrainConfig): [number, number] {
  return cfg.lrSteps ?? [Math.round(0.8 * cfg.epochs), Math.round(0.9 * cfg.epochs)];
}

/** The recipe's learning rate over epochs: linear warm-up, then x0.01 and x0.0001 steps (RECIPE.md). */
export function learningRateSchedule(cfg: TrainConfig): Schedule {
  return warmupStepDecay({ lr: cfg.lr, warmup: cfg.warmup, milestones: lrSteps(cfg), factors: [0.01, 1e-4] });
}

/** Learning rate for 1-based epoch e. */
export function learningRate(cfg: TrainConfig, epoch: number): number {
  return learningRateSchedule(cfg).at({ index: epoch - 1, length: cfg.epochs });
}
