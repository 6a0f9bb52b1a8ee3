/**
 * One training run, end to end: data, model, loss, SGD with the recipe's
 * schedule, evaluation after every epoch, atomic checkpoints and metrics in
 * the output folder (locked: one writer), and an exact resume from the last
 * completed epoch or from the step where a signal stopped it. The steps
 * and epochs are the shared trainer's (trainer.ts); this is the CLI's face
 * around them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BatchIterator, type BatchIteratorState } from '../data/batches.js';
import { writeFileAtomic } from '../io/files.js';
import { makeLoss } from '../losses/index.js';
import { ARCHITECTURES, type CifarResNet } from '../nn/resnet.js';
import type { ModelInput } from '../nn/fromStateDict.js';
import { sgd } from '../optim/sgd.js';
import { info, setThreads } from '../init.js';
import { type TrainConfig, learningRateSchedule } from './config.js';
import { loadRunData, type RunData } from './data.js';
import { evaluate, type EvalMetrics } from './evaluate.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { Progress, formatDuration } from './progress.js';
import { InterruptedError, type StopRequest } from './interrupt.js';
import { openRunFolder } from './runFolder.js';
import { checkResumeSettings, checkSameData, readResumeState, type EpochPosition, type RunEvent } from './resume.js';
import { runPlots } from './report.js';
import { NumericalError, trainEpoch, type EpochTotals, type TrainingParts } from './trainer.js';
import { fblCurriculumSchedule } from './schedules.js';
import { toolboxStep } from './toolboxStep.js';
import type { BatchMixer } from '../losses/mixing.js';

export { NumericalError };

export interface EpochRecord extends Omit<EvalMetrics, 'confusion' | 'n'> {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  seconds: number;
  imagesPerSec: number;
}

export interface RunSummary {
  config: TrainConfig;
  /** Starts, interruptions and resumes (with the settings each resume changed). */
  history: RunEvent[];
  fingerprint: RunData['fingerprint'];
  trainCounts: number[];
  classNames: string[];
  best: EpochRecord;
  last: EpochRecord;
  /** Confusion matrix of the last epoch, [true][predicted]. */
  confusion: number[][];
  /** Image folders: images left out by --skip-bad (file and cause). */
  skippedImages: { count: number; files: RunData['skipped'] };
  wallSeconds: number;
  engine: Record<string, unknown>;
}

export interface TrainOptions {
  resume?: boolean;
  /** With resume: continue even though adjustable settings (lr, wd, lambda, epochs...) changed; the change is recorded. */
  allowChanges?: boolean;
  progress?: Progress;
  /** Called after each epoch (tests, the demo table). */
  onEpoch?: (r: EpochRecord) => void;
  /** Called after each step (tests of interruption). */
  onStep?: (epoch: number, step: number) => void;
  /** Stop after this epoch as if interrupted (tests of resume). */
  stopAfterEpoch?: number;
  /** Polled between steps: once it is requested, the run saves its exact position and throws InterruptedError. */
  stop?: StopRequest;
}

/** Turns running out of WebAssembly memory into advice naming the batch size to try. */
async function withMemoryAdvice<T>(cfg: TrainConfig, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if ((e as Error).name !== 'OutOfMemoryError' || cfg.batch < 2) throw e;
    const err = new Error(
      `a training step at batch ${cfg.batch} does not fit in WebAssembly memory ` +
        `(${(e as Error).message.replace(/^out of memory: /, '')}); try --batch ${Math.floor(cfg.batch / 2)}`,
    );
    err.name = 'OutOfMemoryError';
    throw err;
  }
}

function buildModel(cfg: TrainConfig, data: RunData): CifarResNet {
  // LDAM is defined on cosine logits (its scale s = 30 assumes them): the reference pairs it with NormedLinear.
  return ARCHITECTURES[cfg.arch]({
    numClasses: data.train.numClasses,
    inChannels: data.train.c,
    seed: cfg.modelSeed,
    classifier: cfg.loss === 'ldam-drw' ? 'normed' : 'linear',
  });
}

/** Everything a run holds between epochs: what it trains, where it writes, and how far it is. */
interface Run {
  cfg: TrainConfig;
  opts: TrainOptions;
  progress: Progress;
  lastPath: string;
  bestPath: string;
  data: RunData;
  parts: TrainingParts;
  batches: BatchIterator;
  /** --mixup / --cutmix: the generator of every batch's mixing, checkpointed with the batch order; null without. */
  mixer: BatchMixer | null;
  /** What predict and wasmtail/infer need to feed the model without the data set (src/nn/fromStateDict.ts). */
  input: ModelInput;
  history: EpochRecord[];
  /** Confusion matrix of the last evaluated epoch. */
  confusion: number[][];
  /** Inside an epoch that a signal stopped, where (from a resumed checkpoint); null at an epoch boundary. */
  position: EpochPosition | null;
  events: RunEvent[];
  /** Wall time of the run's earlier sessions, and when this one started (Date.now()). */
  wallBefore: number;
  started: number;
}

/** Trains `cfg` into cfg.out, holding the folder's lock (one writer) for the whole run. */
export async function train(cfg: TrainConfig, opts: TrainOptions = {}): Promise<RunSummary> {
  const lock = openRunFolder(cfg.out);
  try {
    return await trainLocked(cfg, opts);
  } finally {
    lock.release();
  }
}

async function trainLocked(cfg: TrainConfig, opts: TrainOptions): Promise<RunSummary> {
  const run = await openRun(cfg, opts);
  announce(run);
  for (let epoch = run.history.length + 1; epoch <= cfg.epochs; epoch++) {
    const t0 = performance.now();
    const totals = await runEpoch(run, epoch, t0);
    const record = await finishEpoch(run, epoch, totals, t0);
    opts.onEpoch?.(record);
    if (opts.stopAfterEpoch === epoch) break;
  }
  return writeSummary(run);
}

/** Data, model, optimiser, loss and batches for `cfg`; on resume, restored from last.safetensors. */
async function openRun(cfg: TrainConfig, opts: TrainOptions): Promise<Run> {
  const lastPath = join(cfg.out, 'last.safetensors');
  if (!opts.resume && existsSync(lastPath)) {
    throw new Error(`${cfg.out} already holds a run (last.safetensors); pass --resume to continue it or choose another --out`);
  }
  const started = Date.now();
  // --threads N (0 or absent: whatever init() chose, the number of cores by default).
  if (cfg.threads) await setThreads(cfg.threads);
  const data = loadRunData(cfg);
  const model = buildModel(cfg, data);
  const classCounts = data.trainCounts.map((n) => Math.max(1, n));
  const loss = makeLoss(cfg.loss, { classCounts, lambda: cfg.lambda, schedule: fblCurriculumSchedule(cfg.curriculum) });
  // Seeds beside the model seed's (weights, batch order): model seed + 1 augments, + 2 mixes.
  const { prepareStep, mixer } = toolboxStep(cfg, loss, classCounts, cfg.modelSeed + 2);
  const parts: TrainingParts = {
    model,
    optimizer: sgd(model.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.wd, nesterov: cfg.nesterov }),
    loss,
    learningRate: learningRateSchedule(cfg),
    ...(prepareStep ? { prepareStep } : {}),
  };
  const byteAugment =
    cfg.autoAugment !== null || cfg.cutout > 0 ? { autoAugment: cfg.autoAugment, cutout: cfg.cutout, seed: cfg.modelSeed + 1 } : null;
  const run: Run = {
    cfg,
    opts,
    progress: opts.progress ?? new Progress(),
    lastPath,
    bestPath: join(cfg.out, 'best.safetensors'),
    data,
    parts,
    batches: new BatchIterator(data.train, { batchSize: cfg.batch, mean: data.mean, std: data.std, seed: cfg.modelSeed, byteAugment }),
    mixer,
    input: {
      classNames: data.train.classNames,
      channels: data.train.c,
      height: data.train.h,
      width: data.train.w,
      mean: [...data.mean],
      std: [...data.std],
    },
    history: [],
    confusion: [],
    position: null,
    events: [{ event: 'started', time: new Date().toISOString(), epoch: 0, step: 0 }],
    wallBefore: 0,
    started,
  };
  if (opts.resume && existsSync(lastPath)) await resume(run);
  return run;
}

/** Restores weights, momentum, batch order, metrics and the stop position from last.safetensors, after checking its settings and data. */
async function resume(run: Run): Promise<void> {
  const { cfg, lastPath, parts, progress } = run;
  const meta = await loadCheckpoint(lastPath, parts.model, parts.optimizer);
  const state = readResumeState(lastPath, meta);
  const changes = checkResumeSettings(lastPath, state.saved, cfg, run.opts.allowChanges ?? false);
  checkSameData(lastPath, state.fingerprint, run.data.fingerprint);
  ({ history: run.history, confusion: run.confusion, position: run.position } = state);
  run.batches.setState(state.batchRng);
  if (run.mixer) {
    // A stop inside an epoch saved the mixer where the steps taken left it.
    const mixerRng = state.position?.mixerRng ?? state.mixerRng;
    if (!mixerRng) throw new Error(`${lastPath}: --mixup / --cutmix are on but the checkpoint has no mixer state (a corrupt checkpoint)`);
    run.mixer.setState(mixerRng);
  }
  run.wallBefore = state.wallSeconds;
  run.events = [
    ...state.events,
    {
      event: 'resumed',
      time: new Date().toISOString(),
      epoch: run.history.length,
      step: run.position?.step ?? 0,
      ...(changes.length > 0 ? { changes } : {}),
    },
  ];
  for (const c of changes) progress.line(`resume changes ${c.setting} from ${JSON.stringify(c.from)} to ${JSON.stringify(c.to)}`);
  progress.line(`resuming ${cfg.out} after epoch ${run.history.length}${run.position ? `, step ${run.position.step}` : ''}`);
}

/** The run's opening lines: data notes, the subset, the model. */
function announce({ cfg, data, parts, progress }: Run): void {
  const fp = data.fingerprint;
  for (const note of data.notes) progress.line(note);
  if (data.skipped.length > 0) progress.line(`--skip-bad: left out ${data.skipped.length} unreadable images (listed in summary.json)`);
  progress.line(
    `data ${cfg.dataset}: ${data.train.n} training images, per class [${fp.perClassCounts.join(', ')}], subset hash ${fp.hash}; ` +
      `${data.test.n} test images`,
  );
  progress.line(
    `model ${cfg.arch} (${parts.model.parameterCount()} parameters), loss ${cfg.loss}, ${cfg.epochs} epochs, batch ${cfg.batch}`,
  );
}

/** Checkpoint metadata for the state after the last completed epoch (plus, when stopping inside one, where). */
function checkpointMeta(run: Run, extra: Record<string, string> = {}): Record<string, string> {
  return {
    config: JSON.stringify({ ...run.cfg, input: run.input }),
    epoch: String(run.history.length),
    history: JSON.stringify(run.history),
    confusion: JSON.stringify(run.confusion),
    batchRng: JSON.stringify(run.batches.getState()),
    wallSeconds: String(run.wallBefore + (Date.now() - run.started) / 1000),
    fingerprint: JSON.stringify(run.data.fingerprint),
    events: JSON.stringify(run.events),
    ...(run.mixer ? { mixerRng: JSON.stringify(run.mixer.getState()) } : {}),
    ...extra,
  };
}

/**
 * The steps of epoch `epoch` (from where a resumed stop left it), with a
 * progress line after each; a stop request saves the exact position and
 * throws InterruptedError.
 */
async function runEpoch(run: Run, epoch: number, t0: number): Promise<EpochTotals> {
  const { cfg, batches, lastPath } = run;
  // The epoch's order and crops are drawn up front from this state: saved with a stop inside it, they are replayed exactly.
  if (run.position) batches.setState(run.position.rngAtEpochStart);
  const rngAtEpochStart = batches.getState();
  const plan = batches.epoch();
  const from = run.position && {
    step: run.position.step,
    totals: { lossSum: run.position.lossSum, correct: run.position.correct, seen: run.position.seen },
  };
  run.position = null;
  const { totals, stoppedAt } = await withMemoryAdvice(cfg, () =>
    trainEpoch(
      run.parts,
      plan,
      { index: epoch - 1, length: cfg.epochs },
      {
        shouldStop: () => run.opts.stop?.poll() ?? Promise.resolve(false),
        afterStep: (k, sums) => {
          reportStep(run, epoch, k, plan.numBatches, sums, t0);
          run.opts.onStep?.(epoch, k + 1);
        },
        context: (k) => ({
          where: `epoch ${epoch}, step ${k + 1}`,
          advice: `the last good checkpoint is ${existsSync(lastPath) ? lastPath : 'none (first epoch)'}; try a lower --lr`,
        }),
      },
      from ?? undefined,
    ),
  );
  if (stoppedAt !== null) await saveStop(run, epoch, stoppedAt, plan.numBatches, rngAtEpochStart, totals);
  return totals;
}

/** Saves a stopped epoch's exact position in last.safetensors and throws InterruptedError. */
async function saveStop(
  run: Run,
  epoch: number,
  step: number,
  numBatches: number,
  rngAtEpochStart: BatchIteratorState,
  { lossSum, correct, seen }: EpochTotals,
): Promise<never> {
  const signal = run.opts.stop!.signal!;
  const at: EpochPosition = {
    epoch,
    step,
    rngAtEpochStart,
    lossSum,
    correct,
    seen,
    ...(run.mixer ? { mixerRng: run.mixer.getState() } : {}),
  };
  run.events = [...run.events, { event: 'interrupted', time: new Date().toISOString(), epoch: epoch - 1, step, signal }];
  run.batches.setState(rngAtEpochStart);
  await saveCheckpoint(run.lastPath, run.parts.model, run.parts.optimizer, checkpointMeta(run, { position: JSON.stringify(at) }));
  throw new InterruptedError(
    signal,
    `stopped by ${signal} in epoch ${epoch} after step ${step} of ${numBatches}; ` + `${run.lastPath} holds the exact position`,
  );
}

/** The progress line after step k: running loss, throughput and the time left for the whole run. */
function reportStep(
  { cfg, data, progress }: Run,
  epoch: number,
  k: number,
  numBatches: number,
  { lossSum, seen }: EpochTotals,
  t0: number,
): void {
  const imagesPerEpoch = data.train.n;
  const rate = seen / ((performance.now() - t0) / 1000);
  const remaining = (imagesPerEpoch - seen) / rate + ((cfg.epochs - epoch) * imagesPerEpoch) / rate;
  progress.update(
    `epoch ${epoch}/${cfg.epochs} step ${k + 1}/${numBatches} loss ${(lossSum / seen).toFixed(4)} ` +
      `${rate.toFixed(1)} img/s ETA ${formatDuration(remaining)}`,
  );
}

/** After an epoch's steps: evaluation, its line, metrics.jsonl, and the best and last checkpoints. */
async function finishEpoch(run: Run, epoch: number, { lossSum, correct, seen }: EpochTotals, t0: number): Promise<EpochRecord> {
  const { cfg, data, parts } = run;
  const trainSeconds = (performance.now() - t0) / 1000;
  const metrics = await evaluate(parts.model, data.test, {
    batchSize: 256,
    mean: data.mean,
    std: data.std,
    trainCounts: data.trainCounts,
    posthocTau: cfg.posthocTau,
  });
  run.confusion = metrics.confusion;
  const { confusion: _c, n: _n, ...rest } = metrics;
  const record: EpochRecord = {
    epoch,
    lr: parts.optimizer.lr,
    trainLoss: lossSum / seen,
    trainAcc: correct / seen,
    ...rest,
    seconds: (performance.now() - t0) / 1000,
    imagesPerSec: seen / trainSeconds,
  };
  run.history.push(record);
  const pct = (v: number | null) => (v === null ? '  n/a' : `${(100 * v).toFixed(2)}%`);
  run.progress.line(
    `epoch ${epoch}/${cfg.epochs} lr ${record.lr.toExponential(2)} loss ${record.trainLoss.toFixed(4)} train ${pct(record.trainAcc)} ` +
      `| test top1 ${pct(record.top1)} many ${pct(record.many)} medium ${pct(record.medium)} few ${pct(record.few)} ` +
      `| ${record.imagesPerSec.toFixed(1)} img/s, ${formatDuration(record.seconds)}`,
  );
  await writeFileAtomic(join(cfg.out, 'metrics.jsonl'), run.history.map((h) => JSON.stringify(h)).join('\n') + '\n');
  const meta = checkpointMeta(run);
  if (bestEpoch(run.history) === record)
    await saveCheckpoint(run.bestPath, parts.model, null, { ...meta, history: '[]', top1: String(record.top1) });
  await saveCheckpoint(run.lastPath, parts.model, parts.optimizer, meta);
  return record;
}

/** The epoch with the highest top-1 (the first of equals). */
function bestEpoch(history: EpochRecord[]): EpochRecord {
  return history.reduce((a, b) => (b.top1 > a.top1 ? b : a));
}

/** summary.json and the plots, once the last epoch is done. */
async function writeSummary(run: Run): Promise<RunSummary> {
  const { cfg, data, history } = run;
  if (history.length === 0) throw new Error('no epoch was run');
  const summary: RunSummary = {
    config: cfg,
    history: run.events,
    fingerprint: data.fingerprint,
    trainCounts: data.trainCounts,
    classNames: data.train.classNames,
    best: bestEpoch(history),
    last: history[history.length - 1],
    confusion: run.confusion,
    skippedImages: { count: data.skipped.length, files: data.skipped },
    wallSeconds: run.wallBefore + (Date.now() - run.started) / 1000,
    engine: info(),
  };
  await writeFileAtomic(join(cfg.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const plots = runPlots(history, data.trainCounts, data.train.classNames, `${cfg.loss.toUpperCase()} ${cfg.arch}`);
  for (const [name, svg] of Object.entries(plots)) await writeFileAtomic(join(cfg.out, name), svg);
  return summary;
}
