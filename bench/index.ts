// `npm run bench`: every benchmark, each against a peer measured in the same run.
// `npm run bench -- --quick` (or WASMTAIL_BENCH_QUICK=1): a few iterations of
// each, to check that everything runs end to end; its numbers are not results.
import { gemmSummary, runGemmBench } from './gemm.bench.js';
import { inferSummary, runInferBench } from './infer.bench.js';
import { memorySummary, runMemoryBench } from './memory.bench.js';
import { runTrainBench, trainPairsSummary } from './train.bench.js';
import { runImageBench } from './images.bench.js';
import { runFolderEpochBench } from './folder-epoch.bench.js';
import { execSync } from 'node:child_process';

const quick = process.argv.includes('--quick') || process.env.WASMTAIL_BENCH_QUICK === '1';

const cpu = (() => {
  try {
    return execSync("lscpu | sed -n 's/^Model name:\\s*//p'", { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown CPU';
  }
})();
console.log(`machine: ${cpu}, Node ${process.version}${quick ? ' (--quick: smoke run, numbers are not results)' : ''}\n`);

console.log(
  'GEMM and convolution, WASM plain and relaxed SIMD, 1 and 2 threads (the peak-FMA probe as the ceiling, plain-JS matmul as the baseline):',
);
const gemm = await runGemmBench(quick ? { time: 100 } : {});
console.table(gemm);
for (const line of gemmSummary(gemm)) console.log(line);
console.log();

console.log('ResNet-32 (CIFAR, 10 classes) training, against PyTorch CPU where installed: interleaved pairs, each side a fresh process:');
const { pairs: trainPairs, notes } = await runTrainBench(quick ? { batches: [64], steps: 2, pairs: 1 } : {});
console.table(trainPairs);
for (const line of trainPairsSummary(trainPairs)) console.log(line);
for (const n of notes) console.log(n);
console.log();

console.log(
  'ResNet-32 inference (eval mode, same weights everywhere), images/s at batch 64 and latency at batch 1, against TF.js WASM, onnxruntime-node and PyTorch:',
);
const infer = await runInferBench(quick ? { runs: 3 } : {});
console.table(infer.rows);
for (const n of infer.notes) console.log(n);
for (const line of inferSummary(infer.rows)) console.log(line);
console.log();

console.log('Peak RSS of a ResNet-32 training run (batch 128, 1 and 2 threads), against PyTorch CPU where installed:');
const memory = await runMemoryBench(quick ? { steps: 2 } : {});
console.table(memory.rows);
for (const n of memory.notes) console.log(n);
for (const line of memorySummary(memory.rows)) console.log(line);
console.log();

console.log('JPEG decoding + resizing 256 x 256 -> 32 x 32 (image folders), images/s on one thread, against Pillow:');
const images = await runImageBench(quick ? { images: 8, time: 200 } : {});
console.table(images.rows);
for (const n of images.notes) console.log(n);
console.log();

console.log('Training epochs on a PNG image folder against CIFAR binary files of the same images (ResNet-20, batch 64, 1 thread):');
const folderEpochs = await runFolderEpochBench(quick ? { images: 128, epochs: 2 } : {});
console.table(folderEpochs.rows);
for (const n of folderEpochs.notes) console.log(n);
