// `wasmtail eval` and `wasmtail predict`: a checkpoint against a test set or image files.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { inflateSync } from 'node:zlib';
import { loadSafetensorsFile } from '../io/files.js';
import { ARCHITECTURES, type ArchName, type CifarResNet } from '../nn/resnet.js';
import { CIFAR10_CLASSES, CIFAR100_CLASSES, FASHION_MNIST_CLASSES, CIFAR_MEAN, CIFAR_STD, FASHION_MNIST_MEAN, FASHION_MNIST_STD } from '../data/dataset.js';
import { decodePng, rgbaToImage } from '../data/png.js';
import { normalize } from '../data/augment.js';
import { resolveConfig, type TrainConfig } from '../train/config.js';
import { loadRunData } from '../train/data.js';
import { evaluate } from '../train/evaluate.js';
import { noGrad } from '../autograd/node.js';
import { tensor } from '../tensor.js';
import { UsageError, configFromArgs } from './main.js';

interface LoadedModel {
  model: CifarResNet;
  config: Partial<TrainConfig>;
  classNames: readonly string[];
}

async function loadModel(path: string, archOverride?: string): Promise<LoadedModel> {
  const { tensors, metadata } = await loadSafetensorsFile(path);
  const config = metadata.config ? (JSON.parse(metadata.config) as Partial<TrainConfig>) : {};
  const conv1 = tensors.get('conv1.weight');
  const head = tensors.get('linear.weight');
  if (!conv1 || !head) throw new Error(`${path}: not a CIFAR ResNet checkpoint (no conv1.weight / linear.weight)`);
  const blocks = new Set([...tensors.keys()].filter((k) => k.startsWith('layer1.')).map((k) => k.split('.')[1])).size;
  const arch = (archOverride ?? config.arch ?? `resnet${6 * blocks + 2}`) as ArchName;
  if (!(arch in ARCHITECTURES)) throw new Error(`${path}: ${blocks} blocks a stage is no known architecture (resnet20/32/44/56/110)`);
  // A cosine classifier (LDAM-DRW) stores its weight as [64, classes] and has no bias.
  const normed = !tensors.has('linear.bias');
  const numClasses = normed ? head.shape[1] : head.shape[0];
  const model = ARCHITECTURES[arch]({ numClasses, inChannels: conv1.shape[1], classifier: normed ? 'normed' : 'linear' });
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message.replace(/^wasmtail: /, '')}`);
  }
  model.eval();
  const dataset = config.dataset ?? (conv1.shape[1] === 1 ? 'fashion-mnist-lt' : numClasses === 100 ? 'cifar100-lt' : 'cifar10-lt');
  const classNames = dataset.startsWith('fashion') ? FASHION_MNIST_CLASSES : dataset.startsWith('cifar100') ? CIFAR100_CLASSES : CIFAR10_CLASSES;
  return { model, config: { ...config, dataset }, classNames: classNames.length === numClasses ? classNames : Array.from({ length: numClasses }, (_, i) => `class ${i}`) };
}

export async function evalCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  if (!values.checkpoint) throw new UsageError('eval needs --checkpoint FILE');
  const { model, config } = await loadModel(values.checkpoint as string, values.arch as string | undefined);
  const cfg = resolveConfig({ ...config, ...configFromArgs({ ...values, out: 'unused' }), out: 'unused',
    dataset: (values.dataset as TrainConfig['dataset']) ?? config.dataset, dataDir: (values['data-dir'] as string) ?? config.dataDir ?? null });
  const data = loadRunData(cfg);
  const m = await evaluate(model, data.test, { batchSize: 256, mean: data.mean, std: data.std, trainCounts: data.trainCounts });
  process.stdout.write(JSON.stringify({ checkpoint: values.checkpoint, dataset: cfg.dataset, ...m }) + '\n');
  return 0;
}

export async function predictCommand(values: Record<string, string | boolean | undefined>, files: string[]): Promise<number> {
  if (!values.checkpoint) throw new UsageError('predict needs --checkpoint FILE');
  if (files.length === 0) throw new UsageError('predict needs at least one image (PNG, or raw CIFAR-format records)');
  const { model, classNames } = await loadModel(values.checkpoint as string, values.arch as string | undefined);
  const c = model.opts.inChannels;
  const [h, w] = c === 1 ? [28, 28] : [32, 32];
  const [mean, std] = c === 1 ? [FASHION_MNIST_MEAN, FASHION_MNIST_STD] : [CIFAR_MEAN, CIFAR_STD];
  const images: { name: string; pixels: Uint8Array }[] = [];
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(file));
    if (extname(file).toLowerCase() === '.png') {
      images.push({ name: file, pixels: rgbaToImage(decodePng(bytes, (d) => new Uint8Array(inflateSync(d)), file), c, h, w) });
      continue;
    }
    // Raw CIFAR records: label byte(s) then 3072 pixel bytes.
    const record = [3073, 3074].find((r) => bytes.length > 0 && bytes.length % r === 0);
    if (c !== 3 || !record) {
      throw new Error(`${file}: neither a .png nor whole CIFAR-10 (3,073-byte) / CIFAR-100 (3,074-byte) records (${bytes.length} bytes)`);
    }
    for (let i = 0; i < bytes.length / record; i++) {
      images.push({ name: `${file}#${i}`, pixels: bytes.subarray(i * record + record - 3072, (i + 1) * record) });
    }
  }
  const x = new Float32Array(images.length * c * h * w);
  images.forEach((img, i) => x.set(normalize(img.pixels, { c, h, w }, mean, std), i * c * h * w));
  const logits = await noGrad(() => model.forward(tensor(x, [images.length, c, h, w])).logits).data();
  const C = classNames.length;
  images.forEach((img, i) => {
    const z = logits.subarray(i * C, (i + 1) * C);
    const max = Math.max(...z);
    const e = Array.from(z, (v) => Math.exp(v - max));
    const total = e.reduce((a, b) => a + b, 0);
    const probs = e.map((v) => v / total);
    const top = probs.indexOf(Math.max(...probs));
    process.stdout.write(JSON.stringify({ image: img.name, class: top, name: classNames[top], probability: probs[top],
      probabilities: Object.fromEntries(classNames.map((n, j) => [n, Number(probs[j].toFixed(6))])) }) + '\n');
  });
  return 0;
}
