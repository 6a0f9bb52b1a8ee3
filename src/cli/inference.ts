// `wasmtail eval` and `wasmtail predict`: a checkpoint against a test set or image files.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { loadSafetensorsFile } from '../io/files.js';
import type { CifarResNet } from '../nn/resnet.js';
import { resnetFromStateDict, type CheckpointConfig, type ModelDescription } from '../nn/fromStateDict.js';
import { decodePng, rgbaToImage } from '../data/png.js';
import { decodeJpeg, isJpeg } from '../data/jpeg.js';
import { inflateBounded } from '../data/folder.js';
import { normalize } from '../data/augment.js';
import { DEFAULTS, resolveConfig, type TrainConfig } from '../train/config.js';
import { loadRunData } from '../train/data.js';
import { evaluate } from '../train/evaluate.js';
import { noGrad } from '../autograd/node.js';
import { tensor } from '../tensor.js';
import { UsageError, configFromArgs } from './main.js';
import { downloadForConfig } from './fetch.js';

interface LoadedModel {
  model: CifarResNet;
  config: Partial<TrainConfig>;
  description: ModelDescription;
}

async function loadModel(path: string, archOverride?: string): Promise<LoadedModel> {
  const { tensors, metadata } = await loadSafetensorsFile(path);
  let saved: Partial<TrainConfig> & CheckpointConfig = {};
  try {
    saved = metadata.config ? JSON.parse(metadata.config) : {};
  } catch {
    throw new Error(`${path}: its config metadata is not JSON`);
  }
  const { model, description } = resnetFromStateDict(tensors, path, saved, archOverride);
  const { input: _input, ...config } = saved;
  return { model, config: { ...config, dataset: description.dataset as TrainConfig['dataset'] }, description };
}

export async function evalCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  if (!values.checkpoint) throw new UsageError('eval needs --checkpoint FILE');
  const { model, config } = await loadModel(values.checkpoint as string, values.arch as string | undefined);
  const cfg = resolveConfig({ ...config, ...configFromArgs({ ...values, out: 'unused' }), out: 'unused',
    dataset: (values.dataset as TrainConfig['dataset']) ?? config.dataset, dataDir: (values['data-dir'] as string) ?? config.dataDir ?? null,
    // An image folder is read as the model was trained on it, unless told otherwise.
    imageSize: values['image-size'] !== undefined ? Number(values['image-size']) : config.imageSize ?? DEFAULTS.imageSize,
    grey: (values.grey as boolean | undefined) ?? config.grey ?? false, skipBad: (values['skip-bad'] as boolean | undefined) ?? config.skipBad ?? false });
  const data = loadRunData(values.download ? await downloadForConfig(cfg, values) : cfg);
  const m = await evaluate(model, data.test, { batchSize: 256, mean: data.mean, std: data.std, trainCounts: data.trainCounts });
  process.stdout.write(JSON.stringify({ checkpoint: values.checkpoint, dataset: cfg.dataset, ...m }) + '\n');
  return 0;
}

export async function predictCommand(values: Record<string, string | boolean | undefined>, files: string[]): Promise<number> {
  if (!values.checkpoint) throw new UsageError('predict needs --checkpoint FILE');
  if (files.length === 0) throw new UsageError('predict needs at least one image (PNG, JPEG, or raw CIFAR-format records)');
  const { model, description } = await loadModel(values.checkpoint as string, values.arch as string | undefined);
  const { inChannels: c, height: h, width: w, mean, std, classNames } = description;
  const images: { name: string; pixels: Uint8Array }[] = [];
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(file));
    if (extname(file).toLowerCase() === '.png') {
      images.push({ name: file, pixels: rgbaToImage(decodePng(bytes, inflateBounded, file), c, h, w) });
      continue;
    }
    if (isJpeg(bytes) || ['.jpg', '.jpeg'].includes(extname(file).toLowerCase())) {
      images.push({ name: file, pixels: rgbaToImage(decodeJpeg(bytes, file), c, h, w) });
      continue;
    }
    // Raw CIFAR records: label byte(s) then 3072 pixel bytes.
    const record = [3073, 3074].find((r) => bytes.length > 0 && bytes.length % r === 0);
    if (c !== 3 || !record) {
      throw new Error(`${file}: neither a .png / .jpg nor whole CIFAR-10 (3,073-byte) / CIFAR-100 (3,074-byte) records (${bytes.length} bytes)`);
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
