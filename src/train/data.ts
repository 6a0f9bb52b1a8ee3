// The data of a run: the chosen data set's train (long-tailed) and test splits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../data/dataset.js';
import { CIFAR_MEAN, CIFAR_STD, FASHION_MNIST_MEAN, FASHION_MNIST_STD, takeSubset } from '../data/dataset.js';
import { loadDataset, type DatasetName } from '../data/node.js';
import { type BadImage, channelStatistics, loadImageFolder } from '../data/folder.js';
import { classCounts, longTailIndices, subsetFingerprint, type SubsetFingerprint } from '../data/longtail.js';
import { ConfigError, type TrainConfig } from './config.js';
import { Progress } from './progress.js';

export interface RunData {
  train: Dataset;
  test: Dataset;
  trainCounts: number[];
  fingerprint: SubsetFingerprint;
  mean: readonly number[];
  std: readonly number[];
  /** Where the files were read from. */
  dataDir: string;
  /** Image folders: unreadable images left out by --skip-bad, and how the decoded-image cache was used. */
  skipped: BadImage[];
  notes: string[];
}

/** The train and test splits of an image folder, with what to log about them. */
function loadFolderSplits(cfg: TrainConfig): { train: Dataset; test: Dataset; skipped: BadImage[]; notes: string[] } {
  const progress = new Progress();
  const started = Date.now();
  const onProgress = (done: number, total: number) =>
    progress.update(
      `decoding images ${done}/${total} ` + `(${(done / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(0)} images/s)`,
    );
  const opts = { size: cfg.imageSize, channels: cfg.grey ? 1 : 3, skipBad: cfg.skipBad, onProgress } as const;
  const train = loadImageFolder(cfg.dataDir!, 'train', opts);
  const test = loadImageFolder(cfg.dataDir!, 'test', { ...opts, classNames: train.dataset.classNames });
  const notes = [train, test].map(({ cache }) =>
    cache.hit
      ? `decoded images read from ${cache.file}`
      : cache.writeError
        ? `the decoded images could not be cached (${cache.writeError}); the next run decodes them again`
        : `decoded images cached in ${cache.file}`,
  );
  return { train: train.dataset, test: test.dataset, skipped: [...train.skipped, ...test.skipped], notes };
}

/** The long-tailed Fashion-MNIST shipped in data/ (beside src/ or dist/). */
export function shippedDataDir(): string {
  for (const rel of ['../../data/fashion-mnist-lt', '../data/fashion-mnist-lt']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error('the shipped data set data/fashion-mnist-lt was not found next to the package');
}

/**
 * The shipped subset's fingerprint as the reference computes it: over the kept
 * indices into the original 60,000 images (recorded in manifest.json when the
 * subset was made), not over the shipped file's own 0..n-1.
 */
function shippedFingerprint(dir: string, own: SubsetFingerprint): SubsetFingerprint {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return own;
  let recorded: SubsetFingerprint | undefined;
  try {
    recorded = (JSON.parse(readFileSync(file, 'utf8')) as { fingerprint?: SubsetFingerprint }).fingerprint;
  } catch (e) {
    throw new Error(`${file}: the shipped subset's manifest cannot be read as JSON (${(e as Error).message}); reinstall wasmtail`);
  }
  if (!recorded || JSON.stringify(recorded.perClassCounts) !== JSON.stringify(own.perClassCounts)) {
    throw new Error(`${file}: its per-class counts do not match the shipped images (${own.perClassCounts.join(', ')})`);
  }
  return recorded;
}

export function loadRunData(cfg: TrainConfig): RunData {
  const base = cfg.dataset.replace(/-lt$/, '');
  const longTailed = cfg.dataset.endsWith('-lt');
  const folder = base === 'folder';
  const shipped = cfg.dataDir === null;
  if (shipped && base !== 'fashion-mnist') {
    throw new ConfigError(
      `--dataset ${cfg.dataset} needs --data-dir (the folder holding the standard binary files); ` +
        'only fashion-mnist-lt ships with wasmtail',
    );
  }
  if (shipped && !longTailed) {
    // The shipped copy is the long-tailed subset: training on it under the balanced name would misreport the run.
    throw new ConfigError(
      '--dataset fashion-mnist (all 60,000 images, balanced) needs --data-dir: the copy shipped with wasmtail ' +
        "is only the long-tailed subset (--dataset fashion-mnist-lt); Debian's dataset-fashion-mnist installs the full set in " +
        '/usr/share/datasets/fashion-mnist',
    );
  }
  const dir = cfg.dataDir ?? shippedDataDir();
  const images = folder ? loadFolderSplits(cfg) : null;
  let train = images?.train ?? loadDataset(base as DatasetName, dir, 'train');
  let test = images?.test ?? loadDataset(base as DatasetName, dir, 'test');
  // The shipped copy already is the rho=100 exp subset (seed 0), in the reference's order.
  let indices: Int32Array = Int32Array.from({ length: train.n }, (_, i) => i);
  if (longTailed && !shipped) {
    indices = longTailIndices(train.labels, { numClasses: train.numClasses, imbalanceRatio: cfg.imb, type: cfg.imbType, seed: cfg.seed });
  } else if (longTailed && shipped && (cfg.imb !== 100 || cfg.imbType !== 'exp' || cfg.seed !== 0)) {
    throw new Error(
      'the shipped fashion-mnist-lt is the rho=100 "exp" subset with seed 0; for other settings ' +
        "point --data-dir at the full Fashion-MNIST (e.g. /usr/share/datasets/fashion-mnist from Debian's dataset-fashion-mnist)",
    );
  }
  if (cfg.limitTrain > 0 && cfg.limitTrain < indices.length) {
    // Keep the class mix: take every k-th kept image rather than the first classes.
    const step = indices.length / cfg.limitTrain;
    indices = Int32Array.from({ length: cfg.limitTrain }, (_, i) => indices[Math.floor(i * step)]);
  }
  let fingerprint = subsetFingerprint(indices, train.labels, train.numClasses);
  if (shipped && longTailed && cfg.limitTrain === 0) fingerprint = shippedFingerprint(dir, fingerprint);
  train = takeSubset(train, indices);
  if (cfg.limitTest > 0 && cfg.limitTest < test.n) {
    const step = test.n / cfg.limitTest;
    test = takeSubset(
      test,
      Int32Array.from({ length: cfg.limitTest }, (_, i) => Math.floor(i * step)),
    );
  }
  const gray = train.c === 1;
  // An image folder's normalisation is its own training split's, stored in the checkpoint for predict.
  const stats = folder ? channelStatistics(train) : null;
  return {
    train,
    test,
    fingerprint,
    dataDir: dir,
    trainCounts: classCounts(train.labels, train.numClasses),
    mean: stats?.mean ?? (gray ? FASHION_MNIST_MEAN : CIFAR_MEAN),
    std: stats?.std ?? (gray ? FASHION_MNIST_STD : CIFAR_STD),
    skipped: images?.skipped ?? [],
    notes: images?.notes ?? [],
  };
}
