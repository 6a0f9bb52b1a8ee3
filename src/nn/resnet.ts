/**
 * The CIFAR ResNets of He et al. 2016 (section 4.2): conv3x3(16) - BN - ReLU,
 * three stages of n BasicBlocks with 16, 32, 64 channels (stride 2 entering
 * stages 2 and 3), global average pooling, Linear. Depth 6n + 2. Names follow
 * the widely used PyTorch implementation (conv1, bn1, layer1.0.conv1, ...,
 * linear) that the FBL and LDAM-DRW reference code builds on.
 */
import type { Tensor } from '../tensor.js';
import { globalAvgPool2d, downsamplePadChannels, conv2dBatchNormEval, batchNormAct } from '../ops/index.js';
import { Module } from './module.js';
import { BatchNorm2d, Conv2d, Linear } from './layers.js';
import { InitRng } from './random.js';
import { NormedLinear } from './normedLinear.js';

/**
 * ReLU(bn(conv(x)) + residual). Training: the convolution, then batch norm,
 * residual and ReLU as one op (src/ops/batchnorm.ts); eval: all of it as one
 * op that a backend may fuse into the convolution (src/ops/fused.ts).
 */
function convBnRelu(conv: Conv2d, bn: BatchNorm2d, x: Tensor, residual: Tensor | null = null): Tensor {
  if (bn.training) {
    return batchNormAct(conv.forward(x), bn.weight, bn.bias, bn.runningMean, bn.runningVar, {
      training: true,
      momentum: bn.momentum,
      eps: bn.eps,
      residual,
      relu: true,
    });
  }
  return conv2dBatchNormEval(x, conv.weight, bn, { stride: conv.opts.stride ?? 1, padding: conv.opts.padding ?? 0, residual, relu: true });
}

export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** Option A shortcut where the shape changes (read by src/nn/resnetPlan.ts too). */
  readonly downsample: { stride: number; padC: number } | null;

  constructor(inPlanes: number, planes: number, stride: number, rng: InitRng) {
    super();
    this.conv1 = this.module('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, rng }));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes));
    this.conv2 = this.module('conv2', new Conv2d(planes, planes, 3, { stride: 1, padding: 1, rng }));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    // Option A: where the shape changes, subsample and zero-pad planes/4 channels on each side.
    this.downsample = stride !== 1 || inPlanes !== planes ? { stride, padC: (planes - inPlanes) / 2 } : null;
  }

  protected compute(x: Tensor): Tensor {
    const h = convBnRelu(this.conv1, this.bn1, x);
    const shortcut = this.downsample ? downsamplePadChannels(x, this.downsample.stride, this.downsample.padC) : x;
    return convBnRelu(this.conv2, this.bn2, h, shortcut);
  }
}

class Sequential extends Module {
  readonly items: Module[] = [];
  add(m: Module): void {
    this.module(String(this.items.length), m);
    this.items.push(m);
  }
  protected compute(x: Tensor): Tensor {
    return this.items.reduce((h, m) => m.forward(h) as Tensor, x);
  }
}

export interface ResNetOptions {
  numClasses?: number;
  inChannels?: number;
  /** Seed of the weight initialisation. */
  seed?: number;
  /**
   * 'linear' (default) or 'normed': LDAM-DRW's cosine classifier, whose
   * `linear.weight` is [64, classes] and has no bias, as in their code.
   */
  classifier?: 'linear' | 'normed';
}

export interface ModelOutput {
  logits: Tensor;
  /** The pooled feature vector before the classifier, [N, 64]. */
  features: Tensor;
}

export class CifarResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Sequential[] = [];
  readonly linear: Linear | NormedLinear;

  constructor(
    readonly blocksPerStage: number,
    readonly opts: Required<ResNetOptions>,
  ) {
    super();
    const rng = new InitRng(opts.seed);
    this.conv1 = this.module('conv1', new Conv2d(opts.inChannels, 16, 3, { stride: 1, padding: 1, rng }));
    this.bn1 = this.module('bn1', new BatchNorm2d(16));
    let inPlanes = 16;
    [16, 32, 64].forEach((planes, stage) => {
      const layer = this.module(`layer${stage + 1}`, new Sequential());
      for (let i = 0; i < blocksPerStage; i++) {
        layer.add(new BasicBlock(inPlanes, planes, i === 0 && stage > 0 ? 2 : 1, rng));
        inPlanes = planes;
      }
      this.layers.push(layer);
    });
    this.linear = this.module(
      'linear',
      opts.classifier === 'normed' ? new NormedLinear(64, opts.numClasses, rng) : new Linear(64, opts.numClasses, rng),
    );
  }

  protected compute(x: Tensor): ModelOutput {
    if (x.ndim !== 4 || x.shape[1] !== this.opts.inChannels) {
      throw new Error(
        `wasmtail: ResNet-${6 * this.blocksPerStage + 2} expects NCHW input with ${this.opts.inChannels} channels, got shape [${x.shape.join(', ')}]`,
      );
    }
    let h = convBnRelu(this.conv1, this.bn1, x);
    for (const layer of this.layers) h = layer.forward(h);
    const features = globalAvgPool2d(h);
    return { logits: this.linear.forward(features) as Tensor, features };
  }

  override forward(x: Tensor): ModelOutput {
    return super.forward(x) as ModelOutput;
  }
}

function resnet(blocks: number) {
  return (opts: ResNetOptions = {}) =>
    new CifarResNet(blocks, {
      numClasses: opts.numClasses ?? 10,
      inChannels: opts.inChannels ?? 3,
      seed: opts.seed ?? 123,
      classifier: opts.classifier ?? 'linear',
    });
}

export const resnet8 = resnet(1);
export const resnet20 = resnet(3);
export const resnet32 = resnet(5);
export const resnet44 = resnet(7);
export const resnet56 = resnet(9);
export const resnet110 = resnet(18);

export const ARCHITECTURES = { resnet8, resnet20, resnet32, resnet44, resnet56, resnet110 } as const;
export type ArchName = keyof typeof ARCHITECTURES;
