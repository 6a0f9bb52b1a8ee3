/**
 * Shuffled, augmented mini-batches from a seeded generator, and the plain
 * evaluation path. Pure TypeScript, no Node imports.
 */
import { type AugmentOptions, DEFAULT_AUGMENT, hflip, padCrop, writeImage, normalizationTable, sampleAugment } from './augment.js';
import { ByteAugmenter, type ByteAugmentOptions, type ByteAugmentParams } from './byteAugment.js';
import type { Dataset } from './dataset.js';
import { MT19937, type MT19937State } from './mt19937.js';

/** A mini-batch: `x` is float32 [size, c, h, w], `indices` the data-set rows it holds. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  indices: Int32Array;
  /** [size, c, h, w] */
  shape: [number, number, number, number];
}

export interface BatchOptions {
  batchSize: number;
  /** Per-channel mean and std of pixel / 255 (e.g. CIFAR_MEAN / CIFAR_STD). */
  mean: readonly number[];
  std: readonly number[];
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Drop the last partial batch (default false: keep it). */
  dropLast?: boolean;
  /** Random crop / flip; default { pad: 4, flip: true }; null for none. */
  augment?: AugmentOptions | null;
  /** Seed of the iterator's MT19937 (default 0). */
  seed?: number;
  /**
   * AutoAugment / Cutout after the crop and flip (ByteAugmenter), drawn from
   * their own MT19937 seeded with `seed` (give it a seed other than the
   * iterator's, or the two streams coincide); null or absent for none.
   */
  byteAugment?: (ByteAugmentOptions & { seed: number }) | null;
}

/** Resumable iterator state: plain JSON, to store in a checkpoint. */
export interface BatchIteratorState {
  rng: MT19937State;
  /** Epochs planned so far. */
  epochs: number;
  /** The ByteAugmenter's generator, present when byteAugment is on. */
  byteRng?: MT19937State;
}

/** One epoch's plan: all its randomness is drawn when the epoch is created. */
export interface Epoch extends Iterable<Batch> {
  /** The epoch's image order (indices into the data set). */
  order: Int32Array;
  numBatches: number;
  /** Builds batch k (0-based) of the epoch; any order, any number of times. */
  batch(k: number): Batch;
}

/**
 * Epochs of mini-batches over a data set.
 *
 * `epoch()` draws the whole epoch's randomness up front, in a fixed order: the
 * permutation first (`rng.permutation(n)`, i.e. `np.random.permutation`), then
 * for each position of the permutation its crop top, crop left and flip bit.
 * Batches are then built lazily and deterministically from that plan, so the
 * generator's state after `epoch()` does not depend on how many batches were
 * consumed. To resume: save `getState()` before an epoch (e.g. at the end of
 * the previous one), `setState()` it later, call `epoch()` and continue from
 * any batch with `batch(k)`.
 */
export class BatchIterator {
  readonly rng: MT19937;
  private epochs = 0;
  private readonly lut: Float32Array;
  private readonly augment: AugmentOptions | null;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly byteAugmenter: ByteAugmenter | null;
  readonly batchSize: number;

  constructor(
    readonly dataset: Dataset,
    options: BatchOptions,
  ) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`BatchIterator: batchSize must be a positive integer, got ${batchSize}`);
    if (options.mean.length !== dataset.c) {
      throw new RangeError(`BatchIterator: ${options.mean.length} normalisation channels for ${dataset.c}-channel images`);
    }
    const augment = options.augment === undefined ? DEFAULT_AUGMENT : options.augment;
    if (augment && (!Number.isInteger(augment.pad) || augment.pad < 0)) {
      throw new RangeError(`BatchIterator: augment.pad must be an integer >= 0, got ${augment.pad}`);
    }
    this.batchSize = batchSize;
    this.augment = augment ? { pad: augment.pad, flip: augment.flip } : null;
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? false;
    this.lut = normalizationTable(options.mean, options.std);
    this.rng = new MT19937(options.seed ?? 0);
    const bytes = options.byteAugment ? new ByteAugmenter(options.byteAugment, options.byteAugment.seed) : null;
    this.byteAugmenter = bytes?.enabled ? bytes : null;
  }

  /** Batches an epoch yields. */
  get numBatches(): number {
    const n = this.dataset.n;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * Plans the next epoch (consumes its randomness now). With byteAugment on,
   * the augmenter then draws each position's choices from its own generator,
   * so that batch(k) stays deterministic.
   */
  epoch(): Epoch {
    const { dataset: ds, batchSize, augment, rng, lut, byteAugmenter } = this;
    const n = ds.n;
    const order = this.shuffle ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    let params: Int32Array | null = null;
    if (augment && (augment.pad > 0 || augment.flip)) {
      params = new Int32Array(3 * n);
      for (let p = 0; p < n; p++) {
        const a = sampleAugment(rng, augment);
        params[3 * p] = a.top;
        params[3 * p + 1] = a.left;
        params[3 * p + 2] = a.flip ? 1 : 0;
      }
    }
    const shape = { c: ds.c, h: ds.h, w: ds.w };
    const extra: ByteAugmentParams[] | null = byteAugmenter ? Array.from({ length: n }, () => byteAugmenter.sample(shape)) : null;
    this.epochs++;
    const numBatches = this.numBatches;
    const pad = augment ? augment.pad : 0;
    const size = ds.c * ds.h * ds.w;
    const batch = (k: number): Batch => {
      if (!Number.isInteger(k) || k < 0 || k >= numBatches) throw new RangeError(`batch ${k} outside [0, ${numBatches})`);
      const start = k * batchSize;
      const b = Math.min(batchSize, n - start);
      const x = new Float32Array(b * size);
      const y = new Int32Array(b);
      const indices = order.slice(start, start + b);
      for (let j = 0; j < b; j++) {
        const i = indices[j];
        const p = start + j;
        const a = params ? { top: params[3 * p], left: params[3 * p + 1], flip: params[3 * p + 2] === 1 } : null;
        if (extra) {
          // The byte path: crop and flip, AutoAugment / Cutout, then normalise.
          let img = ds.images.subarray(i * size, (i + 1) * size);
          if (a) img = padCrop(img, shape, pad, a.top, a.left);
          if (a?.flip) img = hflip(img, shape);
          writeImage(byteAugmenter!.applyWith(img, shape, extra[p]), 0, shape, null, 0, lut, x, j * size);
        } else {
          writeImage(ds.images, i * size, shape, a, pad, lut, x, j * size);
        }
        y[j] = ds.labels[i];
      }
      return { x, y, indices, shape: [b, ds.c, ds.h, ds.w] };
    };
    return {
      order,
      numBatches,
      batch,
      *[Symbol.iterator]() {
        for (let k = 0; k < numBatches; k++) yield batch(k);
      },
    };
  }

  getState(): BatchIteratorState {
    const state: BatchIteratorState = { rng: this.rng.getState(), epochs: this.epochs };
    if (this.byteAugmenter) state.byteRng = this.byteAugmenter.getState();
    return state;
  }

  setState(state: BatchIteratorState): void {
    if (this.byteAugmenter && !state.byteRng) {
      throw new TypeError('BatchIterator.setState: AutoAugment / Cutout are on but the saved state has no byteRng (saved without them?)');
    }
    this.rng.setState(state.rng);
    this.epochs = state.epochs;
    if (this.byteAugmenter) this.byteAugmenter.setState(state.byteRng!);
  }
}

/** Evaluation batches: data-set order, normalisation only, last partial batch kept. */
export function evalBatches(ds: Dataset, options: { batchSize: number; mean: readonly number[]; std: readonly number[] }): Iterable<Batch> {
  return new BatchIterator(ds, { ...options, shuffle: false, dropLast: false, augment: null }).epoch();
}
