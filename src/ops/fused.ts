// Inference fusion of the CIFAR ResNet's conv -> batch norm (eval) -> (+ residual) -> ReLU.
//
// In eval mode batch norm is an affine map per channel, so the whole chain is
// conv(x, w) * scale + shift (+ residual), clamped, with
//   scale = gamma / sqrt(running_var + eps),  shift = beta - running_mean * scale.
// A backend with conv2dForwardAffine applies that to each image's output
// while it is in cache (one pass instead of four, no intermediate tensors).
// Nothing here records a backward: where a gradient is wanted, or on a backend
// without the fusion, the same chain runs as the separate differentiable ops.
import type { Storage } from '../backend/backend.js';
import { backend } from '../backend/current.js';
import { isGradEnabled } from '../autograd/node.js';
import { type Tensor, empty } from '../tensor.js';
import { conv2d, checkedConvGeometry, type Conv2dOptions } from './conv.js';
import { batchNorm2d } from './batchnorm.js';
import { add, relu as reluOp } from './elementwise.js';
import { assertShape, assertTensor } from './util.js';

export interface BatchNormParams {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  eps: number;
}

export interface ConvBatchNormEvalOptions extends Conv2dOptions {
  /** Added after the batch norm, before the ReLU: shape [n, oc, oh, ow]. */
  residual?: Tensor | null;
  relu?: boolean;
}

/**
 * Writes the eval-mode batch norm's affine map into scale and shift (one
 * value per channel): scale = gamma / sqrt(running_var + eps), shift = beta -
 * running_mean * scale, in float32 on the backend, so that every caller (this
 * op, src/nn/resnetPlan.ts's planned inference) folds to the same bits.
 */
export function foldBatchNormEval(bn: BatchNormParams, scale: Storage, shift: Storage): void {
  const be = backend();
  const c = bn.weight.size;
  be.fill(scale, bn.eps, c);
  be.binary('add', bn.runningVar.storage, scale, scale, c);
  be.unary('sqrt', scale, scale, c);
  be.binary('div', bn.weight.storage, scale, scale, c);
  be.binary('mul', bn.runningMean.storage, scale, shift, c);
  be.binary('sub', bn.bias.storage, shift, shift, c);
}

/** act(batchNorm_eval(conv2d(x, w)) + residual), fused where the backend can and no gradient is wanted. */
export function conv2dBatchNormEval(x: Tensor, w: Tensor, bn: BatchNormParams, opts: ConvBatchNormEvalOptions = {}): Tensor {
  const g = checkedConvGeometry(x, w, opts);
  const residual = opts.residual ?? null;
  const be = backend();
  const wantsGrad = isGradEnabled() && [x, w, bn.weight, bn.bias, residual].some((t) => t?.requiresGrad);
  if (wantsGrad || !be.capabilities.has('conv2dForwardAffine')) {
    let y = batchNorm2d(conv2d(x, w, opts), bn.weight, bn.bias, bn.runningMean, bn.runningVar, { training: false, eps: bn.eps });
    if (residual) y = add(y, residual);
    return opts.relu ? reluOp(y) : y;
  }
  const c = g.oc;
  for (const [t, name] of [
    [bn.weight, 'weight'],
    [bn.bias, 'bias'],
    [bn.runningMean, 'running_mean'],
    [bn.runningVar, 'running_var'],
  ] as const) {
    assertTensor(t, 'conv2dBatchNormEval', name);
    assertShape(t, [c], 'conv2dBatchNormEval', name);
  }
  if (residual) {
    assertTensor(residual, 'conv2dBatchNormEval', 'residual');
    assertShape(residual, [g.n, g.oc, g.oh, g.ow], 'conv2dBatchNormEval', 'residual');
  }
  const scale = empty([c]);
  const shift = empty([c]);
  foldBatchNormEval(bn, scale.storage, shift.storage);
  const y = empty([g.n, g.oc, g.oh, g.ow]);
  be.conv2dForwardAffine(x.storage, w.storage, y.storage, g, scale.storage, shift.storage, residual?.storage ?? null, opts.relu ?? false);
  scale.dispose();
  shift.dispose();
  return y;
}
