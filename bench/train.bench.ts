// ResNet-32 training step (forward + loss + backward + SGD) and inference,
// images/s, on the WASM backend (its default build: relaxed SIMD where the
// runtime has it) on 1 and 2 threads; PyTorch CPU on 1 and 2 threads measured
// in the same run where Debian's python3-torch is installed (skipped with a
// message otherwise).
// Run: npm run build:wasm && npx tsx bench/train.bench.ts
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as wt from '../src/index.js';
import { benchStep } from './trainerStep.js';

export interface TrainBenchRow {
  engine: string;
  what: string;
  batch: number;
  threads: number;
  imagesPerSec: number;
  msPerStep: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
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

export async function runTrainBench(
  opts: { batches?: number[]; steps?: number } = {},
): Promise<{ rows: TrainBenchRow[]; notes: string[] }> {
  const rows: TrainBenchRow[] = [];
  const notes: string[] = [];
  for (const batch of opts.batches ?? [64, 128]) {
    for (const threads of [1, 2]) {
      rows.push(...(await ours(batch, opts.steps ?? 8, threads)));
      const t = torch(batch, threads, opts.steps ?? 8);
      if (typeof t === 'string') notes.push(t);
      else rows.push(...t);
    }
  }
  return { rows, notes: [...new Set(notes)] };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rows, notes } = await runTrainBench();
  console.table(rows);
  for (const n of notes) console.log(n);
}
