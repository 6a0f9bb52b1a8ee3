/**
 * The browser-safe part of `wt.data` (no Node imports): formats on bytes,
 * numpy-exact MT19937, long-tail subsets, augmentation and batching.
 */
export * from './dataset.js';
export * from './formats.js';
export * from './mt19937.js';
export * from './longtail.js';
export * from './augment.js';
export * from './batches.js';
export * from './png.js';
export * from './imageOps.js';
export * from './autoAugment.js';
export * from './cutout.js';
export * from './byteAugment.js';
export * from './distributions.js';
