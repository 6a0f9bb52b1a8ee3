// An image folder's epochs against a CIFAR epoch of the same images: the same N 32 x 32 RGB pictures, once as
// CIFAR-10 binary files and once as PNG files in an ImageFolder, trained by the same `train()` for 3 epochs
// (ResNet-20, batch 64, one thread). The first folder epoch follows the decoding (paid before training,
// reported apart); every later epoch works on the in-memory data set, as CIFAR's do.
// Run: npm run build:wasm && npx tsx bench/folder-epoch.bench.ts [--images N]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import * as wt from '../src/index.js';
import { resolveConfig, type TrainConfig } from '../src/train/config.js';
import { train, type EpochRecord } from '../src/train/run.js';
import { Progress } from '../src/train/progress.js';

export interface FolderEpochRow {
  data: string;
  epoch: number;
  imagesPerSec: number;
  seconds: number;
}

/** An 8-bit RGB PNG with filter 0 on every row (enough for a bench's input). */
function png(rgb: Uint8Array, w: number, h: number): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    out.set(data, 8);
    let c = 0xffffffff;
    for (const b of out.subarray(4, 8 + data.length)) c = crcTable[(c ^ b) & 255] ^ (c >>> 8);
    out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
    return out;
  };
  const raw = new Uint8Array(h * (w * 3 + 1));
  for (let y = 0; y < h; y++) raw.set(rgb.subarray(y * w * 3, (y + 1) * w * 3), y * (w * 3 + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

export async function runFolderEpochBench(
  opts: { images?: number; epochs?: number } = {},
): Promise<{ rows: FolderEpochRow[]; notes: string[] }> {
  const n = opts.images ?? 1024;
  const epochs = opts.epochs ?? 3;
  const root = mkdtempSync(join(tmpdir(), 'wasmtail-folder-epoch-'));
  const quiet = new Progress({ write: () => true, isTTY: false } as unknown as NodeJS.WriteStream);
  try {
    // The shipped Fashion-MNIST-LT's first test images, padded to 32 x 32 and tinted per class: real pictures, ten classes.
    const idx = wt.data.loadDataset('fashion-mnist', join('data', 'fashion-mnist-lt'), 'test');
    const records = new Uint8Array(n * 3073);
    const cifar = join(root, 'cifar', 'cifar-10-batches-bin');
    mkdirSync(cifar, { recursive: true });
    for (let i = 0; i < n; i++) {
      const k = i % idx.n;
      const label = idx.labels[k];
      const rgb = new Uint8Array(32 * 32 * 3);
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const v = idx.images[k * 784 + y * 28 + x];
          for (let c = 0; c < 3; c++) {
            const tinted = Math.min(255, v + 20 * ((label + c) % 3));
            rgb[((y + 2) * 32 + x + 2) * 3 + c] = tinted;
            records[i * 3073 + 1 + c * 1024 + (y + 2) * 32 + x + 2] = tinted;
          }
        }
      }
      records[i * 3073] = label;
      const dir = join(root, 'folder', i % 5 === 0 ? 'test' : 'train', `class${label}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${i}.png`), png(rgb, 32, 32));
    }
    // CIFAR: the training images in five batches and the test ones in test_batch, as the folder splits them.
    const trainRecords = [...Array(n).keys()].filter((i) => i % 5 !== 0);
    const testRecords = [...Array(n).keys()].filter((i) => i % 5 === 0);
    const gather = (ids: number[]) => Buffer.concat(ids.map((i) => records.subarray(i * 3073, (i + 1) * 3073)));
    for (let b = 0; b < 5; b++) writeFileSync(join(cifar, `data_batch_${b + 1}.bin`), gather(trainRecords.filter((_, j) => j % 5 === b)));
    writeFileSync(join(cifar, 'test_batch.bin'), gather(testRecords));
    await wt.init({ threads: 1 });
    const rows: FolderEpochRow[] = [];
    const notes: string[] = [];
    const base: Partial<TrainConfig> = { arch: 'resnet20', epochs, batch: 64, warmup: 0, loss: 'ce', threads: 1 };
    for (const [label, cfg] of [
      ['CIFAR binary', { ...base, dataset: 'cifar10', dataDir: join(root, 'cifar') }],
      ['PNG folder', { ...base, dataset: 'folder', dataDir: join(root, 'folder') }],
    ] as const) {
      const t0 = performance.now();
      const records: EpochRecord[] = [];
      await train(resolveConfig({ ...cfg, out: join(root, `out-${label.replace(/ /g, '-')}`) } as Partial<TrainConfig>), {
        progress: quiet,
        onEpoch: (r) => records.push(r),
      });
      const total = (performance.now() - t0) / 1000;
      const epochsSeconds = records.reduce((s, r) => s + r.seconds, 0);
      notes.push(
        `${label}: ${(total - epochsSeconds).toFixed(2)} s outside the epochs (loading${label.includes('PNG') ? ', decoding, caching' : ''}, plots)`,
      );
      for (const r of records)
        rows.push({ data: label, epoch: r.epoch, imagesPerSec: +r.imagesPerSec.toFixed(1), seconds: +r.seconds.toFixed(2) });
    }
    wt.shutdown();
    const later = (label: string) =>
      rows.filter((r) => r.data === label && r.epoch > 1).reduce((s, r) => s + r.imagesPerSec, 0) / (epochs - 1);
    notes.push(
      `epochs after the first, mean images/s: PNG folder / CIFAR binary = ${(later('PNG folder') / later('CIFAR binary')).toFixed(3)}`,
    );
    return { rows, notes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--images');
  const { rows, notes } = await runFolderEpochBench({ images: at > 0 ? Number(process.argv[at + 1]) : undefined });
  console.table(rows);
  for (const n of notes) console.log(n);
}
