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
import { CifarResNet } from '../src/nn/resnet.js';
import { sgd } from '../src/optim/sgd.js';
import { crossEntropy, featureBalancedLoss } from '../src/ops/index.js';
import { tensor } from '../src/tensor.js';
import { noGrad } from '../src/autograd/node.js';
import { tidy } from '../src/memory.js';
import { BatchIterator, evalBatches } from '../src/data/batches.js';
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
    fetchBytes(`${base}/${split}-images-idx3-ubyte.gz`), fetchBytes(`${base}/${split}-labels-idx1-ubyte.gz`),
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

function evaluate(model: CifarResNet, test: Dataset): { accuracy: number[]; featureNorm: number[] } {
  model.eval();
  const k = test.numClasses;
  const correct = new Array(k).fill(0), count = new Array(k).fill(0), norm = new Array(k).fill(0);
  for (const b of evalBatches(test, { batchSize: 100, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD })) {
    const [logits, features] = tidy(() => noGrad(() => {
      const out = model.forward(tensor(b.x, b.shape));
      return [out.logits.toFloat32Array(), out.features.toFloat32Array()];
    }));
    const d = features.length / b.y.length;
    b.y.forEach((y, i) => {
      const z = logits.subarray(i * k, (i + 1) * k);
      let top = 0;
      for (let j = 1; j < k; j++) if (z[j] > z[top]) top = j;
      correct[y] += top === y ? 1 : 0;
      count[y]++;
      let s = 0;
      for (let j = 0; j < d; j++) s += features[i * d + j] ** 2;
      norm[y] += Math.sqrt(s);
    });
  }
  model.train();
  return { accuracy: correct.map((c, j) => c / count[j]), featureNorm: norm.map((s, j) => s / count[j]) };
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

  const model = new CifarResNet(1, { numClasses: 10, inChannels: 1, seed: req.seed, classifier: 'linear' });
  const opt = sgd(model.parameters(), { lr: req.lr, momentum: 0.9, weightDecay: 5e-4 });
  const batches = new BatchIterator(train, { batchSize: req.batch, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD, augment: null, seed: req.seed });
  let epoch = batches.epoch();
  let k = 0;
  for (let step = 1; step <= req.steps; step++) {
    if (k === epoch.numBatches) [epoch, k] = [batches.epoch(), 0];
    const b = epoch.batch(k++);
    // FBL's curriculum (the paper's (t / T)^2, over steps here, relative to 95 % of the run): 0 at the start, 1 near the end.
    const curr = Math.min(1, (step / (0.95 * req.steps)) ** 2);
    // The recipe's step decay, compressed to the run: lr x 0.1 after 80 % of the steps, x 0.01 after 90 %.
    opt.lr = req.lr * (step > 0.9 * req.steps ? 0.01 : step > 0.8 * req.steps ? 0.1 : 1);
    opt.zeroGrad();
    const { logits, features } = model.forward(tensor(b.x, b.shape));
    const loss = req.loss === 'fbl'
      ? featureBalancedLoss(logits, features, b.y, { classCounts, lambda: req.lambda, curr })
      : crossEntropy(logits, b.y);
    loss.backward();
    opt.step();
    const value = loss.item();
    if (!Number.isFinite(value)) throw new Error(`${req.loss}: the loss became ${value} at step ${step}`);
    post({ type: 'step', loss: req.loss, step, value, epoch: batches.getState().epochs, curr });
    if (step % req.evalEvery === 0 || step === req.steps) {
      post({ type: 'eval', loss: req.loss, step, ...evaluate(model, test) });
    }
  }
  post({ type: 'done', loss: req.loss });
}

self.onmessage = (e: MessageEvent<TrainRequest>) => {
  run(e.data).catch((err: Error) => post({ type: 'error', loss: e.data.loss, message: err.message }));
};
