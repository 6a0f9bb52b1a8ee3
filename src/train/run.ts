/**
 * One training run, end to end: data, model, loss, SGD with the recipe's
 * schedule, evaluation after every epoch, atomic checkpoints and metrics in
 * the output folder (locked: one writer), and an exact resume from the last
 * completed epoch or from the step where a signal stopped it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BatchIterator } from '../data/batches.js';
import { writeFileAtomic } from '../io/files.js';
import { makeLoss } from '../losses/index.js';
import { ARCHITECTURES, type CifarResNet } from '../nn/resnet.js';
import type { ModelInput } from '../nn/fromStateDict.js';
import { sgd } from '../optim/sgd.js';
import { tensor } from '../tensor.js';
import { sum } from '../ops/reduce.js';
import { add } from '../ops/elementwise.js';
import { noGrad } from '../autograd/node.js';
import { info, setThreads } from '../init.js';
import { type TrainConfig, learningRate } from './config.js';
import { loadRunData, type RunData } from './data.js';
import { evaluate, type EvalMetrics } from './evaluate.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { Progress, formatDuration } from './progress.js';
import { InterruptedError, StopRequest } from './interrupt.js';
import { openRunFolder } from './runFolder.js';
import { checkResumeSettings, checkSameData, readResumeState, type EpochPosition, type RunEvent } from './resume.js';
import { runPlots } from './report.js';

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

export class NumericalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NumericalError';
  }
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
function withMemoryAdvice<T>(cfg: TrainConfig, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if ((e as Error).name !== 'OutOfMemoryError' || cfg.batch < 2) throw e;
    const err = new Error(`a training step at batch ${cfg.batch} does not fit in WebAssembly memory ` +
      `(${(e as Error).message.replace(/^out of memory: /, '')}); try --batch ${Math.floor(cfg.batch / 2)}`);
    err.name = 'OutOfMemoryError';
    throw err;
  }
}

/**
 * The name of the first parameter whose gradient holds a NaN or an infinity
 * (their sum does too), or null. One read in the common case: the sum of all
 * the sums, which is finite when every one is.
 */
async function nonFiniteGradient(model: CifarResNet): Promise<string | null> {
  const sums = noGrad(() => [...model.namedParameters()].filter(([, p]) => p.grad).map(([name, p]) => [name, sum(p.grad!)] as const));
  if (sums.length === 0) return null;
  const total = noGrad(() => sums.slice(1).reduce((acc, [, s]) => add(acc, s), sums[0][1]));
  if (Number.isFinite((await total.data())[0])) return null;
  for (const [name, s] of sums) if (!Number.isFinite((await s.data())[0])) return name;
  return null;
}

function buildModel(cfg: TrainConfig, data: RunData): CifarResNet {
  // LDAM is defined on cosine logits (its scale s = 30 assumes them): the reference pairs it with NormedLinear.
  return ARCHITECTURES[cfg.arch]({ numClasses: data.train.numClasses, inChannels: data.train.c, seed: cfg.modelSeed,
    classifier: cfg.loss === 'ldam-drw' ? 'normed' : 'linear' });
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
  const started = Date.now();
  const progress = opts.progress ?? new Progress();
  const stop = opts.stop ?? new StopRequest();
  const lastPath = join(cfg.out, 'last.safetensors');
  const bestPath = join(cfg.out, 'best.safetensors');
  if (!opts.resume && existsSync(lastPath)) {
    throw new Error(`${cfg.out} already holds a run (last.safetensors); pass --resume to continue it or choose another --out`);
  }
  // --threads N (0 or absent: whatever init() chose, the number of cores by default).
  if (cfg.threads) await setThreads(cfg.threads);
  const data = loadRunData(cfg);
  const model = buildModel(cfg, data);
  const opt = sgd(model.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.wd, nesterov: cfg.nesterov });
  const loss = makeLoss(cfg.loss, { classCounts: data.trainCounts.map((n) => Math.max(1, n)), lambda: cfg.lambda, schedule: cfg.curriculum });
  const batches = new BatchIterator(data.train, { batchSize: cfg.batch, mean: data.mean, std: data.std, seed: cfg.modelSeed });
  let history: EpochRecord[] = [];
  let confusion: number[][] = [];
  let wallBefore = 0;
  let position: EpochPosition | null = null;
  let events: RunEvent[] = [];
  if (opts.resume && existsSync(lastPath)) {
    const meta = await loadCheckpoint(lastPath, model, opt);
    const state = readResumeState(lastPath, meta);
    const changes = checkResumeSettings(lastPath, state.saved, cfg, opts.allowChanges ?? false);
    checkSameData(lastPath, state.fingerprint, data.fingerprint);
    ({ history, confusion, position, events } = state);
    batches.setState(state.batchRng);
    wallBefore = state.wallSeconds;
    events = [...events, { event: 'resumed', time: new Date().toISOString(), epoch: history.length, step: position?.step ?? 0,
      ...(changes.length > 0 ? { changes } : {}) }];
    for (const c of changes) progress.line(`resume changes ${c.setting} from ${JSON.stringify(c.from)} to ${JSON.stringify(c.to)}`);
    progress.line(`resuming ${cfg.out} after epoch ${history.length}${position ? `, step ${position.step}` : ''}`);
  } else {
    events = [{ event: 'started', time: new Date().toISOString(), epoch: 0, step: 0 }];
  }
  const fp = data.fingerprint;
  for (const note of data.notes) progress.line(note);
  if (data.skipped.length > 0) progress.line(`--skip-bad: left out ${data.skipped.length} unreadable images (listed in summary.json)`);
  progress.line(`data ${cfg.dataset}: ${data.train.n} training images, per class [${fp.perClassCounts.join(', ')}], subset hash ${fp.hash}; ` +
    `${data.test.n} test images`);
  progress.line(`model ${cfg.arch} (${model.parameterCount()} parameters), loss ${cfg.loss}, ${cfg.epochs} epochs, batch ${cfg.batch}`);

  // What predict and wasmtail/infer need to feed the model without the data set (src/nn/fromStateDict.ts).
  const input: ModelInput = { classNames: data.train.classNames, channels: data.train.c, height: data.train.h, width: data.train.w,
    mean: [...data.mean], std: [...data.std] };

  /** Checkpoint metadata for the state after the last completed epoch (plus, when stopping inside one, where). */
  const checkpointMeta = (extra: Record<string, string> = {}) => ({
    config: JSON.stringify({ ...cfg, input }), epoch: String(history.length), history: JSON.stringify(history), confusion: JSON.stringify(confusion),
    batchRng: JSON.stringify(batches.getState()), wallSeconds: String(wallBefore + (Date.now() - started) / 1000),
    fingerprint: JSON.stringify(fp), events: JSON.stringify(events), ...extra,
  });

  const imagesPerEpoch = data.train.n;
  let recentRate = 0;
  for (let epoch = history.length + 1; epoch <= cfg.epochs; epoch++) {
    const t0 = performance.now();
    opt.lr = learningRate(cfg, epoch);
    model.train();
    // The epoch's order and crops are drawn up front from this state: saved with a stop inside it, they are replayed exactly.
    if (position) batches.setState(position.rngAtEpochStart);
    const rngAtEpochStart = batches.getState();
    const plan = batches.epoch();
    let { lossSum, correct, seen } = position ?? { lossSum: 0, correct: 0, seen: 0 };
    const firstStep = position?.step ?? 0;
    position = null;
    for (let k = firstStep; k < plan.numBatches; k++) {
      if (await stop.poll()) {
        const signal = stop.signal!;
        const at: EpochPosition = { epoch, step: k, rngAtEpochStart, lossSum, correct, seen };
        events = [...events, { event: 'interrupted', time: new Date().toISOString(), epoch: epoch - 1, step: k, signal }];
        batches.setState(rngAtEpochStart);
        await saveCheckpoint(lastPath, model, opt, checkpointMeta({ position: JSON.stringify(at) }));
        throw new InterruptedError(signal, `stopped by ${signal} in epoch ${epoch} after step ${k} of ${plan.numBatches}; ` +
          `${lastPath} holds the exact position`);
      }
      const b = plan.batch(k);
      opt.zeroGrad();
      const out = withMemoryAdvice(cfg, () => model.forward(tensor(b.x, b.shape)));
      const l = loss.compute(out, b.y, epoch - 1, cfg.epochs);
      // One round trip for both (a device backend reads asynchronously).
      const [lossValues, z] = await Promise.all([l.data(), out.logits.data()]);
      const value = lossValues[0];
      if (!Number.isFinite(value)) {
        throw new NumericalError(`the loss became ${value} at epoch ${epoch}, step ${k + 1} (lr ${opt.lr}); ` +
          `the last good checkpoint is ${existsSync(lastPath) ? lastPath : 'none (first epoch)'}; try a lower --lr`);
      }
      withMemoryAdvice(cfg, () => l.backward());
      const bad = await nonFiniteGradient(model);
      if (bad) {
        throw new NumericalError(`the gradient of ${bad} became non-finite at epoch ${epoch}, step ${k + 1} (loss ${value}, lr ${opt.lr}); ` +
          `the last good checkpoint is ${existsSync(lastPath) ? lastPath : 'none (first epoch)'}; try a lower --lr`);
      }
      opt.step();
      lossSum += value * b.y.length;
      const C = data.train.numClasses;
      for (let i = 0; i < b.y.length; i++) {
        let best = 0;
        for (let j = 1; j < C; j++) if (z[i * C + j] > z[i * C + best]) best = j;
        if (best === b.y[i]) correct++;
      }
      seen += b.y.length;
      const elapsed = (performance.now() - t0) / 1000;
      recentRate = seen / elapsed;
      const remaining = (imagesPerEpoch - seen) / recentRate + ((cfg.epochs - epoch) * imagesPerEpoch) / recentRate;
      progress.update(`epoch ${epoch}/${cfg.epochs} step ${k + 1}/${plan.numBatches} loss ${(lossSum / seen).toFixed(4)} ` +
        `${recentRate.toFixed(1)} img/s ETA ${formatDuration(remaining)}`);
      opts.onStep?.(epoch, k + 1);
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const metrics = await evaluate(model, data.test, { batchSize: 256, mean: data.mean, std: data.std, trainCounts: data.trainCounts });
    confusion = metrics.confusion;
    const { confusion: _c, n: _n, ...rest } = metrics;
    const record: EpochRecord = {
      epoch, lr: opt.lr, trainLoss: lossSum / seen, trainAcc: correct / seen, ...rest,
      seconds: (performance.now() - t0) / 1000, imagesPerSec: seen / trainSeconds,
    };
    history.push(record);
    const bestSoFar = history.reduce((a, b) => (b.top1 > a.top1 ? b : a));
    const pct = (v: number | null) => (v === null ? '  n/a' : `${(100 * v).toFixed(2)}%`);
    progress.line(`epoch ${epoch}/${cfg.epochs} lr ${opt.lr.toExponential(2)} loss ${record.trainLoss.toFixed(4)} train ${pct(record.trainAcc)} ` +
      `| test top1 ${pct(record.top1)} many ${pct(record.many)} medium ${pct(record.medium)} few ${pct(record.few)} ` +
      `| ${record.imagesPerSec.toFixed(1)} img/s, ${formatDuration(record.seconds)}`);
    await writeFileAtomic(join(cfg.out, 'metrics.jsonl'), history.map((h) => JSON.stringify(h)).join('\n') + '\n');
    const meta = checkpointMeta();
    if (bestSoFar === record) await saveCheckpoint(bestPath, model, null, { ...meta, history: '[]', top1: String(record.top1) });
    await saveCheckpoint(lastPath, model, opt, meta);
    opts.onEpoch?.(record);
    if (opts.stopAfterEpoch === epoch) break;
  }
  if (history.length === 0) throw new Error('no epoch was run');
  const last = history[history.length - 1];
  const best = history.reduce((a, b) => (b.top1 > a.top1 ? b : a));
  const summary: RunSummary = {
    config: cfg, history: events, fingerprint: fp, trainCounts: data.trainCounts, classNames: data.train.classNames,
    best, last, confusion,
    skippedImages: { count: data.skipped.length, files: data.skipped }, wallSeconds: wallBefore + (Date.now() - started) / 1000, engine: info(),
  };
  await writeFileAtomic(join(cfg.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const plots = runPlots(history, data.trainCounts, data.train.classNames, `${cfg.loss.toUpperCase()} ${cfg.arch}`);
  for (const [name, svg] of Object.entries(plots)) await writeFileAtomic(join(cfg.out, name), svg);
  return summary;
}
