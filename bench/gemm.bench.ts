// GEMM and convolution throughput of the WASM SIMD kernels (single thread),
// with a plain-JS matmul measured in the same run as the baseline.
// Run: npm run build:wasm && npx tsx bench/gemm.bench.ts
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { loadHarness } from '../test/kernels/harness.js';
import { convGeometry, type ConvGeometry } from '../src/backend/backend.js';

export interface GemmBenchRow {
  kernel: string;
  shape: string;
  /** Median milliseconds per call. */
  ms: number;
  /** GFLOPS at the median time. */
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

export async function runGemmBench(opts: { time?: number } = {}): Promise<GemmBenchRow[]> {
  const h = await loadHarness();
  const bench = new Bench({ time: opts.time ?? 1000, warmupTime: 200, iterations: 5 });
  const flops = new Map<string, number>();
  const add = (name: string, flopCount: number, fn: () => void) => {
    flops.set(name, flopCount);
    bench.add(name, fn);
  };

  const N = 512;
  const a = random(N * N), b = random(N * N), c = new Float32Array(N * N);
  const pa = h.alloc(N * N, a), pb = h.alloc(N * N, b), pc = h.alloc(N * N);
  const gemmWork = h.allocBytes(h.k.gemmWorkspaceBytes(N, N, N));
  add(`sgemm|${N}x${N}x${N}`, 2 * N ** 3, () => h.k.sgemm(0, 0, N, N, N, 1, pa, pb, 0, pc, gemmWork));
  add(`sgemm transB|${N}x${N}x${N}`, 2 * N ** 3, () => h.k.sgemm(0, 1, N, N, N, 1, pa, pb, 0, pc, gemmWork));
  add(`plain JS matmul|${N}x${N}x${N}`, 2 * N ** 3, () => matmulJs(N, N, N, a, b, c));

  for (const g of CONV_SHAPES) {
    const dims = [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow] as const;
    const xLen = g.n * g.c * g.h * g.w, yLen = g.n * g.oc * g.oh * g.ow, wLen = g.oc * g.c * g.kh * g.kw;
    const x = h.alloc(xLen, random(xLen)), w = h.alloc(wLen, random(wLen)), y = h.alloc(yLen, random(yLen));
    const dx = h.alloc(xLen), dw = h.alloc(wLen);
    const work = h.allocBytes(h.k.conv2dWorkspaceBytes(...dims));
    const shape = `n${g.n} ${g.c}->${g.oc} ${g.kh}x${g.kw}${g.stride > 1 ? ` s${g.stride}` : ''} @${g.h}x${g.w}`;
    const f = 2 * g.n * g.oc * g.oh * g.ow * g.c * g.kh * g.kw;
    add(`conv2dForward|${shape}`, f, () => h.k.conv2dForward(x, w, y, ...dims, work));
    add(`conv2dBackwardInput|${shape}`, f, () => h.k.conv2dBackwardInput(y, w, dx, ...dims, work));
    add(`conv2dBackwardFilter|${shape}`, f, () => h.k.conv2dBackwardFilter(x, y, dw, ...dims, work));
  }

  await bench.run();
  return bench.tasks.map((task) => {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
    const [kernel, shape] = task.name.split('|');
    const ms = r.latency.p50, f = flops.get(task.name)!;
    return {
      kernel, shape, ms: +ms.toFixed(3),
      gflops: +(f / ms / 1e6).toFixed(2), bestGflops: +(f / r.latency.min / 1e6).toFixed(2),
    };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runGemmBench();
  console.table(rows);
  const simd = rows.find((r) => r.kernel === 'sgemm')!, js = rows.find((r) => r.kernel === 'plain JS matmul')!;
  console.log(`sgemm ${simd.shape}: ${(simd.gflops / js.gflops).toFixed(1)}x the plain-JS matmul`);
}
