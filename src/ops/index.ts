// The op table: every differentiable op, forward and backward in its own file.
export { add, sub, mul, div, relu, neg, exp, log, sqrt, scale, broadcastShapes } from './elementwise.js';
export { sum, mean, reshape, flatten, sumTo, broadcastTo, amax } from './reduce.js';
export { matmul, linear } from './matmul.js';
export { conv2d, type Conv2dOptions } from './conv.js';
export { conv2dBatchNormEval, type BatchNormParams, type ConvBatchNormEvalOptions } from './fused.js';
export { batchNorm2d, batchNormAct, type BatchNormOptions, type BatchNormActOptions } from './batchnorm.js';
export { globalAvgPool2d } from './pool.js';
export { downsamplePadChannels } from './shortcut.js';
export { crossEntropy, featureBalancedLoss, featureBalanceWeights, type CrossEntropyOptions, type FeatureBalancedOptions } from './loss.js';
