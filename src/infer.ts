/**
 * wasmtail/infer: run a trained CIFAR ResNet anywhere JavaScript and
 * WebAssembly SIMD run (Node, browsers, Web Workers, Cloudflare's workerd),
 * from a safetensors checkpoint, ours or PyTorch's.
 *
 *   await init();                         // or init({ module }) where compiling bytes is forbidden (workerd)
 *   const model = await loadModel(bytes); // the architecture is read off the state dict
 *   const [p] = await predict(model, { width, height, data: rgba });
 *   p.top1, p.name, p.probability, p.probabilities
 *
 * Inference only: one thread, the plain-SIMD kernels (wasmtail.wasm), no
 * autograd bookkeeping, and nothing Node-only is imported, so this entry
 * bundles for browsers and edge runtimes as it is. predict() runs an
 * inference plan (src/nn/resnetPlan.ts) built on its first call at an input
 * shape: later calls at that shape allocate nothing in WASM memory.
 */
import { hasBackend, setBackend } from './backend/current.js';
import { WasmBackend } from './backend/wasm/wasmBackend.js';
import { compileKernels, hasSimd, instantiateKernels, WASM_FILE } from './backend/wasm/loader.js';
import { loadSafetensors } from './io/safetensors.js';
import { normalize } from './data/augment.js';
import { decodePng as decodePngWith, rgbaToImage, type DecodedImage } from './data/png.js';
import { readAtMost } from './data/streams.js';
import { CIFAR_IMAGE_BYTES, CIFAR10_RECORD_BYTES, CIFAR100_RECORD_BYTES } from './data/formats.js';
import { resnetFromStateDict, type CheckpointConfig, type ModelDescription, type StateDictTensor } from './nn/fromStateDict.js';
import type { CifarResNet } from './nn/resnet.js';
import { ResNetInferencePlan } from './nn/resnetPlan.js';
import { argmax } from './train/metrics.js';

export type { ModelDescription, StateDictTensor, DecodedImage };
export { FASHION_MNIST_CLASSES, CIFAR10_CLASSES, CIFAR100_CLASSES } from './data/dataset.js';

export interface InferInitOptions {
  /** The kernels as an already compiled module: required where compiling bytes is forbidden (workerd / Cloudflare Workers). */
  module?: WebAssembly.Module;
  /** The kernels' bytes, or a URL / path to them. Default: wasmtail.wasm next to this bundle (fs under Node, fetch elsewhere). */
  wasm?: ArrayBuffer | ArrayBufferView | URL | string;
  /** Maximum linear memory in 64 KiB pages (default 65536: 4 GiB; a ResNet-32 at batch 64 needs ~100 MB). */
  maxMemoryPages?: number;
}

/** The .wasm file this entry loads by default: the plain-SIMD, single-thread build, valid in every runtime with SIMD. */
export const KERNELS_FILE = WASM_FILE;

/** Loads the WASM kernels; call it once, before loadModel() (which calls it with no options if nothing has). */
export async function init(opts: InferInitOptions = {}): Promise<void> {
  if (!hasSimd()) throw new Error('wasmtail: this runtime lacks WebAssembly SIMD (128-bit), which the kernels require');
  const module = await compileKernels(opts.module ?? opts.wasm, WASM_FILE);
  const kernels = new WasmBackend(await instantiateKernels(module, opts.maxMemoryPages));
  setBackend(kernels);
}

/** A model ready for predict(): the network, and what its checkpoint says about its input and classes. */
export interface LoadedModel extends ModelDescription {
  readonly network: CifarResNet;
  /** The checkpoint's `__metadata__` (empty for PyTorch's). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Frees its weights. */
  dispose(): void;
}

export interface LoadOptions {
  /** Names the checkpoint in error messages. */
  name?: string;
  /** Overrides the depth read off the state dict ('resnet8' ... 'resnet110'). */
  arch?: string;
}

/**
 * A CIFAR ResNet from a safetensors checkpoint (bytes) or a state dict (a
 * Map of { shape, data } by PyTorch name). The depth comes from the number
 * of blocks in layer1, classes and channels from the shapes, the classifier
 * (linear or LDAM's cosine) from whether linear.bias exists; our
 * checkpoints' config metadata names the data set (class names,
 * normalisation), otherwise one channel means Fashion-MNIST and three CIFAR.
 * A weight that is NaN or infinite is refused, naming its tensor.
 */
export async function loadModel(
  source: Uint8Array | ArrayBuffer | ReadonlyMap<string, StateDictTensor>,
  opts: LoadOptions = {},
): Promise<LoadedModel> {
  if (!hasBackend()) await init();
  const name = opts.name ?? 'checkpoint';
  let tensors: ReadonlyMap<string, StateDictTensor>;
  let metadata: Record<string, string> = {};
  if (source instanceof Map) tensors = source;
  else if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const contents = loadSafetensors(source instanceof Uint8Array ? source : new Uint8Array(source), name);
    tensors = contents.tensors;
    metadata = contents.metadata;
  } else
    throw new TypeError(
      `wasmtail: loadModel(): expected safetensors bytes or a Map of tensors, got ${Object.prototype.toString.call(source)}`,
    );
  let config: CheckpointConfig = {};
  if (metadata.config !== undefined) {
    try {
      config = JSON.parse(metadata.config);
    } catch (e) {
      throw new Error(`${name}: its 'config' metadata (the training configuration) is not valid JSON (${(e as Error).message})`);
    }
  }
  const { model, description } = resnetFromStateDict(tensors, name, config, opts.arch);
  return {
    ...description,
    network: model,
    metadata,
    dispose: () => {
      disposePlans(model);
      model.dispose();
    },
  };
}

/** An RGBA image: ImageData ({ width, height, data }) or a decoded PNG ({ width, height, rgba }). */
export type RgbaImage = { width: number; height: number; data: Uint8Array | Uint8ClampedArray } | DecodedImage;

/**
 * What predict() takes:
 * - a Float32Array of already normalised NCHW images at the model's size
 *   (or { data, shape: [n, c, h, w] } for another size);
 * - raw CIFAR-10 / CIFAR-100 record bytes (3,073 / 3,074 bytes each: label
 *   byte(s), then 3,072 pixel bytes), as a Uint8Array or ArrayBuffer;
 * - one RGBA image or an array of them, resized (area averaging when
 *   shrinking, bilinear when enlarging) and normalised as the model was
 *   trained (luminance for one channel).
 */
export type PredictInput =
  | Float32Array
  | { data: Float32Array; shape: readonly [number, number, number, number] }
  | Uint8Array
  | ArrayBuffer
  | RgbaImage
  | readonly RgbaImage[];

export interface Prediction {
  /** The most probable class, its name and probability. */
  top1: number;
  name: string;
  probability: number;
  /** Softmax over the classes. */
  probabilities: Float32Array;
  logits: Float32Array;
}

/** Images per forward pass: bounds the memory a long batch takes. */
const CHUNK = 64;

function isRgba(v: unknown): v is RgbaImage {
  const o = v as Record<string, unknown>;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.width === 'number' &&
    typeof o.height === 'number' &&
    (o.rgba instanceof Uint8Array || o.data instanceof Uint8Array || o.data instanceof Uint8ClampedArray)
  );
}

/** The input as normalised NCHW float32 and its shape. */
function toBatch(model: LoadedModel, input: PredictInput): { x: Float32Array; shape: [number, number, number, number] } {
  const { inChannels: c, height: h, width: w, mean, std } = model;
  const size = c * h * w;
  if (input instanceof Float32Array) {
    if (input.length === 0 || input.length % size !== 0) {
      throw new Error(
        `wasmtail: predict(): ${input.length} values are not whole ${c}x${h}x${w} images; pass { data, shape } for another size`,
      );
    }
    return { x: input, shape: [input.length / size, c, h, w] };
  }
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    const record = [CIFAR10_RECORD_BYTES, CIFAR100_RECORD_BYTES].find((r) => bytes.length > 0 && bytes.length % r === 0);
    if (c !== 3 || !record) {
      throw new Error(
        `wasmtail: predict(): ${bytes.length} bytes are not whole CIFAR-10 (3,073-byte) or CIFAR-100 (3,074-byte) records` +
          (c !== 3 ? ` (and this model takes ${c}-channel images)` : ''),
      );
    }
    const n = bytes.length / record;
    const x = new Float32Array(n * c * 32 * 32);
    for (let i = 0; i < n; i++) {
      const pixels = bytes.subarray((i + 1) * record - CIFAR_IMAGE_BYTES, (i + 1) * record);
      x.set(normalize(pixels, { c, h: 32, w: 32 }, mean, std), i * c * 32 * 32);
    }
    return { x, shape: [n, c, 32, 32] };
  }
  const images = Array.isArray(input) ? input : [input];
  if (images.length > 0 && images.every(isRgba)) {
    const x = new Float32Array(images.length * size);
    images.forEach((img, i) => {
      const rgba = 'rgba' in img ? img.rgba : img.data;
      if (rgba.length !== img.width * img.height * 4) {
        throw new Error(`wasmtail: predict(): image ${i} has ${rgba.length} bytes, not ${img.width} x ${img.height} x 4 (RGBA)`);
      }
      const pixels = rgbaToImage({ width: img.width, height: img.height, rgba: rgba as Uint8Array }, c, h, w);
      x.set(normalize(pixels, { c, h, w }, mean, std), i * size);
    });
    return { x, shape: [images.length, c, h, w] };
  }
  const explicit = input as { data?: unknown; shape?: readonly number[] };
  if (explicit.data instanceof Float32Array && Array.isArray(explicit.shape) && explicit.shape.length === 4) {
    const [n, ci, hi, wi] = explicit.shape;
    if (ci !== c || n * ci * hi * wi !== explicit.data.length) {
      throw new Error(
        `wasmtail: predict(): shape [${explicit.shape.join(', ')}] does not fit ${explicit.data.length} values of ${c}-channel images`,
      );
    }
    return { x: explicit.data, shape: [n, c, hi, wi] };
  }
  throw new TypeError(
    'wasmtail: predict(): expected a Float32Array (NCHW), { data, shape }, CIFAR record bytes, or RGBA images ({ width, height, data })',
  );
}

/**
 * Inference plans (src/nn/resnetPlan.ts) by network and input shape, built on
 * a network's first predict() at a shape: later calls at that shape allocate
 * nothing in WASM memory. At most PLANS_KEPT per network (a full chunk and a
 * remainder), the oldest dropped.
 */
const plans = new WeakMap<CifarResNet, Map<string, ResNetInferencePlan>>();
const PLANS_KEPT = 2;

function planFor(network: CifarResNet, shape: readonly [number, number, number, number]): ResNetInferencePlan {
  let byShape = plans.get(network);
  if (!byShape) {
    byShape = new Map();
    plans.set(network, byShape);
  }
  const key = shape.join('x');
  const kept = byShape.get(key);
  if (kept && !kept.stale) return kept;
  kept?.dispose();
  byShape.delete(key);
  const plan = new ResNetInferencePlan(network, shape);
  byShape.set(key, plan);
  for (const [oldest, old] of byShape) {
    if (byShape.size <= PLANS_KEPT) break;
    old.dispose();
    byShape.delete(oldest);
  }
  return plan;
}

function disposePlans(network: CifarResNet): void {
  for (const plan of plans.get(network)?.values() ?? []) plan.dispose();
  plans.delete(network);
}

/** Class probabilities (softmax of the logits, in float64) and the top class of every image of the input. */
export async function predict(model: LoadedModel, input: PredictInput): Promise<Prediction[]> {
  const { x, shape } = toBatch(model, input);
  const [n, c, h, w] = shape;
  const size = c * h * w;
  const k = model.numClasses;
  const logits = new Float32Array(n * k);
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start);
    logits.set(planFor(model.network, [m, c, h, w]).run(x.subarray(start * size, (start + m) * size)), start * k);
  }
  return Array.from({ length: n }, (_, i) => {
    const z = logits.subarray(i * k, (i + 1) * k);
    const bad = z.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new Error(`wasmtail: predict(): image ${i}: the model's logit for class ${bad} is ${z[bad]}; no probabilities can be given`);
    let max = -Infinity;
    for (const v of z) max = Math.max(max, v);
    const e = Array.from(z, (v) => Math.exp(v - max));
    const total = e.reduce((a, b) => a + b, 0);
    const probabilities = Float32Array.from(e, (v) => v / total);
    const top1 = argmax(z);
    return { top1, name: model.classNames[top1], probability: probabilities[top1], probabilities, logits: z.slice() };
  });
}

/**
 * zlib inflate with the Compression Streams API (browsers, workers, workerd,
 * Node >= 18), cancelled once it passes `maxBytes`.
 */
function inflate(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'));
  return readAtMost(stream, maxBytes, () => new Error(`inflates to more than the ${maxBytes} bytes its header allows`));
}

/**
 * Decodes a PNG (any colour type and bit depth, tRNS, interlaced or not) to
 * RGBA for predict(), in any runtime with DecompressionStream. JPEG is not
 * decoded here, to keep this entry free of dependencies: pass decoded RGBA.
 * The image data is inflated into at most what its header allows.
 */
export async function decodePng(bytes: Uint8Array, name = 'image'): Promise<DecodedImage> {
  // The decoder takes a synchronous inflate: a first pass collects the compressed stream and its bound, a second decodes it.
  let compressed: Uint8Array | null = null;
  let maxBytes = 0;
  try {
    decodePngWith(
      bytes,
      (d, max) => {
        compressed = d;
        maxBytes = max;
        throw new Error('inflated later');
      },
      name,
    );
  } catch (e) {
    if (compressed === null) throw e;
  }
  let raw: Uint8Array;
  try {
    raw = await inflate(compressed!, maxBytes);
  } catch (e) {
    throw new Error(`${name}: not a PNG this decoder reads: corrupt image data (${(e as Error).message})`);
  }
  return decodePngWith(bytes, () => raw, name);
}
