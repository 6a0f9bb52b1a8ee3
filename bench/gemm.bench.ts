// GEMM and convolution throughput of the WASM kernels through the backend, on
// the plain and the relaxed-SIMD build, on 1 and 2 threads; measured in the
// same run: the peak-FMA probe (the ceiling, bench/peak.ts) and a plain-JS
// matmul (the baseline).
// Run: npm run build:wasm && npx tsx bench/gemm.bench.ts
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import * as wt from '../src/index.js';
import { backend } from '../src/backend/current.js';
import { convGeometry, type ConvGeometry } from '../src/backend/backend.js';
import { peakGflops } from './peak.js';

export interface GemmBenchRow {
  kernel: string;
  shape: string;
  /** 'simd128' (mul + add) or 'relaxed-simd' (fused multiply-add); '-' for plain JS. */
  build: string;
  threads: number;
  /** Median milliseconds per call (the probe: none). */
  ms: number | null;
  /** GFLOPS at the median time (the probe: its best run). */
  gflops: number;
  /** GFLOPS at the fastest call (less disturbed by other load on the machine). */
  bestGflops: number;
}

function random(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
}

/** The plain-JS baseline: i-k-j loop order (the cache-friendly one), float32 arrays. */
function matmulJs(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  c.fill(0);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j];
    }
  }
}

/**
 * ResNet-32 (CIFAR) 3x3 convolutions of each stage at batch 64, and the
 * stride-2 one that enters stage 2 (its backward input takes the col2im path).
 */
const CONV_SHAPES: ConvGeometry[] = [
  convGeometry([64, 16, 32, 32], [16, 16, 3, 3], 1, 1),
  convGeometry([64, 32, 16, 16], [32, 32, 3, 3], 1, 1),
  convGeometry([64, 64, 8, 8], [64, 64, 3, 3], 1, 1),
  convGeometry([64, 16, 32, 32], [32, 16, 3, 3], 2, 1),
];

const N = 512;

function rowsOf(bench: Bench, flops: Map<string, number>, build: string, threads: number): GemmBenchRow[] {
  return bench.tasks.map((task) => {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
    const [kernel, shape] = task.name.split('|');
    const ms = r.latency.p50,
      f = flops.get(task.name)!;
    return {
      kernel,
      shape,
      build,
      threads,
      ms: +ms.toFixed(3),
      gflops: +(f / ms / 1e6).toFixed(2),
      bestGflops: +(f / r.latency.min / 1e6).toFixed(2),
    };
  });
}

/** sgemm 512^3 and the conv shapes through the backend, for one build and thread count. */
async function kernels(simd: 'plain' | 'relaxed', threads: number, time: number, convs: boolean): Promise<GemmBenchRow[]> {
  await wt.init({ simd, threads });
  const b = backend();
  const bench = new Bench({ time, warmupTime: 200, iterations: 5 });
  const flops = new Map<string, number>();
  const add = (name: string, flopCount: number, fn: () => void) => {
    flops.set(name, flopCount);
    bench.add(name, fn);
  };
  const store = (n: number) => {
    const s = b.alloc(n);
    b.write(s, random(n));
    return s;
  };
  const pa = store(N * N),
    pb = store(N * N),
    pc = store(N * N);
  add(`sgemm|${N}x${N}x${N}`, 2 * N ** 3, () => b.gemm(false, false, N, N, N, 1, pa, pb, 0, pc));
  add(`sgemm transB|${N}x${N}x${N}`, 2 * N ** 3, () => b.gemm(false, true, N, N, N, 1, pa, pb, 0, pc));
  for (const g of convs ? CONV_SHAPES : []) {
    const xLen = g.n * g.c * g.h * g.w,
      yLen = g.n * g.oc * g.oh * g.ow,
      wLen = g.oc * g.c * g.kh * g.kw;
    const x = store(xLen),
      w = store(wLen),
      y = store(yLen),
      dx = store(xLen),
      dw = store(wLen);
    const shape = `n${g.n} ${g.c}->${g.oc} ${g.kh}x${g.kw}${g.stride > 1 ? ` s${g.stride}` : ''} @${g.h}x${g.w}`;
    const f = 2 * g.n * g.oc * g.oh * g.ow * g.c * g.kh * g.kw;
    add(`conv2dForward|${shape}`, f, () => b.conv2dForward(x, w, y, g));
    add(`conv2dBackwardInput|${shape}`, f, () => b.conv2dBackwardInput(y, w, dx, g));
    add(`conv2dBackwardFilter|${shape}`, f, () => b.conv2dBackwardFilter(x, y, dw, g));
  }
  await bench.run();
  const build = String(wt.info().build);
  wt.shutdown();
  return rowsOf(bench, flops, build, threads);
}

export async function runGemmBench(opts: { time?: number } = {}): Promise<GemmBenchRow[]> {
  const time = opts.time ?? 1000;
  const rows: GemmBenchRow[] = [];
  for (const relaxed of [false, true]) {
    for (const threads of [1, 2] as const) {
      const g = +(await peakGflops(relaxed, threads)).toFixed(2);
      rows.push({
        kernel: 'peak FMA probe',
        shape: '12 x f32x4 madd',
        build: relaxed ? 'relaxed-simd' : 'simd128',
        threads,
        ms: null,
        gflops: g,
        bestGflops: g,
      });
    }
  }
  for (const simd of ['plain', 'relaxed'] as const) {
    for (const threads of [1, 2]) rows.push(...(await kernels(simd, threads, time, true)));
  }
  const a = random(N * N),
    b = random(N * N),
    c = new Float32Array(N * N);
  const bench = new Bench({ time, warmupTime: 200, iterations: 5 });
  bench.add(`plain JS matmul|${N}x${N}x${N}`, () => matmulJs(N, N, N, a, b, c));
  await bench.run();
  rows.push(...rowsOf(bench, new Map([[`plain JS matmul|${N}x${N}x${N}`, 2 * N ** 3]]), '-', 1));
  return rows;
}

/** The issue's bars: sgemm 512^3 against the probe on one thread, and two threads against one. */
export function gemmSummary(rows: GemmBenchRow[]): string[] {
  const find = (kernel: string, build: string, threads: number) =>
    rows.find((r) => r.kernel === kernel && r.build === build && r.threads === threads);
  const out: string[] = [];
  for (const build of ['simd128', 'relaxed-simd']) {
    const peak1 = find('peak FMA probe', build, 1),
      peak2 = find('peak FMA probe', build, 2);
    const g1 = find('sgemm', build, 1),
      g2 = find('sgemm', build, 2);
    if (!peak1 || !g1 || !g2 || !peak2) continue;
    out.push(
      `${build}: sgemm ${N}^3 ${g1.gflops} GFLOPS on 1 thread = ${((100 * g1.gflops) / peak1.gflops).toFixed(0)}% of the probe's ` +
        `${peak1.gflops}; ${g2.gflops} on 2 threads = ${(g2.gflops / g1.gflops).toFixed(2)}x one thread, ` +
        `${((100 * g2.gflops) / peak2.gflops).toFixed(0)}% of the 2-thread probe's ${peak2.gflops}`,
    );
  }
  const js = rows.find((r) => r.kernel === 'plain JS matmul'),
    best = find('sgemm', 'relaxed-simd', 1);
  if (js && best) out.push(`sgemm ${N}^3 (relaxed, 1 thread): ${(best.gflops / js.gflops).toFixed(1)}x the plain-JS matmul`);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runGemmBench();
  console.table(rows);
  for (const line of gemmSummary(rows)) console.log(line);
}
