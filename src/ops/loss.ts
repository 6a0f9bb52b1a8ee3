// Fused losses: the kernels compute the loss and its gradient in one pass;
// backward scales the saved gradient by the upstream scalar.
import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { type Tensor, empty, tensor } from '../tensor.js';
import { mul } from './elementwise.js';
import { assertRank, assertTensor, shapeStr, toLabels } from './util.js';

export interface CrossEntropyOptions {
  /** Per-class weights (length C), as torch's `weight=`: a weighted mean over the batch. */
  weights?: Tensor | Float32Array | number[] | null;
}

/** g (shape []) times a saved gradient, without reading g back to the CPU. */
function scaleBy(saved: Tensor, g: Tensor): Tensor {
  return mul(saved, g);
}

/** Softmax cross-entropy, mean over the batch: logits [N, C], labels N integers. */
export function crossEntropy(logits: Tensor, labels: Int32Array | ArrayLike<number>, opts: CrossEntropyOptions = {}): Tensor {
  assertTensor(logits, 'crossEntropy', 'logits');
  assertRank(logits, 2, 'crossEntropy', 'logits', '[batch, classes]');
  const [n, c] = logits.shape;
  const y = toLabels(labels, n, c, 'crossEntropy');
  let weights: Tensor | null = null;
  if (opts.weights) {
    weights = (opts.weights as Tensor).isTensor ? (opts.weights as Tensor) : tensor(opts.weights as ArrayLike<number>);
    if (weights.size !== c) throw new Error(`wasmtail: crossEntropy(): ${weights.size} class weights for ${c} classes`);
  }
  const loss = empty([]);
  const dlogits = empty([n, c]);
  backend().softmaxCrossEntropy(logits.storage, y, weights ? weights.storage : null, n, c, loss.storage, dlogits.storage);
  return record(loss, 'crossEntropy', [logits], (g) => [scaleBy(dlogits, g)]);
}

export interface FeatureBalancedOptions {
  /** Training images per class, n_j. */
  classCounts: ArrayLike<number>;
  /** The stimulus scale (60 for CIFAR in the paper). */
  lambda: number;
  /** The curriculum factor for this epoch (see src/losses). */
  curr: number;
}

/**
 * lam_j = (log n_max - log n_j) / max_k (log n_max - log n_k): 0 for the
 * largest class, 1 for the smallest (Li et al., ICME 2022, eq. 6).
 */
export function featureBalanceWeights(classCounts: ArrayLike<number>): Float64Array {
  const counts = Array.from(classCounts);
  if (counts.some((v) => !(v > 0))) throw new Error(`wasmtail: class counts must be positive, got [${counts.join(', ')}]`);
  const logMax = Math.log(Math.max(...counts));
  const lam = Float64Array.from(counts, (v) => logMax - Math.log(v));
  const top = Math.max(...lam);
  return top > 0 ? lam.map((v) => v / top) : lam;
}

/**
 * Feature-balanced loss: cross-entropy on z_j - curr * lambda * lam_j / ||f||.
 * logits z [N, C], features f [N, D] (the pooled vector before the classifier).
 */
export function featureBalancedLoss(
  logits: Tensor,
  features: Tensor,
  labels: Int32Array | ArrayLike<number>,
  opts: FeatureBalancedOptions,
): Tensor {
  assertTensor(logits, 'featureBalancedLoss', 'logits');
  assertTensor(features, 'featureBalancedLoss', 'features');
  assertRank(logits, 2, 'featureBalancedLoss', 'logits', '[batch, classes]');
  assertRank(features, 2, 'featureBalancedLoss', 'features', '[batch, dim]');
  const [n, c] = logits.shape;
  const d = features.shape[1];
  if (features.shape[0] !== n) {
    throw new Error(
      `wasmtail: featureBalancedLoss(): logits ${shapeStr(logits.shape)} and features ${shapeStr(features.shape)} differ in batch size`,
    );
  }
  if (opts.classCounts.length !== c)
    throw new Error(`wasmtail: featureBalancedLoss(): ${opts.classCounts.length} class counts for ${c} classes`);
  const y = toLabels(labels, n, c, 'featureBalancedLoss');
  const lam = featureBalanceWeights(opts.classCounts);
  const stimulus = tensor(Float32Array.from(lam, (v) => opts.curr * opts.lambda * v));
  const loss = empty([]);
  const dlogits = empty([n, c]);
  const dfeatures = empty([n, d]);
  backend().featureBalancedLoss(
    logits.storage,
    features.storage,
    y,
    stimulus.storage,
    n,
    c,
    d,
    loss.storage,
    dlogits.storage,
    dfeatures.storage,
  );
  stimulus.dispose();
  return record(loss, 'featureBalancedLoss', [logits, features], (g) => [
    logits.requiresGrad ? scaleBy(dlogits, g) : null,
    features.requiresGrad ? scaleBy(dfeatures, g) : null,
  ]);
}
