/** Messages between the page and its workers. */
export type LossKind = 'ce' | 'fbl';

export interface TrainRequest {
  loss: LossKind;
  /** The page's URL (the .wasm is next to it) and the data folder's. */
  base: string;
  dataUrl: string;
  steps: number;
  batch: number;
  lr: number;
  /** FBL's λ (the paper's 60 on CIFAR-LT). */
  lambda: number;
  evalEvery: number;
  evalPerClass: number;
  seed: number;
  /**
   * Kernel threads for this run, the worker's own included: more than one
   * only on a cross-origin-isolated page (shared memory); the worker falls
   * back to one otherwise.
   */
  threads: number;
}

export type TrainMessage =
  | { type: 'ready'; loss: LossKind; classCounts: number[]; classNames: string[]; trainImages: number; threads: number }
  | { type: 'step'; loss: LossKind; step: number; value: number; epoch: number; curr: number }
  | { type: 'eval'; loss: LossKind; step: number; accuracy: number[]; featureNorm: number[] }
  | { type: 'done'; loss: LossKind }
  | { type: 'error'; loss: LossKind; message: string };
