/**
 * A CIFAR ResNet built from a state dict alone: ours (safetensors written by
 * `wasmtail train`, with the config in the metadata) or PyTorch's for the
 * same architecture (names only). Browser-safe: no Node imports. Used by
 * `wasmtail predict` / `eval` and by the `wasmtail/infer` entry point.
 */
import { ARCHITECTURES, type ArchName, type CifarResNet } from './resnet.js';
import {
  CIFAR10_CLASSES,
  CIFAR100_CLASSES,
  FASHION_MNIST_CLASSES,
  CIFAR_MEAN,
  CIFAR_STD,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
} from '../data/dataset.js';

export interface StateDictTensor {
  shape: readonly number[];
  data: Float32Array;
}

/**
 * How a model's input was made, as `wasmtail train` records it in the
 * checkpoint's config (`config.input`): enough for predict to feed it images
 * without the data set (class names, size, channels, normalisation).
 */
export interface ModelInput {
  classNames: string[];
  channels: number;
  height: number;
  width: number;
  mean: number[];
  std: number[];
}

/** The checkpoint config fields read here. */
export interface CheckpointConfig {
  arch?: string;
  dataset?: string;
  input?: ModelInput;
}

/** What a state dict says about the model it came from, and how to feed it. */
export interface ModelDescription {
  arch: ArchName;
  /** 'linear', or 'normed' (LDAM-DRW's cosine classifier: `linear.weight` is [64, classes], no bias). */
  classifier: 'linear' | 'normed';
  numClasses: number;
  inChannels: number;
  /** The data set it was trained on: from the checkpoint's config, else guessed from channels and classes. */
  dataset: string;
  classNames: readonly string[];
  /** The input size it was trained at: 28 × 28 for one channel (Fashion-MNIST), 32 × 32 for three (CIFAR). */
  height: number;
  width: number;
  /** Per-channel normalisation of pixel / 255 that training used. */
  mean: readonly number[];
  std: readonly number[];
}

/**
 * Reads the architecture off a state dict: the depth from the number of
 * blocks in layer1 (depth 6n + 2), the classifier from whether
 * `linear.bias` exists, classes and channels from the shapes. `config` is
 * the checkpoint's `config` metadata, when it has one; `arch` overrides the
 * detected depth.
 */
export function describeStateDict(
  tensors: ReadonlyMap<string, StateDictTensor>,
  name = 'checkpoint',
  config: CheckpointConfig = {},
  arch?: string,
): ModelDescription {
  const conv1 = tensors.get('conv1.weight');
  const head = tensors.get('linear.weight');
  if (!conv1 || !head || conv1.shape.length !== 4 || head.shape.length !== 2) {
    throw new Error(`${name}: not a CIFAR ResNet checkpoint (no conv1.weight / linear.weight of the right rank)`);
  }
  const blocks = new Set([...tensors.keys()].filter((k) => k.startsWith('layer1.')).map((k) => k.split('.')[1])).size;
  const chosen = arch ?? config.arch ?? `resnet${6 * blocks + 2}`;
  if (!(chosen in ARCHITECTURES)) {
    throw new Error(
      `${name}: ${arch ? `unknown architecture '${arch}'` : `${blocks} blocks a stage is no known architecture`} (resnet8/20/32/44/56/110)`,
    );
  }
  const classifier = tensors.has('linear.bias') ? 'linear' : 'normed';
  const numClasses = classifier === 'normed' ? head.shape[1] : head.shape[0];
  const inChannels = conv1.shape[1];
  const dataset = config.dataset ?? (inChannels === 1 ? 'fashion-mnist-lt' : numClasses === 100 ? 'cifar100-lt' : 'cifar10-lt');
  const known = dataset.startsWith('fashion') ? FASHION_MNIST_CLASSES : dataset.startsWith('cifar100') ? CIFAR100_CLASSES : CIFAR10_CLASSES;
  const classNames = known.length === numClasses ? known : Array.from({ length: numClasses }, (_, i) => `class ${i}`);
  const input = config.input;
  if (input) {
    const fits =
      input.channels === inChannels &&
      input.classNames.length === numClasses &&
      input.mean.length === inChannels &&
      input.std.length === inChannels;
    if (!fits)
      throw new Error(
        `${name}: its recorded input (${input.channels} channels, ${input.classNames.length} classes) does not match its weights (${inChannels}, ${numClasses})`,
      );
    return {
      arch: chosen as ArchName,
      classifier,
      numClasses,
      inChannels,
      dataset,
      classNames: input.classNames,
      height: input.height,
      width: input.width,
      mean: input.mean,
      std: input.std,
    };
  }
  const gray = inChannels === 1;
  return {
    arch: chosen as ArchName,
    classifier,
    numClasses,
    inChannels,
    dataset,
    classNames,
    height: gray ? 28 : 32,
    width: gray ? 28 : 32,
    mean: gray ? FASHION_MNIST_MEAN : inChannels === 3 ? CIFAR_MEAN : new Array(inChannels).fill(0.5),
    std: gray ? FASHION_MNIST_STD : inChannels === 3 ? CIFAR_STD : new Array(inChannels).fill(0.5),
  };
}

/**
 * Refuses a state dict holding a NaN or an infinity, naming the tensor and
 * the first bad index: such weights give NaN logits for every input, so a
 * "prediction" from them is meaningless.
 */
export function checkFiniteTensors(tensors: ReadonlyMap<string, { data: Float32Array }>, name = 'checkpoint'): void {
  for (const [key, t] of tensors) {
    const i = t.data.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) {
      throw new Error(
        `${name}: tensor ${key} holds ${t.data[i]} at index ${i}; non-finite weights (a diverged run or a corrupt file) cannot be used`,
      );
    }
  }
}

/** The model a state dict describes, with its weights loaded, in eval mode. Errors name the checkpoint. */
export function resnetFromStateDict(
  tensors: ReadonlyMap<string, StateDictTensor>,
  name = 'checkpoint',
  config: CheckpointConfig = {},
  arch?: string,
): { model: CifarResNet; description: ModelDescription } {
  const description = describeStateDict(tensors, name, config, arch);
  checkFiniteTensors(tensors, name);
  const model = ARCHITECTURES[description.arch]({
    numClasses: description.numClasses,
    inChannels: description.inChannels,
    classifier: description.classifier,
  });
  try {
    model.loadStateDict(tensors as Map<string, StateDictTensor>);
  } catch (e) {
    model.dispose();
    throw new Error(`${name}: ${(e as Error).message.replace(/^wasmtail: /, '')}`);
  }
  model.eval();
  return { model, description };
}
