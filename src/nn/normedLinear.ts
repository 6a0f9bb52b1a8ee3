// The cosine classifier that the LDAM-DRW reference code uses with LDAM.
import { type Tensor, full } from '../tensor.js';
import { add, div, matmul, mul, sqrt, sumTo } from '../ops/index.js';
import { assertRank, assertTensor, shapeStr } from '../ops/util.js';
import { Module } from './module.js';
import type { InitRng } from './random.js';

/** v / sqrt(sum of squares over `axis` + 1e-24): torch's F.normalize (eps 1e-12) away from 0. */
function normalize(v: Tensor, axis: 0 | 1): Tensor {
  const [rows, cols] = v.shape;
  const sq = sumTo(mul(v, v), axis === 1 ? [rows, 1] : [1, cols]);
  return div(v, sqrt(add(sq, full([1, 1], 1e-24))));
}

/**
 * Cosine logits: normalize(x, dim=1) @ normalize(weight, dim=0), x [N, in],
 * weight [in, out] (the reference's layout, the transpose of Linear's), so
 * every logit is the cosine between a feature and a class's weight column.
 */
export function normedLinear(x: Tensor, weight: Tensor): Tensor {
  assertTensor(x, 'normedLinear', 'x');
  assertTensor(weight, 'normedLinear', 'weight');
  assertRank(x, 2, 'normedLinear', 'x', '[batch, in]');
  assertRank(weight, 2, 'normedLinear', 'weight', '[in, out]');
  if (x.shape[1] !== weight.shape[0]) {
    throw new Error(
      `wasmtail: normedLinear(): x ${shapeStr(x.shape)} has ${x.shape[1]} features but weight ${shapeStr(weight.shape)} expects ${weight.shape[0]}`,
    );
  }
  return matmul(normalize(x, 1), normalize(weight, 0));
}

/**
 * The reference init: uniform(-1, 1), then `renorm_(2, 1, 1e-5).mul_(1e5)`,
 * which scales each column (one class) by 1e-5 / (norm + 1e-7) and then by
 * 1e5: columns of (almost exactly) unit norm.
 */
function normedLinearInit(inFeatures: number, outFeatures: number, rng: InitRng): Float32Array {
  const w = Float64Array.from({ length: inFeatures * outFeatures }, () => rng.uniform() * 2 - 1);
  for (let j = 0; j < outFeatures; j++) {
    let sq = 0;
    for (let i = 0; i < inFeatures; i++) sq += w[i * outFeatures + j] ** 2;
    const norm = Math.sqrt(sq);
    const factor = norm > 1e-5 ? (1e-5 / (norm + 1e-7)) * 1e5 : 1e5;
    for (let i = 0; i < inFeatures; i++) w[i * outFeatures + j] *= factor;
  }
  return Float32Array.from(w);
}

/**
 * NormedLinear(in, out): LDAM-DRW's cosine classifier (`use_norm=True` in
 * their ResNet-32), no bias. Its parameter is `weight` of shape [in, out], as
 * in the reference, so checkpoints move between the two unchanged.
 */
export class NormedLinear extends Module {
  readonly weight: Tensor;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: InitRng,
  ) {
    super();
    const shape = [inFeatures, outFeatures];
    this.weight = this.parameter('weight', normedLinearInit(inFeatures, outFeatures, rng), shape);
  }
  protected compute(x: Tensor): Tensor {
    return normedLinear(x, this.weight);
  }
}
