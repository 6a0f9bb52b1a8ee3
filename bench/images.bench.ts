// Decoding + resizing 256 x 256 JPEGs to 32 x 32 RGB (what `--dataset folder` does once per image before
// its cache exists): images/s on one thread for wasmtail (jpeg-js + src/data/resize.ts) against Pillow in
// the same run (Image.open + convert('RGB') + resize BOX, one thread), on the same files, held in memory.
// Run: npx tsx bench/images.bench.ts [--images N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { decodeJpeg } from '../src/data/jpeg.js';
import { rgbaToImage } from '../src/data/png.js';

export interface ImageBenchRow {
  engine: string;
  imagesPerSec: number;
  msPerImage: number;
}

const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import PIL, numpy'], { stdio: 'ignore' }).status === 0);

// Photograph-like content (smooth shapes plus sensor noise), quality 90, 4:2:0: what a camera or a web crawl gives.
const WRITE = `
import sys, numpy as np
from PIL import Image
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
y, x = np.mgrid[0:256, 0:256].astype(np.float64)
for i in range(n):
    base = np.stack([128 + 100 * np.sin(x / (9 + i % 7) + c + i) * np.cos(y / 13 - c) for c in range(3)], -1)
    img = np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(f"{out}/{i:04d}.jpg", quality=90)
`;

const PILLOW = `
import glob, io, sys, time
from PIL import Image
files = [open(f, "rb").read() for f in sorted(glob.glob(sys.argv[1] + "/*.jpg"))]
def once():
    for b in files:
        Image.open(io.BytesIO(b)).convert("RGB").resize((32, 32), Image.BOX).tobytes()
once()
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter(); once(); times.append(time.perf_counter() - t0)
times.sort()
print(times[len(times) // 2] / len(files))
`;

export async function runImageBench(opts: { images?: number; time?: number } = {}): Promise<{ rows: ImageBenchRow[]; notes: string[] }> {
  const notes: string[] = [];
  if (!PYTHON)
    return { rows: [], notes: ['skipped: no python3 with Pillow and numpy (Debian python3-pil) to write the JPEGs and time Pillow'] };
  const n = opts.images ?? 64;
  const dir = mkdtempSync(join(tmpdir(), 'wasmtail-jpeg-bench-'));
  try {
    const made = spawnSync(PYTHON, ['-', dir, String(n)], { input: WRITE, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`writing the JPEGs failed: ${made.stderr}`);
    const files = readdirSync(dir)
      .sort()
      .map((f) => new Uint8Array(readFileSync(join(dir, f))));
    const bench = new Bench({ time: opts.time ?? 3000, warmupTime: 500 });
    bench.add('wasmtail', () => {
      for (const bytes of files) rgbaToImage(decodeJpeg(bytes), 3, 32, 32);
    });
    await bench.run();
    const r = bench.tasks[0].result;
    if (r.state !== 'completed') throw new Error(`wasmtail: ${r.state}`);
    const ours = r.latency.p50 / files.length;
    const pillow = spawnSync(PYTHON, ['-', dir, '9'], { input: PILLOW, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (pillow.status !== 0) throw new Error(`timing Pillow failed: ${pillow.stderr}`);
    const theirs = Number(pillow.stdout.trim()) * 1000;
    const pil = spawnSync(PYTHON, ['-c', 'import PIL; print(PIL.__version__)'], { encoding: 'utf8' }).stdout.trim();
    const rows = [
      { engine: 'wasmtail (jpeg-js + area resize)', imagesPerSec: +(1000 / ours).toFixed(1), msPerImage: +ours.toFixed(3) },
      { engine: `Pillow ${pil} (libjpeg, BOX resize)`, imagesPerSec: +(1000 / theirs).toFixed(1), msPerImage: +theirs.toFixed(3) },
    ];
    notes.push(`${n} JPEGs of 256 x 256 (quality 90, 4:2:0), decoded and resized to 32 x 32 RGB from memory, one thread, medians`);
    notes.push(`wasmtail / Pillow = ${(theirs / ours).toFixed(2)} (images/s)`);
    return { rows, notes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--images');
  const { rows, notes } = await runImageBench({ images: at > 0 ? Number(process.argv[at + 1]) : undefined });
  console.table(rows);
  for (const n of notes) console.log(n);
}
