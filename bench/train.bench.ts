// ResNet-32 training step (forward + loss + backward + SGD) and inference,
// images/s, on the WASM backend (its default build: relaxed SIMD where the
// runtime has it) on 1 and 2 threads; PyTorch CPU on 1 and 2 threads measured
// in the same run where Debian's python3-torch is installed (skipped with a
// message otherwise).
//
// Measured as interleaved pairs: ours and PyTorch, each in a fresh process
// (which goes first alternates),
// `pairs` times per batch and thread count. The shared machine's speed
// drifts by ±20 % over minutes; a pair's two halves run a few seconds apart,
// so the ratio of each pair is the number to trust, and the report is the
// median ratio over the pairs with its range.
// Run: npm run build:wasm && npx tsx bench/train.bench.ts [--pairs 5]
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as wt from '../src/index.js';
import { benchStep } from './trainerStep.js';
import { median } from './stats.js';

export interface TrainBenchRow {
  engine: string;
  what: string;
  batch: number;
  threads: number;
  imagesPerSec: number;
  msPerStep: number;
}

/** One side of a pair, in a fresh process: this file with --child prints ours() as JSON. */
function oursFresh(batch: number, threads: number, steps: number): TrainBenchRow[] {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(batch), String(threads), String(steps)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`wasmtail bench child failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function ours(batch: number, steps: number, threads: number): Promise<TrainBenchRow[]> {
  await wt.init({ threads });
  const model = wt.nn.resnet32({ numClasses: 10 });
  const x = Float32Array.from({ length: batch * 3 * 32 * 32 }, () => Math.random() * 2 - 1);
  const step = benchStep(model, x, batch);
  const train: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    await step();
    if (i >= 2) train.push(performance.now() - t0);
  }
  model.eval();
  const infer: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    wt.noGrad(() => model.forward(wt.tensor(x, [batch, 3, 32, 32])).logits.toFloat32Array());
    if (i >= 2) infer.push(performance.now() - t0);
  }
  const engine = `wasmtail (WASM ${wt.info().build})`;
  wt.shutdown();
  const row = (what: string, ms: number) => ({
    engine,
    what,
    batch,
    threads,
    imagesPerSec: +(batch / (ms / 1000)).toFixed(1),
    msPerStep: +ms.toFixed(1),
  });
  return [row('train step', median(train)), row('inference', median(infer))];
}

const TORCH = `
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, 'scripts')
from torch_resnet import ResNet
batch, threads, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
m = ResNet(5)
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=2e-4)
x = torch.randn(batch, 3, 32, 32); y = torch.arange(batch) % 10
def step():
    opt.zero_grad(); F.cross_entropy(m(x)[0], y).backward(); opt.step()
ts = []
for i in range(steps + 2):
    t0 = time.perf_counter(); step(); ts.append(time.perf_counter() - t0)
train = sorted(ts[2:])[len(ts[2:]) // 2]
m.eval(); ts = []
with torch.no_grad():
    for i in range(steps + 2):
        t0 = time.perf_counter(); m(x); ts.append(time.perf_counter() - t0)
infer = sorted(ts[2:])[len(ts[2:]) // 2]
print(train * 1000, infer * 1000, torch.__version__)
`;

function torch(batch: number, threads: number, steps: number): TrainBenchRow[] | string {
  const python = process.env.WASMTAIL_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, ['-c', TORCH, String(batch), String(threads), String(steps)], { encoding: 'utf8' });
  if (r.status !== 0)
    return `PyTorch skipped: ${python} with torch not available (${(r.stderr || String(r.error)).trim().split('\n').pop()})`;
  const [train, infer, version] = r.stdout.trim().split(' ');
  const row = (what: string, ms: number) => ({
    engine: `PyTorch ${version} CPU`,
    what,
    batch,
    threads,
    imagesPerSec: +(batch / (ms / 1000)).toFixed(1),
    msPerStep: +ms.toFixed(1),
  });
  return [row('train step', Number(train)), row('inference', Number(infer))];
}

/** One batch size and thread count: the pairs, and their median and range. */
export interface TrainPairs {
  batch: number;
  threads: number;
  /** wasmtail / PyTorch training images/s of each pair, in the order run. */
  ratios: number[];
  /** The median of the ratios and their range. */
  median: number;
  min: number;
  max: number;
  /** Median images/s of each engine over the pairs (context; the ratio is the result). */
  ours: number;
  peer: number;
  /** The same for inference at this batch size (eval mode). */
  inferRatio: number;
}

export async function runTrainBench(
  opts: { batches?: number[]; threads?: number[]; steps?: number; pairs?: number } = {},
): Promise<{ rows: TrainBenchRow[]; pairs: TrainPairs[]; notes: string[] }> {
  const rows: TrainBenchRow[] = [];
  const pairs: TrainPairs[] = [];
  const notes: string[] = [];
  const steps = opts.steps ?? 8;
  for (const batch of opts.batches ?? [64, 128]) {
    for (const threads of opts.threads ?? [1, 2]) {
      const ratios: number[] = [];
      const inferRatios: number[] = [];
      const ourRates: number[] = [];
      const peerRates: number[] = [];
      for (let p = 0; p < (opts.pairs ?? 5); p++) {
        // Which side goes first alternates, so a drift within a pair does not favour one engine.
        const first = p % 2 === 0 ? oursFresh(batch, threads, steps) : null;
        const t = torch(batch, threads, steps);
        const o = first ?? oursFresh(batch, threads, steps);
        rows.push(...o);
        if (typeof t === 'string') {
          notes.push(t);
          continue;
        }
        rows.push(...t);
        ratios.push(o[0].imagesPerSec / t[0].imagesPerSec);
        inferRatios.push(o[1].imagesPerSec / t[1].imagesPerSec);
        ourRates.push(o[0].imagesPerSec);
        peerRates.push(t[0].imagesPerSec);
      }
      if (ratios.length > 0)
        pairs.push({
          batch,
          threads,
          ratios: ratios.map((r) => +r.toFixed(3)),
          median: +median(ratios).toFixed(3),
          min: +Math.min(...ratios).toFixed(3),
          max: +Math.max(...ratios).toFixed(3),
          ours: +median(ourRates).toFixed(1),
          peer: +median(peerRates).toFixed(1),
          inferRatio: +median(inferRatios).toFixed(3),
        });
    }
  }
  return { rows, pairs, notes: [...new Set(notes)] };
}

/** "train step, batch 128, 2 threads: wasmtail / PyTorch = 1.08 (median of 5 pairs, range 0.87-1.26; 212 vs 198 images/s)". */
export function trainPairsSummary(pairs: TrainPairs[]): string[] {
  return pairs.map(
    (p) =>
      `train step, batch ${p.batch}, ${p.threads} thread${p.threads > 1 ? 's' : ''}: wasmtail / PyTorch = ${p.median.toFixed(2)} ` +
      `(median of ${p.ratios.length} interleaved pairs, range ${p.min.toFixed(2)}-${p.max.toFixed(2)}; ${p.ours} vs ${p.peer} images/s; ` +
      `inference at this batch ${p.inferRatio.toFixed(2)})`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [batch, threads, steps] = args.slice(1).map(Number);
    console.log(JSON.stringify(await ours(batch, steps, threads)));
  } else {
    const at = args.indexOf('--pairs');
    const { pairs, notes } = await runTrainBench(at >= 0 ? { pairs: Number(args[at + 1]) } : {});
    console.table(pairs);
    for (const line of trainPairsSummary(pairs)) console.log(line);
    for (const n of notes) console.log(n);
  }
}
