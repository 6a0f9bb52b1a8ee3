/**
 * The long-tail toolbox's run options (--drw, --mixup, --cutmix, --mix-until,
 * --cutout, --autoaugment, --posthoc-tau), their defaults and their checks,
 * which raise ConfigError naming the flag (the CLI's exit 2).
 */
import { AUTOAUGMENT_POLICIES, type AutoAugmentPolicyName } from '../data/autoAugment.js';
import type { LossName } from '../losses/factory.js';
import { ConfigError } from './configError.js';

export interface ToolboxOptions {
  /** Deferred re-weighting (class-balanced weights, beta 0.9999) from drwEpoch on. */
  drw: boolean;
  /** First re-weighted epoch, 0-based; null: round(0.8 * epochs). */
  drwEpoch: number | null;
  /** MixUp's Beta(A, A) parameter, or null for none. */
  mixup: number | null;
  /** CutMix's Beta(A, A) parameter, or null for none. */
  cutmix: number | null;
  /** Fraction of the epochs after which mixing stops (1: never). */
  mixUntil: number;
  /** Cutout square side in pixels; 0 for none. */
  cutout: number;
  /** AutoAugment policy, or null for none. */
  autoAugment: AutoAugmentPolicyName | null;
  /** tau of the post-hoc logit adjustment and of the tau-normalised classifier. */
  posthocTau: number;
}

export const TOOLBOX_DEFAULTS: Readonly<ToolboxOptions> = {
  drw: false,
  drwEpoch: null,
  mixup: null,
  cutmix: null,
  mixUntil: 1,
  cutout: 0,
  autoAugment: null,
  posthocTau: 1,
};

/** What the CLI parsed (any flag may be missing; autoAugment as typed). */
export type ToolboxInput = Partial<Omit<ToolboxOptions, 'autoAugment'>> & { autoAugment?: string | null };

/** Fills the defaults and checks every option against the others and the run's loss and length. */
export function resolveToolboxOptions(input: ToolboxInput, run: { loss: LossName; epochs: number }): ToolboxOptions {
  const o = { ...TOOLBOX_DEFAULTS, ...input } as ToolboxOptions & { autoAugment: string | null };
  for (const [flag, alpha] of [
    ['mixup', o.mixup],
    ['cutmix', o.cutmix],
  ] as const) {
    if (alpha !== null && !(Number.isFinite(alpha) && alpha > 0)) {
      throw new ConfigError(`--${flag} must be a positive number (lambda ~ Beta(A, A)), got ${alpha}; leave --${flag} out for no mixing`);
    }
  }
  if (o.mixup !== null && o.cutmix !== null) throw new ConfigError('--mixup and --cutmix cannot both be set: choose one');
  if (!(Number.isFinite(o.mixUntil) && o.mixUntil > 0 && o.mixUntil <= 1)) {
    throw new ConfigError(`--mix-until must be a fraction of the epochs in (0, 1], got ${o.mixUntil}`);
  }
  if (input.mixUntil !== undefined && o.mixup === null && o.cutmix === null) throw new ConfigError('--mix-until needs --mixup or --cutmix');
  if (!(Number.isInteger(o.cutout) && o.cutout >= 0)) {
    throw new ConfigError(`--cutout must be a non-negative integer (the square's side in pixels), got ${o.cutout}`);
  }
  if (o.autoAugment !== null && !(AUTOAUGMENT_POLICIES as readonly string[]).includes(o.autoAugment)) {
    throw new ConfigError(`--autoaugment ${o.autoAugment} is not built (built: ${AUTOAUGMENT_POLICIES.join(', ')})`);
  }
  if (!(Number.isFinite(o.posthocTau) && o.posthocTau >= 0))
    throw new ConfigError(`--posthoc-tau must be a number >= 0, got ${o.posthocTau}`);
  if (o.drw && (run.loss === 'ldam-drw' || run.loss === 'cb')) {
    throw new ConfigError(`--drw: the '${run.loss}' loss re-weights classes by itself; leave out --drw`);
  }
  if (o.drwEpoch !== null) {
    if (!o.drw) throw new ConfigError('--drw-epoch needs --drw');
    if (!(Number.isInteger(o.drwEpoch) && o.drwEpoch >= 0 && o.drwEpoch < run.epochs)) {
      throw new ConfigError(`--drw-epoch must be an integer epoch in [0, ${run.epochs}), got ${o.drwEpoch}`);
    }
  }
  return o as ToolboxOptions;
}
