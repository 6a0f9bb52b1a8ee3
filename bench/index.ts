// `npm run bench`: every benchmark, each against a peer measured in the same run.
import { runGemmBench } from './gemm.bench.js';
import { runTrainBench } from './train.bench.js';
import { execSync } from 'node:child_process';

const cpu = (() => {
  try {
    return execSync("lscpu | sed -n 's/^Model name:\\s*//p'", { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown CPU';
  }
})();
console.log(`machine: ${cpu}, Node ${process.version}\n`);

console.log('GEMM and convolution, WASM SIMD, one thread (plain-JS matmul as the baseline):');
const gemm = await runGemmBench();
console.table(gemm);
const simd = gemm.find((r) => r.kernel === 'sgemm')!;
const js = gemm.find((r) => r.kernel === 'plain JS matmul')!;
console.log(`sgemm ${simd.shape}: ${(simd.gflops / js.gflops).toFixed(1)}x the plain-JS matmul\n`);

console.log('ResNet-32 (CIFAR, 10 classes), images/s, against PyTorch CPU where installed:');
const { rows, notes } = await runTrainBench();
console.table(rows);
for (const n of notes) console.log(n);
for (const batch of [...new Set(rows.map((r) => r.batch))]) {
  const our = rows.find((r) => r.batch === batch && r.what === 'train step' && r.engine.startsWith('wasmtail'));
  for (const threads of [1, 2]) {
    const peer = rows.find((r) => r.batch === batch && r.what === 'train step' && r.engine.startsWith('PyTorch') && r.threads === threads);
    if (our && peer) console.log(`train step, batch ${batch}: wasmtail (1 thread) / PyTorch (${threads} thread${threads > 1 ? 's' : ''}) = ${(our.imagesPerSec / peer.imagesPerSec).toFixed(2)}`);
  }
}
