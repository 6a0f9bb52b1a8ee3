/**
 * Resuming a run: what a checkpoint must hold to continue exactly, which
 * settings a resume may not change, and the run's history of starts,
 * interruptions and resumes (summary.json's `history`).
 */
import type { BatchIteratorState } from '../data/batches.js';
import type { MT19937State } from '../data/mt19937.js';
import type { SubsetFingerprint } from '../data/longtail.js';
import { metadataJson } from './checkpoint.js';
import { ConfigError, DEFAULTS, type TrainConfig } from './config.js';
import type { EpochRecord } from './run.js';

/**
 * Every setting, by what a resume may do with it. 'fixed': it shapes the data
 * subset or the model, so the checkpoint means nothing under another value;
 * 'adjustable': it steers the optimisation or the evaluation, so another value
 * gives another run, allowed only when asked for (--allow-changes) and
 * recorded; 'free': it does not change the results (where files are, threads).
 * A Record, so a new setting cannot be added without deciding.
 */
const SETTINGS: Record<keyof TrainConfig, 'fixed' | 'adjustable' | 'free'> = {
  dataset: 'fixed',
  imb: 'fixed',
  imbType: 'fixed',
  seed: 'fixed',
  modelSeed: 'fixed',
  limitTrain: 'fixed',
  arch: 'fixed',
  loss: 'fixed',
  batch: 'fixed',
  imageSize: 'fixed',
  grey: 'fixed',
  skipBad: 'fixed',
  drw: 'fixed',
  drwEpoch: 'fixed',
  mixup: 'fixed',
  cutmix: 'fixed',
  mixUntil: 'fixed',
  cutout: 'fixed',
  autoAugment: 'fixed',
  epochs: 'adjustable',
  lr: 'adjustable',
  wd: 'adjustable',
  momentum: 'adjustable',
  nesterov: 'adjustable',
  warmup: 'adjustable',
  lrSteps: 'adjustable',
  lambda: 'adjustable',
  posthocTau: 'adjustable',
  curriculum: 'adjustable',
  limitTest: 'adjustable',
  dataDir: 'free',
  out: 'free',
  threads: 'free',
};

export interface SettingChange {
  setting: string;
  from: unknown;
  to: unknown;
}

/** One event of a run's life, in summary.json's `history`. */
export interface RunEvent {
  event: 'started' | 'interrupted' | 'resumed';
  time: string;
  /** Completed epochs and steps of the next one at that moment. */
  epoch: number;
  step: number;
  signal?: string;
  /** Settings changed by this resume (with --allow-changes). */
  changes?: SettingChange[];
}

/** Where in an epoch a run stopped: enough to replay the epoch's plan and go on with its next step. */
export interface EpochPosition {
  /** The epoch under way (1-based) and the steps of it already taken. */
  epoch: number;
  step: number;
  /** The batch generator's state before the epoch was planned (its order and crops are drawn up front). */
  rngAtEpochStart: BatchIteratorState;
  /** The epoch's running sums so far (its train loss and accuracy). */
  lossSum: number;
  correct: number;
  seen: number;
  /** --mixup / --cutmix: the mixer's generator after the steps taken (it draws once per step). */
  mixerRng?: MT19937State;
}

/** What a checkpoint carries to resume from. */
export interface ResumeState {
  saved: TrainConfig;
  history: EpochRecord[];
  confusion: number[][];
  /** The generator's state after the last completed epoch was planned. */
  batchRng: BatchIteratorState;
  /** Set when the run stopped inside an epoch. */
  position: EpochPosition | null;
  wallSeconds: number;
  events: RunEvent[];
  /** The training subset the run was on (absent in checkpoints from before it was saved). */
  fingerprint: SubsetFingerprint | null;
  /** --mixup / --cutmix: the mixer's generator after the last completed epoch; null without mixing. */
  mixerRng: MT19937State | null;
}

// --autoaugment is written as one word, as in the papers and torchvision.
const flag = (key: string) => (key === 'autoAugment' ? '--autoaugment' : '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()));

/** Reads the resume state from a checkpoint's metadata; anything missing or broken is named with the file. */
export function readResumeState(path: string, meta: Record<string, string>): ResumeState {
  const read = <T>(key: string, what: string) => metadataJson<T>(path, meta, key, what);
  const state: ResumeState = {
    saved: read<TrainConfig>('config', 'the training configuration'),
    history: read<EpochRecord[]>('history', 'the metrics of each epoch'),
    confusion: meta.confusion === undefined ? [] : read<number[][]>('confusion', 'the last confusion matrix'),
    batchRng: read<BatchIteratorState>('batchRng', 'the batch order generator'),
    position: meta.position === undefined ? null : read<EpochPosition>('position', 'where in the epoch the run stopped'),
    wallSeconds: Number(meta.wallSeconds ?? 0),
    events: meta.events === undefined ? [] : read<RunEvent[]>('events', 'the run history'),
    fingerprint: meta.fingerprint === undefined ? null : read<SubsetFingerprint>('fingerprint', 'the training subset'),
    mixerRng: meta.mixerRng === undefined ? null : read<MT19937State>('mixerRng', 'the MixUp / CutMix generator'),
  };
  if (state.position && state.position.epoch !== state.history.length + 1) {
    throw new Error(
      `${path}: its 'position' metadata is in epoch ${state.position.epoch} but ${state.history.length} epochs are complete (a corrupt checkpoint)`,
    );
  }
  return state;
}

/**
 * Refuses a resume on other training data than the run's: the subset's
 * fingerprint (the kept indices and per-class counts) must be the saved one.
 * It does not hash the pixels, so the same files under another --data-dir pass.
 */
export function checkSameData(path: string, saved: SubsetFingerprint | null, now: SubsetFingerprint): void {
  if (saved && saved.hash !== now.hash) {
    throw new ConfigError(
      `--resume: ${path} was trained on the subset ${saved.hash} (per class [${saved.perClassCounts.join(', ')}]), ` +
        `but these data give ${now.hash} (per class [${now.perClassCounts.join(', ')}]); check --data-dir`,
    );
  }
}

/**
 * The settings `cfg` changes from those saved with the run. Any change to a
 * fixed one is refused; a change to an adjustable one is refused unless
 * `allowChanges`, and returned to be recorded. Errors name the checkpoint and
 * every setting, with its old and new value.
 */
export function checkResumeSettings(path: string, saved: TrainConfig, cfg: TrainConfig, allowChanges: boolean): SettingChange[] {
  const changes: (SettingChange & { kind: string })[] = [];
  for (const [key, kind] of Object.entries(SETTINGS) as [keyof TrainConfig, string][]) {
    if (kind === 'free') continue;
    const from = saved[key] === undefined ? DEFAULTS[key] : saved[key];
    if (JSON.stringify(from) !== JSON.stringify(cfg[key])) changes.push({ setting: flag(key), from, to: cfg[key], kind });
  }
  const list = (cs: SettingChange[]) => cs.map((c) => `${c.setting} ${JSON.stringify(c.from)} (now ${JSON.stringify(c.to)})`).join(', ');
  const fixed = changes.filter((c) => c.kind === 'fixed');
  if (fixed.length > 0) {
    throw new ConfigError(
      `--resume: ${path} was trained with ${list(fixed)}; these shape the data or the model and cannot change ` +
        'within a run: resume with the saved values or choose another --out',
    );
  }
  if (changes.length > 0 && !allowChanges) {
    throw new ConfigError(
      `--resume: ${path} was trained with ${list(changes)}; resume with the saved values, or pass ` +
        "--allow-changes to continue with the new ones (recorded in summary.json's history)",
    );
  }
  return changes.map(({ setting, from, to }) => ({ setting, from, to }));
}
