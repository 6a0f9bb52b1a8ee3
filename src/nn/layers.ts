// The layers of the CIFAR ResNets, each a thin Module over one op.
import type { Tensor } from '../tensor.js';
import { conv2d, batchNorm2d, linear, relu } from '../ops/index.js';
import { Module } from './module.js';
import { type InitRng, kaimingNormal, uniformFanIn } from './random.js';

export class Conv2d extends Module {
  readonly weight: Tensor;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly opts: { stride?: number; padding?: number; rng: InitRng },
  ) {
    super();
    const shape = [outChannels, inChannels, kernelSize, kernelSize];
    this.weight = this.parameter('weight', kaimingNormal(shape, opts.rng), shape);
  }
  protected compute(x: Tensor): Tensor {
    return conv2d(x, this.weight, { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0 });
  }
}

export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  constructor(
    readonly numFeatures: number,
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.parameter('weight', new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.bias = this.parameter('bias', new Float32Array(numFeatures), [numFeatures]);
    this.runningMean = this.buffer('running_mean', new Float32Array(numFeatures), [numFeatures]);
    this.runningVar = this.buffer('running_var', new Float32Array(numFeatures).fill(1), [numFeatures]);
  }
  protected compute(x: Tensor): Tensor {
    return batchNorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: InitRng,
  ) {
    super();
    const shape = [outFeatures, inFeatures];
    this.weight = this.parameter('weight', kaimingNormal(shape, rng), shape);
    this.bias = this.parameter('bias', uniformFanIn(outFeatures, inFeatures, rng), [outFeatures]);
  }
  protected compute(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export class ReLU extends Module {
  protected compute(x: Tensor): Tensor {
    return relu(x);
  }
}
