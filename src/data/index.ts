/**
 * `wt.data`: readers for CIFAR-10/100 binary and IDX files, long-tailed
 * subsets identical to the reference code's, augmentation and mini-batches,
 * image folders (PNG, JPEG) and fetching the standard data sets.
 * `core.ts` is the same without the Node-only parts (`node.ts`, `folder.ts`,
 * `jpeg.ts`, `fetch.ts`).
 */
export * from './core.js';
export * from './node.js';
export * from './folder.js';
export { decodeJpeg, isJpeg } from './jpeg.js';
export * from './fetch.js';
