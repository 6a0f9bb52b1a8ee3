/**
 * wasmtail: a tensor + reverse-mode autograd engine whose kernels are
 * WebAssembly SIMD, for training and running long-tail image classifiers
 * without a GPU. See docs/ARCHITECTURE.md.
 */
export { init, info, setThreads, shutdown, type InitOptions } from './init.js';
export type { Backend, Storage, ConvGeometry } from './backend/backend.js';
export { Tensor, tensor, zeros, full } from './tensor.js';
export { noGrad, isGradEnabled } from './autograd/node.js';
export { endStep, tidy } from './memory.js';
export * from './ops/index.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as losses from './losses/index.js';
export * as data from './data/index.js';
export * as io from './io/node.js';
export * as plot from './plot/index.js';
export * as trainer from './train/index.js';
