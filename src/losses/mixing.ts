/**
 * MixUp (Zhang et al., ICLR 2018) and CutMix (Yun et al., ICCV 2019) of a
 * normalised batch [N, C, H, W], as their reference code mixes a batch: one
 * lambda ~ Beta(alpha, alpha) per batch, each image paired with the image at
 * a random permutation of the batch, and the loss the lambda-weighted sum of
 * the losses against both labels (mixedLoss). Seeded by an MT19937 whose
 * state the trainer checkpoints.
 */
import type { Tensor } from '../tensor.js';
import { add, scale } from '../ops/index.js';
import { sampleBeta } from '../data/distributions.js';
import { MT19937, type MT19937State } from '../data/mt19937.js';
import type { LossInput } from './factory.js';

/** A mixed batch: images, the two label sets and the weight of the first. */
export interface MixedBatch {
  x: Float32Array;
  /** The batch's own labels (weight lambda). */
  labelsA: Int32Array;
  /** The partners' labels, labels[perm] (weight 1 - lambda). */
  labelsB: Int32Array;
  lambda: number;
  /** CutMix: the pasted rows [y0, y1) and columns [x0, x1). */
  box?: { y0: number; y1: number; x0: number; x1: number };
}

type BatchShape = readonly [number, number, number, number];

function checkMixInput(x: Float32Array, shape: BatchShape, labels: ArrayLike<number>, alpha: number, op: string): void {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new RangeError(`${op}: alpha must be a positive number, got ${alpha}`);
  const [n, c, h, w] = shape;
  if (x.length !== n * c * h * w) throw new RangeError(`${op}: ${x.length} values for a batch of shape [${shape.join(', ')}]`);
  if (labels.length !== n) throw new RangeError(`${op}: ${labels.length} labels for a batch of ${n}`);
}

/**
 * MixUp: lambda ~ Beta(alpha, alpha), then perm = rng.permutation(N)
 * (torch.randperm in the reference), x' = lambda x + (1 - lambda) x[perm].
 */
export function mixup(x: Float32Array, shape: BatchShape, labels: ArrayLike<number>, alpha: number, rng: MT19937): MixedBatch {
  checkMixInput(x, shape, labels, alpha, 'mixup');
  const [n] = shape;
  const lambda = sampleBeta(rng, alpha, alpha);
  const perm = rng.permutation(n);
  const size = x.length / n;
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    const a = i * size;
    const b = perm[i] * size;
    for (let k = 0; k < size; k++) out[a + k] = lambda * x[a + k] + (1 - lambda) * x[b + k];
  }
  const labelsA = Int32Array.from(labels);
  return { x: out, labelsA, labelsB: Int32Array.from(perm, (j) => labelsA[j]), lambda };
}

/**
 * CutMix, as the reference's rand_bbox: lambda ~ Beta(alpha, alpha), then
 * perm, then the box centre row (randomInterval(H - 1)) and column; the box
 * is cut = floor(side * sqrt(1 - lambda)) on each side, spanning
 * [centre - cut // 2, centre + cut // 2) clipped to the image; its pixels come
 * from x[perm]. lambda is then set to the share of the image NOT pasted,
 * 1 - box area / (H W), so that the loss weights follow the true area.
 */
export function cutmix(x: Float32Array, shape: BatchShape, labels: ArrayLike<number>, alpha: number, rng: MT19937): MixedBatch {
  checkMixInput(x, shape, labels, alpha, 'cutmix');
  const [n, c, h, w] = shape;
  const drawn = sampleBeta(rng, alpha, alpha);
  const perm = rng.permutation(n);
  const ratio = Math.sqrt(1 - drawn);
  const cutH = Math.floor(h * ratio);
  const cutW = Math.floor(w * ratio);
  const cy = rng.randomInterval(h - 1);
  const cx = rng.randomInterval(w - 1);
  const clip = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const y0 = clip(cy - Math.floor(cutH / 2), h);
  const y1 = clip(cy + Math.floor(cutH / 2), h);
  const x0 = clip(cx - Math.floor(cutW / 2), w);
  const x1 = clip(cx + Math.floor(cutW / 2), w);
  const out = x.slice();
  const size = c * h * w;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = y0; y < y1; y++) {
        const to = i * size + (ch * h + y) * w;
        const from = perm[i] * size + (ch * h + y) * w;
        out.set(x.subarray(from + x0, from + x1), to + x0);
      }
    }
  }
  const lambda = 1 - ((y1 - y0) * (x1 - x0)) / (h * w);
  const labelsA = Int32Array.from(labels);
  return { x: out, labelsA, labelsB: Int32Array.from(perm, (j) => labelsA[j]), lambda, box: { y0, y1, x0, x1 } };
}

/** Whether mixing is on at `epoch` (0-based) of `epochs`: before the fraction `until` (1 = always) of the run. */
export function mixingActive(epoch: number, epochs: number, until = 1): boolean {
  return epoch < until * epochs;
}

export interface BatchMixerOptions {
  mode: 'mixup' | 'cutmix';
  /** Beta(alpha, alpha). */
  alpha: number;
  /** Fraction of the epochs after which mixing stops (default 1: never). */
  until?: number;
  /** Seed of the mixer's own MT19937 (give it one the data iterators do not use). */
  seed: number;
}

/**
 * What the trainer holds: one generator for every batch's lambda,
 * permutation and box, and the schedule. Its state is plain JSON for the
 * checkpoint; a batch past `until` draws nothing.
 */
export class BatchMixer {
  readonly rng: MT19937;
  constructor(readonly options: Readonly<BatchMixerOptions>) {
    if (options.mode !== 'mixup' && options.mode !== 'cutmix')
      throw new RangeError(`BatchMixer: mode must be 'mixup' or 'cutmix', got '${String(options.mode)}'`);
    if (!(options.alpha > 0) || !Number.isFinite(options.alpha))
      throw new RangeError(`BatchMixer: alpha must be a positive number, got ${options.alpha}`);
    this.rng = new MT19937(options.seed);
  }

  /** The mixed batch at `epoch` (0-based) of `epochs`, or null once mixing has stopped. */
  mix(x: Float32Array, shape: BatchShape, labels: ArrayLike<number>, epoch: number, epochs: number): MixedBatch | null {
    if (!mixingActive(epoch, epochs, this.options.until ?? 1)) return null;
    return (this.options.mode === 'mixup' ? mixup : cutmix)(x, shape, labels, this.options.alpha, this.rng);
  }

  getState(): MT19937State {
    return this.rng.getState();
  }

  setState(state: MT19937State): void {
    this.rng.setState(state);
  }
}

/** A loss of one batch against one label set (e.g. `(out, y) => loss.compute(out, y, epoch, epochs, weights)`). */
export type LabelLoss = (out: LossInput, labels: Int32Array) => Tensor;

/**
 * lambda L(yA) + (1 - lambda) L(yB): the reference code's
 * `lam * criterion(pred, y_a) + (1 - lam) * criterion(pred, y_b)`, the loss
 * evaluated twice on the same logits and features, once per label set.
 * Each evaluation is the whole loss for that label set, so its
 * class-dependent terms follow that label:
 * - LDAM: the margin m_{yA_i} is subtracted from logit yA_i in the first
 *   term and m_{yB_i} from logit yB_i in the second (as LDAM-DRW code with
 *   mixup, e.g. imbalanced-DL's LDAM-DRW mixup trainer, calls LDAMLoss twice);
 *   with DRW weights each term is torch's weighted mean over its own labels,
 *   sum_i w_{y_i} ce_i / sum_i w_{y_i}.
 * - FBL: its stimulus curr * lambda_FBL * lam_j / ||f_i|| is subtracted from
 *   every class j whatever the label, so both terms see the same adjusted
 *   logits and differ only in the label whose cross-entropy is taken.
 * - balanced softmax / logit adjustment: likewise label-independent offsets.
 * lambda = 1 evaluates L(yA) alone.
 */
export function mixedLoss(
  lossFn: LabelLoss,
  logits: Tensor,
  features: Tensor | undefined,
  labelsA: Int32Array,
  labelsB: Int32Array,
  lambda: number,
): Tensor {
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`mixedLoss: lambda must be in [0, 1], got ${lambda}`);
  const out: LossInput = { logits, features };
  if (lambda === 1) return lossFn(out, labelsA);
  return add(scale(lossFn(out, labelsA), lambda), scale(lossFn(out, labelsB), 1 - lambda));
}
