// ResNet-32 (CIFAR, 10 classes) inference in eval mode: images/s at batch 64
// and latency at batch 1, for wasmtail (1 and 2 threads) against peers
// measured in the same run: TF.js's WASM backend (the same network written
// with tfjs-core ops in NHWC, once as the plain ops and once with batch norm
// folded into fused conv2d + bias + ReLU, as a converted graph model would
// run), onnxruntime-node on an ONNX export of the PyTorch twin
// (scripts/torch_resnet.py, intra-op threads 1 and 2) and PyTorch itself.
// Every engine gets the same weights (random, with random batch-norm
// statistics), and the bench checks that they all compute the same logits,
// so a wrong peer network cannot pass as a fast one.
// Run: npm run build:wasm && npx tsx bench/infer.bench.ts [--runs N]
//   (N timed runs per row; default 20 at batch 64 and 200 at batch 1).
// wasmtail runs as wasmtail/infer's predict() does: an inference plan per
// input shape (src/nn/resnetPlan.ts).
//
// Interleaved pairs, for a busy machine (ratios only):
//   npx tsx bench/infer.bench.ts --pairs P [--threads 1,2] [--runs N]
// times wasmtail (the plan, and model.forward() as it was before plans) and
// onnxruntime-node back to back, P times per batch size and thread count,
// each turn the median of N runs, and reports the median and range of the
// per-pair ratios.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as wt from '../src/index.js';
import { ResNetInferencePlan } from '../src/nn/resnetPlan.js';

export interface InferBenchRow {
  engine: string;
  threads: number;
  batch: number;
  imagesPerSec: number;
  msPerBatch: number;
}

export type InferEngine = 'wasmtail' | 'tfjs' | 'onnxruntime' | 'pytorch';

export interface InferBenchOptions {
  batches?: number[];
  threads?: number[];
  /** Timed runs per row (the median is reported); default 20 at batch >= 16, 200 below, where one run is a few ms. */
  runs?: number;
  engines?: InferEngine[];
}

type State = Record<string, { shape: number[]; data: Float32Array }>;

const SCRIPTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'scripts');
const CHECK_BATCH = 2;
const EPS = 1e-5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function runsFor(batch: number, opts: InferBenchOptions): { warm: number; runs: number } {
  const runs = opts.runs ?? (batch >= 16 ? 20 : 200);
  return { warm: Math.max(2, Math.ceil(runs / 10)), runs };
}

async function timeMedian(fn: () => unknown, warm: number, runs: number): Promise<number> {
  for (let i = 0; i < warm; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function row(engine: string, threads: number, batch: number, ms: number): InferBenchRow {
  return { engine, threads, batch, imagesPerSec: +(batch / (ms / 1000)).toFixed(1), msPerBatch: +ms.toFixed(ms < 10 ? 2 : 1) };
}

// A seeded generator, so that a rerun benches the same weights and inputs.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomImages(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * 3 * 32 * 32 }, () => r() * 2 - 1);
}

function nchwToNhwc(x: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) y[(i * h * w + p) * c + ch] = x[(i * c + ch) * h * w + p];
  return y;
}

/**
 * wasmtail's initial weights with batch-norm statistics and affine terms made
 * random too: with the defaults (mean 0, var 1, gamma 1, beta 0) every way of
 * writing batch norm gives the same numbers, so the logit check would not see
 * a peer that gets it wrong.
 */
function benchState(model: ReturnType<typeof wt.nn.resnet32>): State {
  const r = rng(7);
  const state: State = {};
  for (const [name, t] of model.stateDict()) {
    const data = t.toFloat32Array();
    if (/(^|\.)bn\d\.(running_mean|bias)$/.test(name)) for (let i = 0; i < data.length; i++) data[i] = (r() - 0.5) * 0.4;
    if (/(^|\.)bn\d\.(running_var|weight)$/.test(name)) for (let i = 0; i < data.length; i++) data[i] = 0.5 + r();
    state[name] = { shape: [...t.shape], data };
  }
  return state;
}

interface CheckLogits {
  [engine: string]: Float32Array;
}

async function wasmtail(
  state: State | null,
  threadsList: number[],
  opts: InferBenchOptions,
): Promise<{ rows: InferBenchRow[]; state: State; check: Float32Array; notes: string[] }> {
  const rows: InferBenchRow[] = [];
  const notes: string[] = [];
  let check: Float32Array = new Float32Array(0);
  for (const threads of threadsList) {
    // Each thread count gets its own init() ... shutdown(): re-initialising in one process is supported (init() shuts the old backend down).
    await wt.init({ threads });
    const model = wt.nn.resnet32({ numClasses: 10 });
    state ??= benchState(model);
    model.loadStateDict(state);
    model.eval();
    // The logits through inference plans (what wasmtail/infer's predict() runs), one per batch size.
    const plans = new Map<number, ResNetInferencePlan>();
    const planned = (x: Float32Array, n: number) => {
      if (!plans.has(n)) plans.set(n, new ResNetInferencePlan(model, [n, 3, 32, 32]));
      return plans.get(n)!.run(x);
    };
    if (check.length === 0) check = planned(randomImages(CHECK_BATCH, 99), CHECK_BATCH);
    const info = wt.info();
    const engine = `wasmtail (WASM ${info.build})`;
    if ((info.threads as number) !== threads) notes.push(`wasmtail: asked for ${threads} threads, got ${info.threads} (no shared memory?)`);
    for (const batch of opts.batches ?? [64, 1]) {
      const x = randomImages(batch, batch);
      const { warm, runs } = runsFor(batch, opts);
      rows.push(row(engine, info.threads as number, batch, await timeMedian(() => planned(x, batch), warm, runs)));
    }
    for (const plan of plans.values()) plan.dispose();
    model.dispose();
    wt.shutdown();
  }
  return { rows, state: state!, check, notes };
}

// ---- TF.js, WASM backend --------------------------------------------------

type Tf = typeof import('@tensorflow/tfjs-core');
type T4 = import('@tensorflow/tfjs-core').Tensor4D;
type T1 = import('@tensorflow/tfjs-core').Tensor1D;
type T2 = import('@tensorflow/tfjs-core').Tensor2D;

interface TfConvBn {
  w: T4;
  mean: T1;
  variance: T1;
  offset: T1;
  scale: T1;
  foldedW: T4;
  foldedB: T1;
  stride: number;
}
interface TfNet {
  stem: TfConvBn;
  blocks: { c1: TfConvBn; c2: TfConvBn; padC: number | null }[];
  fcW: T2;
  fcB: T1;
}

function tfNet(tf: Tf, state: State): TfNet {
  const convBn = (conv: string, bn: string, stride: number): TfConvBn => {
    const {
      shape: [o, i, kh, kw],
      data,
    } = state[`${conv}.weight`];
    const g = state[`${bn}.weight`].data,
      b = state[`${bn}.bias`].data,
      m = state[`${bn}.running_mean`].data,
      v = state[`${bn}.running_var`].data;
    // OIHW (PyTorch, wasmtail) to HWIO (TF); the folded copy scales each output channel by gamma / sqrt(var + eps).
    const hwio = new Float32Array(data.length),
      folded = new Float32Array(data.length);
    for (let oc = 0; oc < o; oc++) {
      const s = g[oc] / Math.sqrt(v[oc] + EPS);
      for (let ic = 0; ic < i; ic++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) {
            const src = ((oc * i + ic) * kh + y) * kw + x,
              dst = ((y * kw + x) * i + ic) * o + oc;
            hwio[dst] = data[src];
            folded[dst] = data[src] * s;
          }
    }
    const foldedB = Float32Array.from(b, (beta, oc) => beta - (m[oc] * g[oc]) / Math.sqrt(v[oc] + EPS));
    return {
      w: tf.tensor4d(hwio, [kh, kw, i, o]),
      foldedW: tf.tensor4d(folded, [kh, kw, i, o]),
      foldedB: tf.tensor1d(foldedB),
      mean: tf.tensor1d(m),
      variance: tf.tensor1d(v),
      offset: tf.tensor1d(b),
      scale: tf.tensor1d(g),
      stride,
    };
  };
  const blocks: TfNet['blocks'] = [];
  let inPlanes = 16;
  [16, 32, 64].forEach((planes, stage) => {
    for (let j = 0; j < 5; j++) {
      const stride = j === 0 && stage > 0 ? 2 : 1;
      const p = `layer${stage + 1}.${j}`;
      blocks.push({
        c1: convBn(`${p}.conv1`, `${p}.bn1`, stride),
        c2: convBn(`${p}.conv2`, `${p}.bn2`, 1),
        padC: stride !== 1 || inPlanes !== planes ? (planes - inPlanes) / 2 : null,
      });
      inPlanes = planes;
    }
  });
  const fc = state['linear.weight'];
  return {
    stem: convBn('conv1', 'bn1', 1),
    blocks,
    fcW: tf.tensor2d(fc.data, fc.shape as [number, number]),
    fcB: tf.tensor1d(state['linear.bias'].data),
  };
}

// Option-A shortcut: x[:, ::2, ::2, :] zero-padded by padC channels on each side.
function shortcut(tf: Tf, x: T4, padC: number | null): T4 {
  if (padC === null) return x;
  return tf.pad(tf.stridedSlice(x, [0, 0, 0, 0], x.shape, [1, 2, 2, 1]) as T4, [
    [0, 0],
    [0, 0],
    [0, 0],
    [padC, padC],
  ]);
}

function tfForwardPlain(tf: Tf, net: TfNet, x: T4): T2 {
  // pad 1 (not 'same'): 'same' pads stride-2 convolutions at the bottom/right only, PyTorch's padding=1 on both sides.
  const cbn = (h: T4, c: TfConvBn) => tf.batchNorm(tf.conv2d(h, c.w, c.stride, 1), c.mean, c.variance, c.offset, c.scale, EPS);
  let h = tf.relu(cbn(x, net.stem));
  for (const b of net.blocks) {
    const o = cbn(tf.relu(cbn(h, b.c1)), b.c2);
    h = tf.relu(tf.add(o, shortcut(tf, h, b.padC))) as T4;
  }
  return tf.add(tf.matMul(tf.mean(h, [1, 2]) as T2, net.fcW, false, true), net.fcB);
}

function tfForwardFused(tf: Tf, net: TfNet, x: T4): T2 {
  const conv = (h: T4, c: TfConvBn, relu: boolean) =>
    tf.fused.conv2d({ x: h, filter: c.foldedW, strides: c.stride, pad: 1, bias: c.foldedB, activation: relu ? 'relu' : 'linear' });
  let h = conv(x, net.stem, true);
  for (const b of net.blocks) {
    // The residual add cannot go into tfjs's fused conv2d, so it stays a separate op, as in a converted model.
    const o = conv(conv(h, b.c1, true), b.c2, false);
    h = tf.relu(tf.add(o, shortcut(tf, h, b.padC))) as T4;
  }
  return tf.add(tf.matMul(tf.mean(h, [1, 2]) as T2, net.fcW, false, true), net.fcB);
}

async function tfjs(
  state: State,
  opts: InferBenchOptions,
): Promise<{ rows: InferBenchRow[]; checks: CheckLogits; notes: string[] } | string> {
  let tf: Tf, wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    tf = await import('@tensorflow/tfjs-core');
    wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error("setBackend('wasm') failed");
    await tf.ready();
  } catch (e) {
    return `TF.js skipped: @tensorflow/tfjs-core + @tensorflow/tfjs-backend-wasm not usable (${(e as Error).message.split('\n')[0]}); npm install`;
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  // The backend picks its binary from these two flags (backend_wasm.js, getPathToWasmBinary).
  const binary = simd && mt ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  const notes = [
    `TF.js ${tf.version_core} WASM backend ${wasm.version_wasm}: ${binary}, ${wasm.getThreadsCount()} thread` +
      (mt
        ? ''
        : ' (tfjs-backend-wasm turns threads off under Node: WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, so only 1-thread rows)'),
  ];
  const net = tfNet(tf, state);
  const rows: InferBenchRow[] = [];
  const checks: CheckLogits = {};
  const variants = [
    ['ops as written', tfForwardPlain],
    ['BN folded, fused conv+bias+ReLU', tfForwardFused],
  ] as const;
  const checkX = nchwToNhwc(randomImages(CHECK_BATCH, 99), CHECK_BATCH, 3, 32, 32);
  for (const [label, fwd] of variants) {
    const engine = `TF.js ${tf.version_core} WASM ${simd ? 'SIMD' : 'scalar'} (${label})`;
    const run = (x: Float32Array, n: number) => {
      const y = tf.tidy(() => fwd(tf, net, tf.tensor4d(x, [n, 32, 32, 3])));
      const out = y.dataSync();
      y.dispose();
      return out;
    };
    checks[engine] = run(checkX, CHECK_BATCH) as Float32Array;
    for (const batch of opts.batches ?? [64, 1]) {
      // NHWC data straight away: that is TF.js's native layout, and a caller would hand it that.
      const x = nchwToNhwc(randomImages(batch, batch), batch, 3, 32, 32);
      const { warm, runs } = runsFor(batch, opts);
      rows.push(row(engine, wasm.getThreadsCount(), batch, await timeMedian(() => run(x, batch), warm, runs)));
    }
  }
  tf.disposeVariables();
  tf.engine().reset();
  return { rows, checks, notes };
}

// ---- PyTorch: ONNX export for onnxruntime, and its own timings -------------

const TORCH = `
import json, os, statistics, sys, time, warnings
warnings.filterwarnings('ignore')
import torch
sys.path.insert(0, sys.argv[1])
from torch_resnet import ResNet
d = sys.argv[2]
batches, threads, runs_override = json.loads(sys.argv[3]), json.loads(sys.argv[4]), int(sys.argv[5])
time_it = sys.argv[6] == '1'
manifest = json.load(open(os.path.join(d, 'weights.json')))
blob = open(os.path.join(d, 'weights.bin'), 'rb').read()
sd = {e['name']: torch.frombuffer(bytearray(blob[e['offset']:e['offset'] + 4 * e['numel']]), dtype=torch.float32).reshape(e['shape']) for e in manifest}
m = ResNet(5)
res = m.load_state_dict(sd, strict=False)
assert not res.unexpected_keys and all(k.endswith('num_batches_tracked') for k in res.missing_keys), res
m.eval()
x = torch.frombuffer(bytearray(open(os.path.join(d, 'check.bin'), 'rb').read()), dtype=torch.float32).reshape(-1, 3, 32, 32)
with torch.no_grad():
    open(os.path.join(d, 'torch-check.bin'), 'wb').write(m(x)[0].contiguous().numpy().tobytes())
torch.onnx.export(m, x, os.path.join(d, 'resnet32.onnx'), input_names=['x'], output_names=['logits', 'features'],
                  dynamic_axes={'x': {0: 'n'}, 'logits': {0: 'n'}, 'features': {0: 'n'}}, opset_version=13)
rows = []
if time_it:
    with torch.no_grad():
        for t in threads:
            torch.set_num_threads(t)
            for b in batches:
                runs = runs_override or (20 if b >= 16 else 200)
                xb = torch.randn(b, 3, 32, 32)
                for _ in range(max(2, -(-runs // 10))): m(xb)
                ts = []
                for _ in range(runs):
                    t0 = time.perf_counter(); m(xb)[0].numpy(); ts.append(time.perf_counter() - t0)
                rows.append({'threads': t, 'batch': b, 'ms': sorted(ts)[len(ts) // 2] * 1000})
print(json.dumps({'version': torch.__version__, 'rows': rows}))
`;

function writeState(dir: string, state: State): void {
  let offset = 0;
  const manifest = Object.entries(state).map(([name, { shape, data }]) => {
    const e = { name, shape, offset, numel: data.length };
    offset += data.byteLength;
    return e;
  });
  const blob = new Uint8Array(offset);
  for (const e of manifest)
    blob.set(new Uint8Array(state[e.name].data.buffer, state[e.name].data.byteOffset, state[e.name].data.byteLength), e.offset);
  writeFileSync(join(dir, 'weights.bin'), blob);
  writeFileSync(join(dir, 'weights.json'), JSON.stringify(manifest));
  const x = randomImages(CHECK_BATCH, 99);
  writeFileSync(join(dir, 'check.bin'), new Uint8Array(x.buffer));
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function torch(
  dir: string,
  threadsList: number[],
  opts: InferBenchOptions,
  timeIt: boolean,
): { version: string; rows: InferBenchRow[]; check: Float32Array } | string {
  const python = process.env.WASMTAIL_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(
    python,
    [
      '-c',
      TORCH,
      SCRIPTS,
      dir,
      JSON.stringify(opts.batches ?? [64, 1]),
      JSON.stringify(threadsList),
      String(opts.runs ?? 0),
      timeIt ? '1' : '0',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0)
    return `${python} with torch not available or the ONNX export failed (${(r.stderr || String(r.error)).trim().split('\n').pop()})`;
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { version: string; rows: { threads: number; batch: number; ms: number }[] };
  const engine = `PyTorch ${out.version} CPU (eager)`;
  return {
    version: out.version,
    rows: out.rows.map((x) => row(engine, x.threads, x.batch, x.ms)),
    check: readF32(join(dir, 'torch-check.bin')),
  };
}

/** An onnxruntime-node session on the exported ResNet-32 with `threads` intra-op threads. */
function ortSession(ort: typeof import('onnxruntime-node'), dir: string, threads: number) {
  // 'all' is onnxruntime's default level: it folds batch norm into the convolutions and fuses the ReLUs.
  return ort.InferenceSession.create(join(dir, 'resnet32.onnx'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
}

async function onnxruntime(
  dir: string,
  threadsList: number[],
  opts: InferBenchOptions,
  torchVersion: string,
): Promise<{ rows: InferBenchRow[]; check: Float32Array; notes: string[] } | string> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    return `onnxruntime-node skipped: not installed (${(e as Error).message.split('\n')[0]}); npm install`;
  }
  const rows: InferBenchRow[] = [];
  let check: Float32Array = new Float32Array(0);
  const version = ort.env.versions?.node ?? '?';
  const engine = `onnxruntime-node ${version} CPU EP`;
  for (const threads of threadsList) {
    const session = await ortSession(ort, dir, threads);
    const run = async (x: Float32Array, n: number) =>
      (await session.run({ x: new ort.Tensor('float32', x, [n, 3, 32, 32]) })).logits.data as Float32Array;
    if (check.length === 0) check = await run(randomImages(CHECK_BATCH, 99), CHECK_BATCH);
    for (const batch of opts.batches ?? [64, 1]) {
      const x = randomImages(batch, batch);
      const { warm, runs } = runsFor(batch, opts);
      rows.push(row(engine, threads, batch, await timeMedian(() => run(x, batch), warm, runs)));
    }
    await session.release();
  }
  return {
    rows,
    check,
    notes: [
      `onnxruntime-node ${version}: ResNet-32 exported by torch.onnx.export (PyTorch ${torchVersion}, opset 13, dynamic batch axis) from scripts/torch_resnet.py's ResNet(5) with the bench's weights; intraOpNumThreads = threads, sequential execution, graph optimisation 'all'`,
    ],
  };
}

function compare(name: string, got: Float32Array, ref: Float32Array): string {
  if (got.length !== ref.length)
    return `logit check: ${name} returned ${got.length} logits for the check batch, wasmtail ${ref.length}: MISMATCH`;
  let diff = 0,
    scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  // f32 through 33 layers in different summation orders: agreement to 1e-4 of the logits' scale is the same network (seen: ~1e-6).
  const ok = diff <= 1e-4 * Math.max(scale, 1);
  return `logit check: ${name} vs wasmtail, max |diff| ${diff.toExponential(1)} (max |logit| ${scale.toFixed(2)})${ok ? '' : ': MISMATCH, not the same network'}`;
}

export async function runInferBench(opts: InferBenchOptions = {}): Promise<{ rows: InferBenchRow[]; notes: string[] }> {
  const engines = new Set(opts.engines ?? ['wasmtail', 'tfjs', 'onnxruntime', 'pytorch']);
  const threadsList = opts.threads ?? [1, 2];
  const rows: InferBenchRow[] = [];
  const notes: string[] = [];
  // wasmtail always runs its check forward: it makes the shared weights and the reference logits.
  const ours = await wasmtail(null, engines.has('wasmtail') ? threadsList : [1], engines.has('wasmtail') ? opts : { ...opts, batches: [] });
  rows.push(...ours.rows);
  notes.push(...ours.notes);
  if (engines.has('tfjs')) {
    const t = await tfjs(ours.state, opts);
    if (typeof t === 'string') notes.push(t);
    else {
      rows.push(...t.rows);
      notes.push(...t.notes, ...Object.entries(t.checks).map(([name, l]) => compare(name, l, ours.check)));
    }
  }
  if (engines.has('onnxruntime') || engines.has('pytorch')) {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-infer-'));
    try {
      writeState(dir, ours.state);
      const pt = torch(dir, threadsList, opts, engines.has('pytorch'));
      if (typeof pt === 'string') notes.push(`PyTorch and onnxruntime-node skipped: ${pt}`);
      else {
        rows.push(...pt.rows);
        notes.push(compare(`PyTorch ${pt.version}`, pt.check, ours.check));
        if (engines.has('onnxruntime')) {
          const o = await onnxruntime(dir, threadsList, opts, pt.version);
          if (typeof o === 'string') notes.push(o);
          else {
            rows.push(...o.rows);
            notes.push(...o.notes, compare('onnxruntime-node', o.check, ours.check));
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { rows, notes };
}

/** The comparisons issue #4 asks for: wasmtail over each peer at the same batch and threads, and batch-1 latency. */
export function inferSummary(rows: InferBenchRow[]): string[] {
  const find = (prefix: string, batch: number, threads: number, variant = '') =>
    rows.find((r) => r.engine.startsWith(prefix) && r.engine.includes(variant) && r.batch === batch && r.threads === threads);
  const out: string[] = [];
  for (const threads of [1, 2]) {
    const our = find('wasmtail', 64, threads);
    if (!our) continue;
    const peers = [
      find('TF.js', 64, threads, 'ops as written'),
      find('TF.js', 64, threads, 'fused'),
      find('onnxruntime', 64, threads),
      find('PyTorch', 64, threads),
    ];
    for (const p of peers) {
      if (p)
        out.push(
          `inference, batch 64, ${threads} thread${threads > 1 ? 's' : ''}: wasmtail / ${p.engine} = ${(our.imagesPerSec / p.imagesPerSec).toFixed(2)} (${our.imagesPerSec} vs ${p.imagesPerSec} images/s)`,
        );
    }
  }
  const lat = rows.filter((r) => r.batch === 1);
  if (lat.length) out.push(`batch-1 latency (ms, median): ${lat.map((r) => `${r.engine} ${r.threads}t ${r.msPerBatch}`).join('; ')}`);
  return out;
}

export interface InferPairsOptions {
  /** Pairs per batch size and thread count (default 7). */
  pairs?: number;
  threads?: number[];
  batches?: number[];
  /** Runs per turn, its median kept (default 50 at batch 1, 5 at batch >= 16). */
  runs?: number;
}

function spread(xs: number[]): string {
  return `${median(xs).toFixed(2)} (range ${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
}

/**
 * wasmtail against onnxruntime-node in turns, for a machine too busy for
 * absolute times: per pair, each contender's median of `runs` runs, the
 * order alternating between pairs; the per-pair ratios' median and range.
 */
export async function runInferPairs(opts: InferPairsOptions = {}): Promise<string[]> {
  const pairs = opts.pairs ?? 7;
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    return [`onnxruntime-node not installed (${(e as Error).message.split('\n')[0]}); npm install`];
  }
  await wt.init({ threads: 1 });
  const state = benchState(wt.nn.resnet32({ numClasses: 10 }));
  const dir = mkdtempSync(join(tmpdir(), 'wasmtail-infer-'));
  const lines: string[] = [];
  try {
    writeState(dir, state);
    const pt = torch(dir, [1], { batches: [] }, false);
    if (typeof pt === 'string') return [`no ONNX model: ${pt}`];
    for (const threads of opts.threads ?? [1]) {
      await wt.init({ threads });
      const model = wt.nn.resnet32({ numClasses: 10 });
      model.loadStateDict(state);
      model.eval();
      const session = await ortSession(ort, dir, threads);
      for (const batch of opts.batches ?? [1, 64]) {
        const x = randomImages(batch, batch);
        const plan = new ResNetInferencePlan(model, [batch, 3, 32, 32]);
        const contenders: Record<'plan' | 'forward' | 'ort', () => unknown> = {
          plan: () => plan.run(x),
          forward: () => wt.noGrad(() => model.forward(wt.tensor(x, [batch, 3, 32, 32])).logits.toFloat32Array()),
          ort: async () => (await session.run({ x: new ort.Tensor('float32', x, [batch, 3, 32, 32]) })).logits.data,
        };
        lines.push(compare(`onnxruntime-node at batch ${batch}`, (await contenders.ort()) as Float32Array, plan.run(x)));
        const runs = opts.runs ?? (batch >= 16 ? 5 : 50);
        // Wall time (median run of a turn) and, less disturbed by other processes taking the CPU, this process's CPU time
        // per run (all its threads: a latency only at 1 thread).
        const ms: Record<keyof typeof contenders, number[]> = { plan: [], forward: [], ort: [] };
        const cpuMs: Record<keyof typeof contenders, number[]> = { plan: [], forward: [], ort: [] };
        const order = Object.keys(contenders) as (keyof typeof contenders)[];
        for (const k of order) await timeMedian(contenders[k], Math.max(2, runs), 0);
        for (let p = 0; p < pairs; p++) {
          for (const k of p % 2 ? [...order].reverse() : order) {
            const cpu = process.cpuUsage();
            ms[k].push(await timeMedian(contenders[k], 0, runs));
            const used = process.cpuUsage(cpu);
            cpuMs[k].push((used.user + used.system) / 1000 / runs);
          }
        }
        const ratio = (a: number[], b: number[]) => a.map((v, i) => v / b[i]);
        const label = `batch ${batch}, ${wt.info().threads} thread${threads > 1 ? 's' : ''}, ${pairs} interleaved turns of ${runs} runs`;
        for (const [what, t] of [
          ['wall', ms],
          ['CPU', cpuMs],
        ] as const) {
          lines.push(
            `${label}, ${what} time: speed wasmtail plan / onnxruntime ${spread(ratio(t.ort, t.plan))}; ` +
              `model.forward() / onnxruntime ${spread(ratio(t.ort, t.forward))}; plan / model.forward() ${spread(ratio(t.forward, t.plan))}; ` +
              `medians (busy machine: not comparable across runs) plan ${median(t.plan).toFixed(2)} ms, forward ${median(t.forward).toFixed(2)}, onnxruntime ${median(t.ort).toFixed(2)}`,
          );
        }
        plan.dispose();
      }
      await session.release();
      model.dispose();
    }
  } finally {
    wt.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flag = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const runs = flag('--runs') === undefined ? undefined : Number(flag('--runs'));
  if (flag('--pairs') !== undefined) {
    const threads = flag('--threads')?.split(',').map(Number);
    for (const l of await runInferPairs({ pairs: Number(flag('--pairs')), threads, runs })) console.log(l);
  } else {
    const { rows, notes } = await runInferBench({ runs });
    console.table(rows);
    for (const n of notes) console.log(n);
    for (const l of inferSummary(rows)) console.log(l);
  }
}
