// Peak resident memory of a ResNet-32 (CIFAR, 10 classes) training run:
// batch 128, SGD with momentum, a few steps, on 1 and on 2 threads (threads add
// their own scratch), for wasmtail and for PyTorch CPU (Debian's python3-torch,
// skipped with a message where absent).
// Each engine runs in a child process of its own, so that the peak is that
// run's alone and not this process's (or another engine's) high-water mark.
// The peak is VmHWM from /proc/self/status, not getrusage's ru_maxrss: Linux
// carries ru_maxrss across fork + exec, so a child would report at least the
// RSS of the bench process that spawned it (seen: 400 MiB for a bare `node -e`
// spawned by a 400 MiB parent). Elsewhere it falls back to ru_maxrss.
// Run: npm run build:wasm && npx tsx bench/memory.bench.ts [--steps N]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, resolve } from 'node:path';

export interface MemoryBenchRow {
  engine: string;
  threads: number;
  /** Peak RSS of the whole process over the run (VmHWM). */
  peakRssMiB: number;
  /** Peak RSS once the engine is imported, before any model exists: the runtime's own share of the peak (Node + tsx, or Python + torch). */
  startRssMiB: number;
  /** wasmtail's WebAssembly linear memory at the end; it only grows, so this is its peak. */
  wasmMemoryMiB?: number;
  /** Mean over all steps, the first (cold) one included: a sanity figure, not a speed result (bench/train.bench.ts is). */
  msPerStep: number;
}

export interface MemoryBenchOptions {
  batch?: number;
  steps?: number;
  threads?: number[];
}

const THIS_FILE = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(THIS_FILE), '..');
const SCRIPTS = resolve(ROOT, 'scripts');
const mib = (kib: number) => +(kib / 1024).toFixed(1);

/** This process's peak RSS in KiB. */
function peakKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // no procfs: not Linux
  }
  return process.resourceUsage().maxRSS;
}

interface ChildResult {
  engine: string;
  threads: number;
  startKiB: number;
  peakKiB: number;
  wasmBytes?: number;
  msPerStep: number;
}

/** The wasmtail side, run as `node --import tsx bench/memory.bench.ts --child BATCH STEPS THREADS`. */
async function child(batch: number, steps: number, threads: number): Promise<void> {
  const wt = await import('../src/index.js');
  const startKiB = peakKiB();
  await wt.init({ threads });
  const { benchStep } = await import('./trainerStep.js');
  const step = benchStep(
    wt.nn.resnet32({ numClasses: 10 }),
    Float32Array.from({ length: batch * 3 * 32 * 32 }, () => Math.random() * 2 - 1),
    batch,
  );
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const msPerStep = (performance.now() - t0) / steps;
  const info = wt.info();
  const result: ChildResult = {
    engine: `wasmtail (WASM ${info.build}, Node ${process.version})`,
    threads,
    startKiB,
    peakKiB: peakKiB(),
    wasmBytes: info.memoryBytes as number,
    msPerStep,
  };
  wt.shutdown();
  console.log(JSON.stringify(result));
}

const TORCH = `
import json, resource, sys, time
import torch, torch.nn.functional as F
sys.path.insert(0, sys.argv[1])
from torch_resnet import ResNet
batch, steps, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def peak_kib():
    try:
        return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1])
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = peak_kib()
torch.set_num_threads(threads)
m = ResNet(5)
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=2e-4)
x = torch.rand(batch, 3, 32, 32) * 2 - 1; y = torch.arange(batch) % 10
t0 = time.perf_counter()
for i in range(steps):
    opt.zero_grad(); F.cross_entropy(m(x)[0], y).backward(); opt.step()
ms = (time.perf_counter() - t0) / steps * 1000
print(json.dumps({'engine': 'PyTorch %s CPU (Python %d.%d)' % ((torch.__version__,) + sys.version_info[:2]), 'threads': threads,
                  'startKiB': start, 'peakKiB': peak_kib(), 'msPerStep': ms}))
`;

function parse(r: ReturnType<typeof spawnSync>): ChildResult {
  return JSON.parse(String(r.stdout).trim().split('\n').pop()!) as ChildResult;
}

function toRow(c: ChildResult): MemoryBenchRow {
  return {
    engine: c.engine,
    threads: c.threads,
    peakRssMiB: mib(c.peakKiB),
    startRssMiB: mib(c.startKiB),
    ...(c.wasmBytes !== undefined ? { wasmMemoryMiB: mib(c.wasmBytes / 1024) } : {}),
    msPerStep: +c.msPerStep.toFixed(1),
  };
}

export async function runMemoryBench(opts: MemoryBenchOptions = {}): Promise<{ rows: MemoryBenchRow[]; notes: string[] }> {
  const batch = opts.batch ?? 128,
    steps = opts.steps ?? 6,
    threadCounts = opts.threads ?? [1, 2];
  const rows: MemoryBenchRow[] = [];
  const notes: string[] = [
    `training ResNet-32, batch ${batch}, ${steps} SGD steps, each engine and thread count in a fresh process; peak = its VmHWM (/proc/self/status)`,
  ];
  const python = process.env.WASMTAIL_PYTHON ?? '/usr/bin/python3';
  let torchMissing = false;
  for (const threads of threadCounts) {
    // tsx's loader runs in the child too, so startRssMiB shows what Node + tsx cost before wasmtail allocates anything.
    const ours = spawnSync(process.execPath, ['--import', 'tsx', THIS_FILE, '--child', String(batch), String(steps), String(threads)], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (ours.status !== 0) throw new Error(`wasmtail memory child failed:\n${ours.stderr}`);
    rows.push(toRow(parse(ours)));
    if (torchMissing) continue;
    const pt = spawnSync(python, ['-c', TORCH, SCRIPTS, String(batch), String(steps), String(threads)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (pt.status !== 0) {
      torchMissing = true;
      notes.push(`PyTorch skipped: ${python} with torch not available (${(pt.stderr || String(pt.error)).trim().split('\n').pop()})`);
    } else rows.push(toRow(parse(pt)));
  }
  return { rows, notes };
}

function rowOf(rows: MemoryBenchRow[], engine: 'wasmtail' | 'PyTorch', threads: number): MemoryBenchRow | undefined {
  return rows.find((r) => r.engine.startsWith(engine) && r.threads === threads);
}

export function memorySummary(rows: MemoryBenchRow[]): string[] {
  const lines: string[] = [];
  for (const threads of [...new Set(rows.map((r) => r.threads))]) {
    const our = rowOf(rows, 'wasmtail', threads),
      torch = rowOf(rows, 'PyTorch', threads);
    if (!our || !torch) continue;
    lines.push(
      `peak RSS, training, ${threads} thread${threads > 1 ? 's' : ''}: wasmtail / PyTorch = ${(our.peakRssMiB / torch.peakRssMiB).toFixed(2)} (${our.peakRssMiB} vs ${torch.peakRssMiB} MiB); ` +
        `above each runtime's start: ${(our.peakRssMiB - our.startRssMiB).toFixed(1)} vs ${(torch.peakRssMiB - torch.startRssMiB).toFixed(1)} MiB`,
    );
  }
  const one = rowOf(rows, 'wasmtail', 1),
    two = rowOf(rows, 'wasmtail', 2);
  if (one && two)
    lines.push(
      `wasmtail's second thread adds ${(two.peakRssMiB - one.peakRssMiB).toFixed(1)} MiB of peak RSS (WASM memory ${one.wasmMemoryMiB} -> ${two.wasmMemoryMiB} MiB)`,
    );
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--child') {
    await child(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 1));
  } else {
    const i = process.argv.indexOf('--steps');
    const { rows, notes } = await runMemoryBench(i > 0 ? { steps: Number(process.argv[i + 1]) } : {});
    console.table(rows);
    for (const n of notes) console.log(n);
    for (const l of memorySummary(rows)) console.log(l);
  }
}
