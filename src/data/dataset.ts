/**
 * The in-memory data set every reader returns and every consumer takes.
 * Pure TypeScript, no Node imports.
 */

/**
 * Images as bytes in NCHW order (`images[((i * c + ch) * h + y) * w + x]`),
 * one int32 label per image in [0, numClasses).
 */
export interface Dataset {
  images: Uint8Array;
  labels: Int32Array;
  /** Number of images. */
  n: number;
  /** Channels: 3 for CIFAR, 1 for (Fashion-)MNIST. */
  c: number;
  h: number;
  w: number;
  numClasses: number;
  /** `classNames[label]`, length numClasses. */
  classNames: string[];
}

export const CIFAR10_CLASSES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

export const CIFAR100_CLASSES: readonly string[] = [
  'apple',
  'aquarium_fish',
  'baby',
  'bear',
  'beaver',
  'bed',
  'bee',
  'beetle',
  'bicycle',
  'bottle',
  'bowl',
  'boy',
  'bridge',
  'bus',
  'butterfly',
  'camel',
  'can',
  'castle',
  'caterpillar',
  'cattle',
  'chair',
  'chimpanzee',
  'clock',
  'cloud',
  'cockroach',
  'couch',
  'crab',
  'crocodile',
  'cup',
  'dinosaur',
  'dolphin',
  'elephant',
  'flatfish',
  'forest',
  'fox',
  'girl',
  'hamster',
  'house',
  'kangaroo',
  'keyboard',
  'lamp',
  'lawn_mower',
  'leopard',
  'lion',
  'lizard',
  'lobster',
  'man',
  'maple_tree',
  'motorcycle',
  'mountain',
  'mouse',
  'mushroom',
  'oak_tree',
  'orange',
  'orchid',
  'otter',
  'palm_tree',
  'pear',
  'pickup_truck',
  'pine_tree',
  'plain',
  'plate',
  'poppy',
  'porcupine',
  'possum',
  'rabbit',
  'raccoon',
  'ray',
  'road',
  'rocket',
  'rose',
  'sea',
  'seal',
  'shark',
  'shrew',
  'skunk',
  'skyscraper',
  'snail',
  'snake',
  'spider',
  'squirrel',
  'streetcar',
  'sunflower',
  'sweet_pepper',
  'table',
  'tank',
  'telephone',
  'television',
  'tiger',
  'tractor',
  'train',
  'trout',
  'tulip',
  'turtle',
  'wardrobe',
  'whale',
  'willow_tree',
  'wolf',
  'woman',
  'worm',
];

export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Per-channel normalisation (on pixel / 255) used by the CIFAR-LT recipe. */
export const CIFAR_MEAN: readonly number[] = [0.4914, 0.4822, 0.4465];
export const CIFAR_STD: readonly number[] = [0.2023, 0.1994, 0.201];
/** Fashion-MNIST's full 60,000-image training set: mean 0.2860, std 0.3530 (population std). */
export const FASHION_MNIST_MEAN: readonly number[] = [0.286];
export const FASHION_MNIST_STD: readonly number[] = [0.353];

/** A new data set holding `indices` of `ds`, in that order (copies the pixels). */
export function takeSubset(ds: Dataset, indices: Int32Array): Dataset {
  const size = ds.c * ds.h * ds.w;
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < ds.n)) throw new RangeError(`takeSubset: index ${i} outside [0, ${ds.n})`);
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i];
  }
  return { ...ds, images, labels, n: indices.length, classNames: ds.classNames.slice() };
}
