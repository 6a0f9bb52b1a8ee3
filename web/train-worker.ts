/**
 * The training demo's worker: trains a ResNet-8 (one BasicBlock a stage) on
 * the shipped long-tailed Fashion-MNIST with one loss (CE or FBL) and posts
 * the loss after every step and, every `evalEvery` steps, the per-class test
 * accuracy and mean feature norm on a class-balanced slice of the test set.
 * The page runs two of these side by side, one per loss. On a
 * cross-origin-isolated page each may split its kernels over a thread pool of
 * its own (nested Web Workers over one shared memory, src/backend/wasm/threads.ts).
 */
import { setBackend } from '../src/backend/current.js';
import { WasmBackend } from '../src/backend/wasm/wasmBackend.js';
import { compileKernels, hasThreads, instantiateKernels } from '../src/backend/wasm/loader.js';
import { resnet8 } from '../src/nn/resnet.js';
import { sgd } from '../src/optim/sgd.js';
import { makeLoss } from '../src/losses/factory.js';
import { BatchIterator } from '../src/data/batches.js';
import { trainStep, type TrainingParts } from '../src/train/trainer.js';
import { fblCurriculumSchedule, warmupStepDecay } from '../src/train/schedules.js';
import { evaluate } from '../src/train/evaluate.js';
import { idxFromBytes, isGzip } from '../src/data/formats.js';
import { readIdxStream } from '../src/data/streams.js';
import { takeSubset, FASHION_MNIST_CLASSES, FASHION_MNIST_MEAN, FASHION_MNIST_STD, type Dataset } from '../src/data/dataset.js';
import type { TrainRequest, TrainMessage } from './protocol.js';

const post = (m: TrainMessage) => (self as unknown as Worker).postMessage(m);

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!isGzip(bytes)) return bytes; // a server that already sent it decompressed
  // Inflated into at most what the IDX header declares: a bomb is refused, not unpacked.
  return readIdxStream(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip')), url);
}

async function loadSplit(base: string, split: 'train' | 't10k'): Promise<Dataset> {
  const [images, labels] = await Promise.all([
    fetchBytes(`${base}/${split}-images-idx3-ubyte.gz`),
    fetchBytes(`${base}/${split}-labels-idx1-ubyte.gz`),
  ]);
  return idxFromBytes({ file: `${split}-images`, bytes: images }, { file: `${split}-labels`, bytes: labels }, FASHION_MNIST_CLASSES);
}

/** The first `perClass` test images of every class: a balanced yardstick, as the LT benchmarks' test sets are. */
function balancedSlice(ds: Dataset, perClass: number): Dataset {
  const taken = new Array(ds.numClasses).fill(0);
  const keep: number[] = [];
  for (let i = 0; i < ds.n; i++) if (taken[ds.labels[i]]++ < perClass) keep.push(i);
  return takeSubset(ds, Int32Array.from(keep));
}

/**
 * The kernels over a shared memory with a pool of `threads` threads where the
 * page is cross-origin isolated, one thread over a private memory otherwise;
 * the plain-SIMD build either way, so that every thread count gives the same
 * bits. (Not init() from the main entry: that one would bundle the WebGPU backend.)
 * Resolves to the threads in use.
 */
async function startKernels(base: string, threads: number): Promise<number> {
  const threaded = threads > 1 && hasThreads();
  const module = await compileKernels(new URL(threaded ? './wasmtail-threads.wasm' : './wasmtail.wasm', base));
  const kernels = new WasmBackend(await instantiateKernels(module));
  setBackend(kernels);
  return kernels.setThreads(threaded ? threads : 1);
}

async function run(req: TrainRequest): Promise<void> {
  const threads = await startKernels(req.base, req.threads);
  const [train, fullTest] = await Promise.all([loadSplit(req.dataUrl, 'train'), loadSplit(req.dataUrl, 't10k')]);
  const test = balancedSlice(fullTest, req.evalPerClass);
  const classCounts = Array.from({ length: train.numClasses }, (_, j) => train.labels.filter((y) => y === j).length);
  post({ type: 'ready', loss: req.loss, classCounts, classNames: train.classNames, trainImages: train.n, threads });

  const model = resnet8({ numClasses: 10, inChannels: 1, seed: req.seed });
  // The schedules count steps here, not epochs: FBL's curriculum ((t / 0.95 T)^2, 'relative') and the
  // recipe's step decay compressed to the run (lr x 0.1 after 80 % of the steps, x 0.01 after 90 %).
  const curriculum = fblCurriculumSchedule('relative');
  const parts: TrainingParts = {
    model,
    optimizer: sgd(model.parameters(), { lr: req.lr, momentum: 0.9, weightDecay: 5e-4 }),
    loss: makeLoss(req.loss, { classCounts, lambda: req.lambda, schedule: curriculum }),
    learningRate: warmupStepDecay({ lr: req.lr, warmup: 0, milestones: [0.8 * req.steps, 0.9 * req.steps], factors: [0.1, 0.01] }),
  };
  const batches = new BatchIterator(train, {
    batchSize: req.batch,
    mean: FASHION_MNIST_MEAN,
    std: FASHION_MNIST_STD,
    augment: null,
    seed: req.seed,
  });
  const evalOptions = { batchSize: 100, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD, trainCounts: classCounts };
  let epoch = batches.epoch();
  let k = 0;
  for (let step = 1; step <= req.steps; step++) {
    if (k === epoch.numBatches) [epoch, k] = [batches.epoch(), 0];
    const position = { index: step - 1, length: req.steps };
    const { loss: value } = await trainStep(parts, epoch.batch(k++), position, { where: `step ${step}` });
    post({ type: 'step', loss: req.loss, step, value, epoch: batches.getState().epochs, curr: curriculum.at(position) });
    if (step % req.evalEvery === 0 || step === req.steps) {
      const metrics = await evaluate(model, test, evalOptions);
      post({ type: 'eval', loss: req.loss, step, accuracy: metrics.perClass, featureNorm: metrics.featureNormPerClass });
    }
  }
  post({ type: 'done', loss: req.loss });
}

self.onmessage = (e: MessageEvent<TrainRequest>) => {
  run(e.data).catch((err: Error) => post({ type: 'error', loss: e.data.loss, message: err.message }));
};
