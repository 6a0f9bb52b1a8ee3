/**
 * AutoAugment's CIFAR-10 policy (Cubuk et al., CVPR 2019) on CHW byte images:
 * 25 sub-policies of two operations each, one sub-policy drawn per image.
 * The table, the magnitude ranges (10 levels each) and the order of the
 * random choices follow the PyTorch port the long-tail code bases copy
 * (DeepVoltaire/AutoAugment's CIFAR10Policy, used by PaCo, NCL, GLMC): the
 * sub-policy, then for each operation "apply with probability p", then a
 * random sign for the signed magnitudes. Like that port (and unlike the
 * TensorFlow original and torchvision) rotations are always counter-clockwise.
 * Fill colour of geometric operations: grey 128, as the port.
 * Pure TypeScript, no Node imports.
 */
import type { ImageShape } from './augment.js';
import type { MT19937 } from './mt19937.js';
import {
  autocontrast,
  brightness,
  color,
  contrast,
  equalize,
  invert,
  posterize,
  rotate,
  sharpness,
  shearX,
  shearY,
  solarize,
  translateX,
  translateY,
} from './imageOps.js';

export type AutoAugmentOpName =
  | 'shearX'
  | 'shearY'
  | 'translateX'
  | 'translateY'
  | 'rotate'
  | 'color'
  | 'posterize'
  | 'solarize'
  | 'contrast'
  | 'sharpness'
  | 'brightness'
  | 'autocontrast'
  | 'equalize'
  | 'invert';

/** The policies built; 'imagenet' and 'svhn' are not. */
export const AUTOAUGMENT_POLICIES = ['cifar10'] as const;
export type AutoAugmentPolicyName = (typeof AUTOAUGMENT_POLICIES)[number];

type SubPolicy = readonly [number, AutoAugmentOpName, number, number, AutoAugmentOpName, number];

/** CIFAR10Policy: (p1, op1, level1, p2, op2, level2) for each of the 25 sub-policies. */
export const CIFAR10_POLICY: readonly SubPolicy[] = [
  [0.1, 'invert', 7, 0.2, 'contrast', 6],
  [0.7, 'rotate', 2, 0.3, 'translateX', 9],
  [0.8, 'sharpness', 1, 0.9, 'sharpness', 3],
  [0.5, 'shearY', 8, 0.7, 'translateY', 9],
  [0.5, 'autocontrast', 8, 0.9, 'equalize', 2],
  [0.2, 'shearY', 7, 0.3, 'posterize', 7],
  [0.4, 'color', 3, 0.6, 'brightness', 7],
  [0.3, 'sharpness', 9, 0.7, 'brightness', 9],
  [0.6, 'equalize', 5, 0.5, 'equalize', 1],
  [0.6, 'contrast', 7, 0.6, 'sharpness', 5],
  [0.7, 'color', 7, 0.5, 'translateX', 8],
  [0.3, 'equalize', 7, 0.4, 'autocontrast', 8],
  [0.4, 'translateY', 3, 0.2, 'sharpness', 6],
  [0.9, 'brightness', 6, 0.2, 'color', 8],
  [0.5, 'solarize', 2, 0.0, 'invert', 3],
  [0.2, 'equalize', 0, 0.6, 'autocontrast', 0],
  [0.2, 'equalize', 8, 0.6, 'equalize', 4],
  [0.9, 'color', 9, 0.6, 'equalize', 6],
  [0.8, 'autocontrast', 4, 0.2, 'solarize', 8],
  [0.1, 'brightness', 3, 0.7, 'color', 0],
  [0.4, 'solarize', 5, 0.9, 'autocontrast', 3],
  [0.9, 'translateY', 9, 0.7, 'translateY', 9],
  [0.9, 'autocontrast', 2, 0.8, 'solarize', 3],
  [0.8, 'equalize', 8, 0.1, 'invert', 3],
  [0.7, 'translateY', 9, 0.9, 'autocontrast', 1],
];

/** np.linspace(lo, hi, 10)[level]. */
function linspace10(lo: number, hi: number, level: number): number {
  return level === 9 ? hi : lo + (level * (hi - lo)) / 9;
}

/**
 * The magnitude of an operation at level 0..9, as the port's `ranges`:
 * shear 0..0.3, translate 0..150/331 of the side, rotate 0..30 degrees,
 * color / contrast / sharpness / brightness 0..0.9 (factor 1 +- m),
 * posterize round(8..4) bits, solarize threshold 256..0.
 */
export function autoAugmentMagnitude(op: AutoAugmentOpName, level: number): number {
  switch (op) {
    case 'shearX':
    case 'shearY':
      return linspace10(0, 0.3, level);
    case 'translateX':
    case 'translateY':
      return linspace10(0, 150 / 331, level);
    case 'rotate':
      return linspace10(0, 30, level);
    case 'color':
    case 'contrast':
    case 'sharpness':
    case 'brightness':
      return linspace10(0, 0.9, level);
    case 'posterize':
      return Math.round(linspace10(8, 4, level));
    case 'solarize':
      return linspace10(256, 0, level);
    default:
      return 0;
  }
}

const FILL = 128;

/** One operation at a magnitude, `sign` +-1 for the signed ones (shear, translate, the enhancers). */
export function applyAutoAugmentOp(img: Uint8Array, shape: ImageShape, op: AutoAugmentOpName, magnitude: number, sign: 1 | -1): Uint8Array {
  switch (op) {
    case 'shearX':
      return shearX(img, shape, magnitude * sign, FILL);
    case 'shearY':
      return shearY(img, shape, magnitude * sign, FILL);
    case 'translateX':
      return translateX(img, shape, magnitude * shape.w * sign, FILL);
    case 'translateY':
      return translateY(img, shape, magnitude * shape.h * sign, FILL);
    case 'rotate':
      return rotate(img, shape, magnitude, FILL);
    case 'color':
      return color(img, shape, 1 + magnitude * sign);
    case 'posterize':
      return posterize(img, magnitude);
    case 'solarize':
      return solarize(img, magnitude);
    case 'contrast':
      return contrast(img, shape, 1 + magnitude * sign);
    case 'sharpness':
      return sharpness(img, shape, 1 + magnitude * sign);
    case 'brightness':
      return brightness(img, 1 + magnitude * sign);
    case 'autocontrast':
      return autocontrast(img, shape);
    case 'equalize':
      return equalize(img, shape);
    case 'invert':
      return invert(img);
  }
}

/** One image's random choices: the sub-policy, and for each of its two operations whether it applies and its sign. */
export interface AutoAugmentParams {
  subPolicy: number;
  apply: [boolean, boolean];
  sign: [1 | -1, 1 | -1];
}

/**
 * Draws one image's choices, always five draws in this order whatever is
 * drawn (so the stream position depends only on the number of images): the
 * sub-policy (randomInterval(24)), u1 (randomSample), sign 1
 * (randomInterval(1)), u2, sign 2. Operation k applies when u_k < p_k.
 */
export function sampleAutoAugment(rng: MT19937): AutoAugmentParams {
  const subPolicy = rng.randomInterval(CIFAR10_POLICY.length - 1);
  const [p1, , , p2] = CIFAR10_POLICY[subPolicy];
  const u1 = rng.randomSample();
  const s1 = rng.randomInterval(1) === 1 ? -1 : 1;
  const u2 = rng.randomSample();
  const s2 = rng.randomInterval(1) === 1 ? -1 : 1;
  return { subPolicy, apply: [u1 < p1, u2 < p2], sign: [s1, s2] };
}

/** Applies the drawn sub-policy of CIFAR10_POLICY (a new array). */
export function autoAugment(img: Uint8Array, shape: ImageShape, params: AutoAugmentParams): Uint8Array {
  const [, op1, level1, , op2, level2] = CIFAR10_POLICY[params.subPolicy];
  let out = img;
  if (params.apply[0]) out = applyAutoAugmentOp(out, shape, op1, autoAugmentMagnitude(op1, level1), params.sign[0]);
  if (params.apply[1]) out = applyAutoAugmentOp(out, shape, op2, autoAugmentMagnitude(op2, level2), params.sign[1]);
  return out === img ? img.slice() : out;
}
