/**
 * The augmentations applied to a byte image after the crop and flip, before
 * normalisation: AutoAugment, then Cutout (the order of the CIFAR pipelines
 * that use both: RandomCrop, RandomHorizontalFlip, CIFAR10Policy, Cutout).
 * Its own seeded MT19937, so that turning them on leaves the batch order and
 * the crops unchanged; its state is plain JSON for a checkpoint.
 * Pure TypeScript, no Node imports.
 */
import type { ImageShape } from './augment.js';
import { autoAugment, sampleAutoAugment, type AutoAugmentParams, type AutoAugmentPolicyName } from './autoAugment.js';
import { cutout, sampleCutout, type CutoutParams } from './cutout.js';
import { MT19937, type MT19937State } from './mt19937.js';

export interface ByteAugmentOptions {
  /** AutoAugment policy, or null for none. */
  autoAugment: AutoAugmentPolicyName | null;
  /** Cutout square side in pixels; 0 for none. */
  cutout: number;
}

/** One image's random choices, null for an augmentation that is off. */
export interface ByteAugmentParams {
  autoAugment: AutoAugmentParams | null;
  cutout: CutoutParams | null;
}

export class ByteAugmenter {
  readonly rng: MT19937;
  readonly options: Readonly<ByteAugmentOptions>;

  /** `seed`: an integer in [0, 2^32), e.g. the run's model seed. */
  constructor(options: ByteAugmentOptions, seed: number) {
    if (options.autoAugment !== null && options.autoAugment !== 'cifar10') {
      throw new RangeError(`ByteAugmenter: unknown AutoAugment policy '${String(options.autoAugment)}' (built: cifar10)`);
    }
    if (!Number.isInteger(options.cutout) || options.cutout < 0) {
      throw new RangeError(`ByteAugmenter: cutout must be a non-negative integer, got ${options.cutout}`);
    }
    this.options = { ...options };
    this.rng = new MT19937(seed);
  }

  /** Whether any augmentation is on (when not, apply() is the identity and draws nothing). */
  get enabled(): boolean {
    return this.options.autoAugment !== null || this.options.cutout > 0;
  }

  /**
   * Draws one image's choices, a fixed number of values per image: five for
   * AutoAugment (sampleAutoAugment), then two for Cutout (sampleCutout),
   * each only when that augmentation is on.
   */
  sample(shape: ImageShape): ByteAugmentParams {
    return {
      autoAugment: this.options.autoAugment ? sampleAutoAugment(this.rng) : null,
      cutout: this.options.cutout > 0 ? sampleCutout(this.rng, shape) : null,
    };
  }

  /** Applies drawn choices (a new array; deterministic, draws nothing). */
  applyWith(img: Uint8Array, shape: ImageShape, params: ByteAugmentParams): Uint8Array {
    let out = img;
    if (params.autoAugment) out = autoAugment(out, shape, params.autoAugment);
    if (params.cutout) out = cutout(out, shape, this.options.cutout, params.cutout);
    return out === img ? img.slice() : out;
  }

  /** sample() then applyWith(). */
  apply(img: Uint8Array, shape: ImageShape): Uint8Array {
    return this.applyWith(img, shape, this.sample(shape));
  }

  getState(): MT19937State {
    return this.rng.getState();
  }

  setState(state: MT19937State): void {
    this.rng.setState(state);
  }
}
