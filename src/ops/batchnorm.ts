// Batch normalisation over NCHW (or [N, C]) with PyTorch's semantics:
// training normalises with the batch statistics and updates the running ones
// (unbiased variance); eval normalises with the running statistics.
import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { type Tensor, empty } from '../tensor.js';
import { assertShape, assertTensor, shapeStr } from './util.js';
import { add, relu as reluOp } from './elementwise.js';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
}

export function batchNorm2d(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNormOptions,
): Tensor {
  assertTensor(x, 'batchNorm2d', 'x');
  if (x.ndim !== 4 && x.ndim !== 2) throw new Error(`wasmtail: batchNorm2d(): x must be NCHW or [N, C], got shape ${shapeStr(x.shape)}`);
  const [n, c] = x.shape;
  const hw = x.ndim === 4 ? x.shape[2] * x.shape[3] : 1;
  for (const [t, name] of [
    [gamma, 'weight'],
    [beta, 'bias'],
    [runningMean, 'running_mean'],
    [runningVar, 'running_var'],
  ] as const) {
    assertTensor(t, 'batchNorm2d', name);
    assertShape(t, [c], 'batchNorm2d', name);
  }
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  const training = opts.training;
  if (training && n * hw < 2) {
    throw new Error(`wasmtail: batchNorm2d(): training needs more than one value per channel, got input ${shapeStr(x.shape)}`);
  }
  const be = backend();
  const y = empty(x.shape);
  let mean: Tensor;
  let invStd: Tensor;
  if (training) {
    mean = empty([c]);
    invStd = empty([c]);
    be.batchNormForwardTrain(
      x.storage,
      gamma.storage,
      beta.storage,
      y.storage,
      runningMean.storage,
      runningVar.storage,
      mean.storage,
      invStd.storage,
      n,
      c,
      hw,
      momentum,
      eps,
    );
  } else {
    be.batchNormForwardEval(x.storage, gamma.storage, beta.storage, y.storage, runningMean.storage, runningVar.storage, n, c, hw, eps);
    mean = runningMean;
    invStd = empty([c]);
    // 1 / sqrt(var + eps) from the running variance, kept for the backward.
    const epsT = empty([c]);
    be.fill(epsT.storage, eps, c);
    be.binary('add', runningVar.storage, epsT.storage, invStd.storage, c);
    be.unary('sqrt', invStd.storage, invStd.storage, c);
    be.fill(epsT.storage, 1, c);
    be.binary('div', epsT.storage, invStd.storage, invStd.storage, c);
    epsT.dispose();
  }
  return record(y, 'batchNorm2d', [x, gamma, beta], (g) => {
    const dx = empty(x.shape);
    const dgamma = empty([c]);
    const dbeta = empty([c]);
    be.batchNormBackward(
      x.storage,
      g.storage,
      gamma.storage,
      mean.storage,
      invStd.storage,
      dx.storage,
      dgamma.storage,
      dbeta.storage,
      n,
      c,
      hw,
      training,
    );
    return [keepIfWanted(dx, x.requiresGrad), keepIfWanted(dgamma, gamma.requiresGrad), keepIfWanted(dbeta, beta.requiresGrad)];
  });
}

export interface BatchNormActOptions extends BatchNormOptions {
  /** Added after the normalisation, before the ReLU: x's shape. */
  residual?: Tensor | null;
  relu?: boolean;
}

/** A gradient the input asked for, or null after freeing it when the input does not require one. */
function keepIfWanted(t: Tensor, wanted: boolean): Tensor | null {
  if (wanted) return t;
  t.dispose();
  return null;
}

/**
 * act(batchNorm2d(x) + residual), act = ReLU where relu: what a ResNet block
 * does after each convolution. In training mode on a backend with the fused
 * kernels it is one forward pass over the output and, backward, the ReLU's
 * mask is applied inside batch norm's own passes (one node on the tape, no
 * intermediate tensors); the result is bit-identical to the separate ops,
 * which run everywhere else (eval mode: src/ops/fused.ts fuses into the conv).
 */
export function batchNormAct(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNormActOptions,
): Tensor {
  const residual = opts.residual ?? null;
  const relu = opts.relu ?? false;
  const be = backend();
  if (!opts.training || !be.capabilities.has('batchNormAct') || x.ndim !== 4) {
    let y = batchNorm2d(x, gamma, beta, runningMean, runningVar, opts);
    if (residual) y = add(y, residual);
    return relu ? reluOp(y) : y;
  }
  assertTensor(x, 'batchNormAct', 'x');
  const [n, c, h, w] = x.shape;
  const hw = h * w;
  for (const [t, name] of [
    [gamma, 'weight'],
    [beta, 'bias'],
    [runningMean, 'running_mean'],
    [runningVar, 'running_var'],
  ] as const) {
    assertTensor(t, 'batchNormAct', name);
    assertShape(t, [c], 'batchNormAct', name);
  }
  if (residual) {
    assertTensor(residual, 'batchNormAct', 'residual');
    assertShape(residual, x.shape, 'batchNormAct', 'residual');
  }
  if (n * hw < 2)
    throw new Error(`wasmtail: batchNormAct(): training needs more than one value per channel, got input ${shapeStr(x.shape)}`);
  const y = empty(x.shape);
  const mean = empty([c]);
  const invStd = empty([c]);
  be.batchNormActForwardTrain(
    x.storage,
    gamma.storage,
    beta.storage,
    y.storage,
    runningMean.storage,
    runningVar.storage,
    mean.storage,
    invStd.storage,
    n,
    c,
    hw,
    opts.momentum ?? 0.1,
    opts.eps ?? 1e-5,
    residual?.storage ?? null,
    relu,
  );
  const inputs = residual ? [x, gamma, beta, residual] : [x, gamma, beta];
  return record(y, 'batchNormAct', inputs, (g) => {
    const dx = empty(x.shape);
    const dgamma = empty([c]);
    const dbeta = empty([c]);
    const dres = residual ? empty(x.shape) : null;
    be.batchNormActBackward(
      x.storage,
      y.storage,
      g.storage,
      gamma.storage,
      mean.storage,
      invStd.storage,
      dx.storage,
      dgamma.storage,
      dbeta.storage,
      dres?.storage ?? null,
      n,
      c,
      hw,
      relu,
    );
    const grads = [keepIfWanted(dx, x.requiresGrad), keepIfWanted(dgamma, gamma.requiresGrad), keepIfWanted(dbeta, beta.requiresGrad)];
    return dres ? [...grads, keepIfWanted(dres, residual!.requiresGrad)] : grads;
  });
}
