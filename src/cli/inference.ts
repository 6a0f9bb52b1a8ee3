// `wasmtail eval` and `wasmtail predict`: a checkpoint against a test set or image files.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { loadSafetensorsFile, readError } from '../io/files.js';
import type { CifarResNet } from '../nn/resnet.js';
import { resnetFromStateDict, type CheckpointConfig, type ModelDescription } from '../nn/fromStateDict.js';
import { decodePng, rgbaToImage } from '../data/png.js';
import { inflateBounded } from '../data/decompress.js';
import { decodeJpeg, isJpeg } from '../data/jpeg.js';
import { normalize } from '../data/augment.js';
import { resolveConfig, type TrainConfig } from '../train/config.js';
import { loadRunData, type RunData } from '../train/data.js';
import { metadataJson } from '../train/checkpoint.js';
import { evaluate } from '../train/evaluate.js';
import { noGrad } from '../autograd/node.js';
import { tensor } from '../tensor.js';
import { UsageError, explicitConfig } from './main.js';
import { downloadForConfig } from './fetch.js';

interface LoadedModel {
  model: CifarResNet;
  /** The configuration the checkpoint was trained with (empty for a checkpoint without one, e.g. PyTorch's). */
  config: Partial<TrainConfig>;
  description: ModelDescription;
}

/**
 * A checkpoint's model and what it was trained on; --dataset and --arch
 * override the saved (or, for a checkpoint without config, guessed) ones.
 * Broken config metadata and non-finite weights are refused naming the file.
 */
async function loadModel(path: string, values: Record<string, string | boolean | undefined>): Promise<LoadedModel> {
  const { tensors, metadata } = await loadSafetensorsFile(path);
  const saved =
    metadata.config === undefined ? {} : metadataJson<Partial<TrainConfig>>(path, metadata, 'config', 'the training configuration');
  const { dataset } = explicitConfig({ dataset: values.dataset });
  const { model, description } = resnetFromStateDict(
    tensors,
    path,
    // A data set named on the command line brings its own class names and normalisation in place of the recorded input.
    dataset ? { ...saved, dataset, input: undefined } : saved,
    values.arch as string | undefined,
  );
  // The recorded input (class names, size, normalisation) lives in the description; the rest is a training configuration.
  const { input: _input, ...config } = saved as Partial<TrainConfig> & CheckpointConfig;
  return { model, config: { ...config, dataset: description.dataset as TrainConfig['dataset'] }, description };
}

/**
 * Refuses data the model cannot be evaluated on, naming both values: the
 * class count, channels and image size must be those the checkpoint was
 * trained with (a 10-class head read as 100 classes is garbage).
 */
function checkModelFitsData(checkpoint: string, d: ModelDescription, data: RunData, dataset: string): void {
  const ds = data.test;
  const refuse = (why: string) => {
    throw new Error(`${checkpoint}: ${why} (choose the data set it was trained on with --dataset / --data-dir)`);
  };
  if (d.numClasses !== ds.numClasses) refuse(`the model has ${d.numClasses} classes but ${dataset} has ${ds.numClasses}`);
  if (d.inChannels !== ds.c) refuse(`the model takes ${d.inChannels}-channel images but ${dataset} has ${ds.c}-channel images`);
  if (d.height !== ds.h || d.width !== ds.w)
    refuse(`the model takes ${d.height}x${d.width} images but ${dataset} has ${ds.h}x${ds.w} images`);
}

/**
 * `eval`: the checkpoint's own data set, subset (--imb, --seed, --limit-train
 * decide the many / medium / few groups), test limit and data folder, from the
 * configuration saved in it; a flag given on the command line overrides its
 * setting.
 */
export async function evalCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  if (!values.checkpoint) throw new UsageError('eval needs --checkpoint FILE');
  const checkpoint = values.checkpoint as string;
  const { model, config, description } = await loadModel(checkpoint, values);
  const cfg = resolveConfig({ ...config, ...explicitConfig(values), out: 'unused', threads: null });
  const data = loadRunData(values.download ? await downloadForConfig(cfg, values) : cfg);
  checkModelFitsData(checkpoint, description, data, cfg.dataset);
  const m = await evaluate(model, data.test, {
    batchSize: 256,
    mean: description.mean,
    std: description.std,
    trainCounts: data.trainCounts,
    // The checkpoint's own tau unless --posthoc-tau re-scores with another.
    posthocTau: cfg.posthocTau,
  });
  process.stdout.write(JSON.stringify({ checkpoint, dataset: cfg.dataset, classNames: data.test.classNames, ...m }) + '\n');
  return 0;
}

export async function predictCommand(values: Record<string, string | boolean | undefined>, files: string[]): Promise<number> {
  if (!values.checkpoint) throw new UsageError('predict needs --checkpoint FILE');
  if (files.length === 0) throw new UsageError('predict needs at least one image (PNG, JPEG, or raw CIFAR-format records)');
  const { model, description } = await loadModel(values.checkpoint as string, values);
  const { inChannels: c, height: h, width: w, mean, std, classNames } = description;
  const images: { name: string; pixels: Uint8Array }[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (e) {
      throw new Error(`${file}: cannot be read (${readError(e)})`);
    }
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
      throw new Error(
        `${file}: neither a .png / .jpg nor whole CIFAR-10 (3,073-byte) / CIFAR-100 (3,074-byte) records (${bytes.length} bytes)`,
      );
    }
    for (let i = 0; i < bytes.length / record; i++) {
      images.push({ name: `${file}#${i}`, pixels: bytes.subarray(i * record + record - 3072, (i + 1) * record) });
    }
  }
  const x = new Float32Array(images.length * c * h * w);
  images.forEach((img, i) => {
    x.set(normalize(img.pixels, { c, h, w }, mean, std), i * c * h * w);
  });
  const logits = await noGrad(() => model.forward(tensor(x, [images.length, c, h, w])).logits).data();
  const C = classNames.length;
  images.forEach((img, i) => {
    const z = logits.subarray(i * C, (i + 1) * C);
    const bad = z.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${img.name}: the model's logit for class ${bad} is ${z[bad]}; no probabilities can be given`);
    const max = Math.max(...z);
    const e = Array.from(z, (v) => Math.exp(v - max));
    const total = e.reduce((a, b) => a + b, 0);
    const probs = e.map((v) => v / total);
    const top = probs.indexOf(Math.max(...probs));
    process.stdout.write(
      JSON.stringify({
        image: img.name,
        class: top,
        name: classNames[top],
        probability: probs[top],
        probabilities: Object.fromEntries(classNames.map((n, j) => [n, Number(probs[j].toFixed(6))])),
      }) + '\n',
    );
  });
  return 0;
}
