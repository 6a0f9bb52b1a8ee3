/**
 * Checkpoints: a safetensors file whose tensors are exactly the model's state
 * dict under PyTorch's names (so it loads into the same PyTorch model with
 * strict=True), and whose metadata holds what a run needs to resume exactly:
 * the config, the epoch, the optimiser's momentum buffers, the batch RNG
 * state, and the metrics so far.
 */
import { backend } from '../backend/current.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../io/files.js';
import type { TensorToSave } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import { checkFiniteTensors } from '../nn/fromStateDict.js';
import type { SGD } from '../optim/sgd.js';
import { tensor } from '../tensor.js';

function toBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function fromBase64(text: string, length: number, what: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== length * 4) throw new Error(`checkpoint: ${what} holds ${bytes.byteLength / 4} values, expected ${length}`);
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export async function modelTensors(model: Module): Promise<Map<string, TensorToSave>> {
  const out = new Map<string, TensorToSave>();
  for (const [name, t] of model.stateDict()) out.set(name, { shape: t.shape, data: await t.data() });
  return out;
}

export interface ResumeState {
  epoch: number;
  extra: Record<string, string>;
}

export async function saveCheckpoint(path: string, model: Module, opt: SGD | null, meta: Record<string, string>): Promise<void> {
  const metadata: Record<string, string> = { format: 'wasmtail-checkpoint-1', ...meta };
  if (opt) {
    const names = [...model.namedParameters()].map(([n]) => n);
    const buffers: Record<string, string> = {};
    for (const [i, b] of opt.momentumBuffers.entries()) {
      if (b) buffers[names[i]] = toBase64(await b.data());
    }
    metadata.optimizer = JSON.stringify({
      lr: opt.lr,
      momentum: opt.momentum,
      weightDecay: opt.weightDecay,
      nesterov: opt.nesterov,
      buffers,
    });
  }
  await saveSafetensorsFile(path, await modelTensors(model), metadata);
}

/**
 * A JSON value from a checkpoint's metadata; a missing key or broken JSON is
 * refused naming the file, the key, and what it is for.
 */
export function metadataJson<T>(path: string, metadata: Record<string, string>, key: string, what: string): T {
  const text = metadata[key];
  if (text === undefined) {
    throw new Error(`${path}: has no '${key}' metadata (${what}); it was not written by wasmtail train, or by an older version`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: its '${key}' metadata (${what}) is not valid JSON (${(e as Error).message})`);
  }
}

/** Loads weights (and, given an optimiser, its momentum buffers); returns the metadata. Non-finite values are refused. */
export async function loadCheckpoint(path: string, model: Module, opt: SGD | null = null): Promise<Record<string, string>> {
  const { tensors, metadata } = await loadSafetensorsFile(path);
  checkFiniteTensors(tensors, path);
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message.replace(/^wasmtail: /, '')}`);
  }
  if (opt && metadata.optimizer) {
    const state = metadataJson<{ lr: number; buffers: Record<string, string> }>(path, metadata, 'optimizer', 'the momentum buffers');
    const params = [...model.namedParameters()];
    params.forEach(([name, p], i) => {
      const text = state.buffers[name];
      if (text === undefined) return;
      const values = fromBase64(text, p.size, `momentum buffer of ${name}`);
      checkFiniteTensors(new Map([[`the momentum buffer of ${name}`, { data: values }]]), path);
      const existing = opt.momentumBuffers[i];
      if (existing) backend().write(existing.storage, values);
      else opt.momentumBuffers[i] = tensor(values, p.shape).keep();
    });
    opt.lr = state.lr;
  }
  return metadata;
}
