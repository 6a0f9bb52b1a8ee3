// `npm run bench`: every benchmark, each against a peer measured in the same run.
import { gemmSummary, runGemmBench } from './gemm.bench.js';
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

console.log('GEMM and convolution, WASM plain and relaxed SIMD, 1 and 2 threads (the peak-FMA probe as the ceiling, plain-JS matmul as the baseline):');
const gemm = await runGemmBench();
console.table(gemm);
for (const line of gemmSummary(gemm)) console.log(line);
console.log();

console.log('ResNet-32 (CIFAR, 10 classes), images/s, against PyTorch CPU where installed:');
const { rows, notes } = await runTrainBench();
console.table(rows);
for (const n of notes) console.log(n);
for (const batch of [...new Set(rows.map((r) => r.batch))]) {
  for (const threads of [1, 2]) {
    const our = rows.find((r) => r.batch === batch && r.what === 'train step' && r.engine.startsWith('wasmtail') && r.threads === threads);
    const peer = rows.find((r) => r.batch === batch && r.what === 'train step' && r.engine.startsWith('PyTorch') && r.threads === threads);
    if (our && peer) console.log(`train step, batch ${batch}, ${threads} thread${threads > 1 ? 's' : ''}: wasmtail / PyTorch = ${(our.imagesPerSec / peer.imagesPerSec).toFixed(2)}`);
  }
}
