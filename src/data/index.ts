/**
 * `wt.data`: readers for CIFAR-10/100 binary and IDX files, long-tailed
 * subsets identical to the reference code's, augmentation and mini-batches.
 * `core.ts` is the same without the Node-only file readers of `node.ts`.
 */
export * from './core.js';
export * from './node.js';
