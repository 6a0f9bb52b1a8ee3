/**
 * Long-tailed subsets, constructed exactly as the reference code does
 * (LDAM-DRW's `IMBALANCECIFAR10`, reused by the Feature-Balanced Loss code).
 * Pure TypeScript, no Node imports.
 */
import { type Dataset, takeSubset } from './dataset.js';
import { MT19937 } from './mt19937.js';

export type ImbalanceType = 'exp' | 'step';

/**
 * Images kept per class (`get_img_num_per_cls` of LDAM-DRW), with f = 1 / imbalanceRatio:
 *
 * - `exp`: class i keeps `floor(imgMax * f ** (i / (C - 1)))`;
 * - `step`: the first C/2 classes keep `floor(imgMax)`, the other C/2 `floor(imgMax * f)`.
 *
 * `imgMax` may be fractional: the reference passes `len(train) / C`. `step`
 * needs an even number of classes (the reference silently drops the last class
 * of an odd C, which we refuse rather than copy). Checked against Python for
 * C = 10, 100, 1000 and rho = 1 .. 256 (test/data/fixtures/numpy.json).
 */
export function imbalanceCounts(imgMax: number, numClasses: number, imbalanceRatio: number, type: ImbalanceType): number[] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`imbalanceCounts: numClasses must be a positive integer, got ${numClasses}`);
  }
  if (!(imgMax >= 0) || !Number.isFinite(imgMax)) {
    throw new RangeError(`imbalanceCounts: imgMax must be a finite number >= 0, got ${imgMax}`);
  }
  if (!(imbalanceRatio >= 1) || !Number.isFinite(imbalanceRatio)) {
    throw new RangeError(`imbalanceCounts: imbalanceRatio must be >= 1, got ${imbalanceRatio}`);
  }
  const f = 1 / imbalanceRatio;
  if (type === 'exp') {
    if (numClasses === 1) return [Math.floor(imgMax)];
    const counts: number[] = [];
    for (let i = 0; i < numClasses; i++) {
      counts.push(Math.floor(imgMax * f ** (i / (numClasses - 1))));
    }
    return counts;
  }
  if (type === 'step') {
    if (numClasses % 2 !== 0) {
      throw new RangeError(`imbalanceCounts: the 'step' profile needs an even number of classes, got ${numClasses}`);
    }
    const half = numClasses / 2;
    return [...new Array<number>(half).fill(Math.floor(imgMax)), ...new Array<number>(half).fill(Math.floor(imgMax * f))];
  }
  throw new RangeError(`imbalanceCounts: unknown type '${String(type)}' (expected 'exp' or 'step')`);
}

export interface LongTailOptions {
  numClasses: number;
  /** rho = n_max / n_min, e.g. 100. */
  imbalanceRatio: number;
  type: ImbalanceType;
  /** The `np.random.seed` of the reference (0 in LDAM-DRW and FBL). Integer in [0, 2^32). */
  seed: number;
}

/**
 * Indices of the kept training images, class by class, in the reference's order:
 *
 *     np.random.seed(seed)
 *     for c in classes:                       # label order
 *         idx = np.where(targets == c)[0]
 *         np.random.shuffle(idx)
 *         kept += idx[:img_num_per_cls[c]]
 *
 * with `img_num_per_cls = imbalanceCounts(len(labels) / C, C, rho, type)`.
 * One generator, seeded once, one shuffle per class. On the CIFAR-10 training
 * labels with rho = 100, exp, seed 0 this is the same 12,406 images as the
 * reference. A class with fewer images than its quota keeps all it has.
 */
export function longTailIndices(labels: Int32Array, options: LongTailOptions): Int32Array {
  const { numClasses, imbalanceRatio, type, seed } = options;
  const counts = imbalanceCounts(labels.length / numClasses, numClasses, imbalanceRatio, type);
  const byClass = indicesByClass(labels, numClasses);
  const rng = new MT19937(seed);
  const kept: Int32Array[] = [];
  let total = 0;
  for (let c = 0; c < numClasses; c++) {
    const idx = rng.shuffle(byClass[c]);
    const part = idx.subarray(0, Math.min(counts[c], idx.length));
    kept.push(part);
    total += part.length;
  }
  const out = new Int32Array(total);
  let o = 0;
  for (const part of kept) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

/**
 * The long-tailed version of a balanced training set: `longTailIndices` on its
 * labels (numClasses from the data set), the images gathered in that order,
 * and the fingerprint a run should log.
 */
export function longTailDataset(
  ds: Dataset,
  options: Omit<LongTailOptions, 'numClasses'>,
): { dataset: Dataset; indices: Int32Array; fingerprint: SubsetFingerprint } {
  const indices = longTailIndices(ds.labels, { ...options, numClasses: ds.numClasses });
  return { dataset: takeSubset(ds, indices), indices, fingerprint: subsetFingerprint(indices, ds.labels, ds.numClasses) };
}

/** For each class, the ascending indices of its images (`np.where(labels == c)[0]`). */
export function indicesByClass(labels: Int32Array, numClasses: number): Int32Array[] {
  const counts = classCounts(labels, numClasses);
  const out = counts.map((n) => new Int32Array(n));
  const fill = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    out[c][fill[c]++] = i;
  }
  return out;
}

/** Number of images of each class; throws on a label outside [0, numClasses). */
export function classCounts(labels: Int32Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!(c >= 0 && c < numClasses)) {
      throw new RangeError(`label ${c} at index ${i} is outside [0, ${numClasses})`);
    }
    counts[c]++;
  }
  return counts;
}

/** What a run logs to pin its training subset. */
export interface SubsetFingerprint {
  /** Images of each class among the kept indices. */
  perClassCounts: number[];
  total: number;
  /** FNV-1a 64 of the kept indices as int32 little-endian bytes, 16 hex digits. */
  hash: string;
}

/** Per-class counts and a hash of the kept indices (order matters). */
export function subsetFingerprint(indices: Int32Array, labels: Int32Array, numClasses: number): SubsetFingerprint {
  const perClassCounts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!(k >= 0 && k < labels.length)) throw new RangeError(`subsetFingerprint: index ${k} outside [0, ${labels.length})`);
    const c = labels[k];
    if (!(c >= 0 && c < numClasses)) throw new RangeError(`subsetFingerprint: label ${c} outside [0, ${numClasses})`);
    perClassCounts[c]++;
  }
  return { perClassCounts, total: indices.length, hash: fnv1a64Int32(indices) };
}

/**
 * FNV-1a 64 over the little-endian bytes of int32 values, as 16 hex digits.
 * Carried in four 16-bit limbs, so no BigInt and no node:crypto is needed.
 */
export function fnv1a64Int32(values: Int32Array): string {
  // offset basis 0xcbf29ce484222325, prime 0x100000001b3 = 2^40 + 0x1b3
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    for (let s = 0; s < 32; s += 8) {
      h0 ^= (v >>> s) & 0xff;
      // h * 0x1b3 + (h << 40) mod 2^64, limb by limb: h << 40 moves limb k to limb k + 2, 8 bits up.
      const t0 = h0 * 0x1b3;
      const t1 = h1 * 0x1b3 + (t0 >>> 16);
      const t2 = h2 * 0x1b3 + (t1 >>> 16) + ((h0 << 8) & 0xffff);
      const t3 = h3 * 0x1b3 + (t2 >>> 16) + (h0 >>> 8) + ((h1 << 8) & 0xffff);
      h0 = t0 & 0xffff;
      h1 = t1 & 0xffff;
      h2 = t2 & 0xffff;
      h3 = t3 & 0xffff;
    }
  }
  const hex = (x: number) => x.toString(16).padStart(4, '0');
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}
