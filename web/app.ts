/**
 * The demo page: (1) classify an image with a checkpoint through
 * wasmtail/infer, on the page's own thread; (2) train CE and FBL side by side
 * in two Web Workers (train-worker.ts) and plot what they post.
 * `window.wasmtailDemo` is the hook the browser tests drive.
 */
import { init, loadModel, predict, KERNELS_FILE, type LoadedModel, type PredictInput, type Prediction } from '../src/infer.js';
import { hasRelaxedSimd } from '../src/backend/wasm/loader.js';
import { lineChart, scatterChart, barChart, type PointSeries } from '../src/plot/svg.js';
import type { LossKind, TrainMessage, TrainRequest } from './protocol.js';

const CHECKPOINT = 'model.safetensors';
const DATA = new URL('data/fashion-mnist-lt', location.href).href;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// ---- 1. Classify -------------------------------------------------------------------------------------------

let model: LoadedModel;

async function loadClassifier(): Promise<void> {
  await init({ wasm: new URL(KERNELS_FILE, location.href) });
  const res = await fetch(CHECKPOINT);
  if (!res.ok) throw new Error(`${CHECKPOINT}: HTTP ${res.status}`);
  model = await loadModel(new Uint8Array(await res.arrayBuffer()), { name: CHECKPOINT });
  $('engine').textContent =
    `wasmtail ${KERNELS_FILE} (WebAssembly SIMD, one thread${hasRelaxedSimd() ? '; relaxed SIMD available' : ''}) · ` +
    `${model.arch} · ${model.numClasses} classes of ${model.dataset}`;
}

function showBars(p: Prediction): void {
  $('result').innerHTML = Array.from(
    p.probabilities,
    (v, j) => `
    <div class="bar${j === p.top1 ? ' top' : ''}" data-class="${j}">
      <span>${model.classNames[j]}</span><span class="track"><span class="fill" style="width:${(100 * v).toFixed(1)}%"></span></span>
      <span>${(100 * v).toFixed(1)}%</span>
    </div>`,
  ).join('');
  $('result').dataset.top1 = String(p.top1);
  $('result').dataset.name = p.name;
}

/**
 * Any image to the model's 28 × 28 grey input, drawn by the browser (smooth
 * downscaling), inverted when its border is light: Fashion-MNIST has light
 * clothes on black.
 */
async function classifyBitmap(bitmap: ImageBitmap | HTMLCanvasElement): Promise<Prediction> {
  const seen = $<HTMLCanvasElement>('seen');
  const ctx = seen.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, 28, 28);
  ctx.drawImage(bitmap, 0, 0, 28, 28);
  const img = ctx.getImageData(0, 0, 28, 28);
  let border = 0,
    count = 0;
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      if (x > 1 && x < 26 && y > 1 && y < 26) continue;
      const p = (y * 28 + x) * 4;
      border += (img.data[p] + img.data[p + 1] + img.data[p + 2]) / 3;
      count++;
    }
  if (border / count > 127) {
    for (let p = 0; p < img.data.length; p += 4) for (let c = 0; c < 3; c++) img.data[p + c] = 255 - img.data[p + c];
    ctx.putImageData(img, 0, 0);
  }
  const [p] = await predict(model, img);
  showBars(p);
  return p;
}

async function classifyFile(file: Blob): Promise<Prediction> {
  return classifyBitmap(await createImageBitmap(file));
}

/** The first `n` images and labels of the test set: only the head of each gzip stream is inflated. */
async function testImages(n: number): Promise<{ pixels: Uint8Array; labels: Uint8Array }> {
  const head = async (file: string, bytes: number) => {
    const res = await fetch(`${DATA}/${file}`);
    if (!res.ok || !res.body) throw new Error(`${file}: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new DecompressionStream('gzip')).getReader();
    const out = new Uint8Array(bytes);
    let got = 0;
    while (got < bytes) {
      const { done, value } = await reader.read();
      if (done) break;
      out.set(value.subarray(0, bytes - got), got);
      got += value.length;
    }
    await reader.cancel();
    return out;
  };
  const [images, labels] = await Promise.all([head('t10k-images-idx3-ubyte.gz', 16 + n * 784), head('t10k-labels-idx1-ubyte.gz', 8 + n)]);
  return { pixels: images.subarray(16), labels: labels.subarray(8) };
}

async function showSamples(): Promise<void> {
  const { pixels, labels } = await testImages(24);
  labels.forEach((label, i) => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 28;
    canvas.title = `test image ${i}: ${model.classNames[label]}`;
    canvas.dataset.index = String(i);
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(28, 28);
    for (let k = 0; k < 784; k++) img.data.set([pixels[i * 784 + k], pixels[i * 784 + k], pixels[i * 784 + k], 255], k * 4);
    ctx.putImageData(img, 0, 0);
    canvas.onclick = () => void classifyBitmap(canvas);
    $('samples').append(canvas);
  });
}

function wireDrop(): void {
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) classifyFile(file).catch(showError);
  });
  $<HTMLInputElement>('file').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) classifyFile(file).catch(showError);
  });
}

function showError(e: unknown): void {
  $('result').innerHTML = `<p class="muted">Could not classify: ${(e as Error).message}</p>`;
}

// ---- 2. Train CE vs FBL -------------------------------------------------------------------------------------

interface Run {
  worker: Worker;
  /** Kernel threads the worker uses (it says so when ready). */
  threads?: number;
  losses: [number, number][];
  evals: { step: number; accuracy: number[]; featureNorm: number[] }[];
  done: boolean;
  error?: string;
}

const runs = new Map<LossKind, Run>();
let classCounts: number[] = [];
let classNames: string[] = [];
const NAMES: Record<LossKind, string> = { ce: 'CE', fbl: 'FBL' };

export interface TrainOptions {
  steps?: number;
  batch?: number;
  lambda?: number;
  lr?: number;
  evalEvery?: number;
  evalPerClass?: number;
  /** Kernel threads per run (default: half the cores each, on a cross-origin-isolated page; one otherwise). */
  threads?: number;
  /** Which runs to start (default both). */
  losses?: LossKind[];
}

/**
 * Worker threads need shared memory, which browsers give only to
 * cross-origin-isolated pages (served with COOP same-origin and COEP
 * require-corp, as `npm run web` does). The two runs share the cores.
 */
function defaultThreadsPerRun(): number {
  return crossOriginIsolated ? Math.max(1, Math.floor(navigator.hardwareConcurrency / 2)) : 1;
}

function describeThreads(): string {
  const used = [...runs.values()].map((r) => r.threads).filter((t) => t !== undefined);
  const n = used.length ? Math.max(...used) : defaultThreadsPerRun();
  return crossOriginIsolated
    ? `${n} thread${n > 1 ? 's' : ''} per run (cross-origin isolated: shared memory)`
    : '1 thread per run (this page is not cross-origin isolated, so no shared memory: serve it with COOP/COEP, as npm run web does)';
}

function startTraining(opts: TrainOptions = {}): void {
  for (const r of runs.values()) r.worker.terminate();
  runs.clear();
  const steps = opts.steps ?? Number($<HTMLInputElement>('steps').value);
  for (const loss of opts.losses ?? (['ce', 'fbl'] as const)) {
    const worker = new Worker(new URL('train-worker.js', location.href), { type: 'module' });
    const run: Run = { worker, losses: [], evals: [], done: false };
    runs.set(loss, run);
    worker.onmessage = (e: MessageEvent<TrainMessage>) => onMessage(run, e.data);
    worker.onerror = (e) => {
      run.error = e.message;
      run.done = true;
      render();
    };
    const req: TrainRequest = {
      loss,
      base: location.href,
      dataUrl: DATA,
      steps,
      batch: opts.batch ?? Number($<HTMLInputElement>('batch').value),
      lambda: opts.lambda ?? Number($<HTMLInputElement>('lambda').value),
      lr: opts.lr ?? 0.05,
      evalEvery: opts.evalEvery ?? 50,
      evalPerClass: opts.evalPerClass ?? 100,
      seed: 0,
      threads: opts.threads ?? defaultThreadsPerRun(),
    };
    worker.postMessage(req);
  }
  $('start').textContent = 'Restart';
  render();
}

function onMessage(run: Run, m: TrainMessage): void {
  if (m.type === 'ready') [classCounts, classNames, run.threads] = [m.classCounts, m.classNames, m.threads];
  else if (m.type === 'step') run.losses.push([m.step, m.value]);
  else if (m.type === 'eval') run.evals.push(m);
  else if (m.type === 'done') run.done = true;
  else if (m.type === 'error') [run.error, run.done] = [m.message, true];
  if (m.type !== 'step' || m.step % 5 === 0) render();
}

/** An exponential moving average, so the loss curve shows the trend through batch noise. */
function smooth(points: [number, number][], alpha = 0.1): [number, number][] {
  let s = NaN;
  return points.map(([x, y]) => {
    s = Number.isNaN(s) ? y : s + alpha * (y - s);
    return [x, s];
  });
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function render(): void {
  const entries = [...runs.entries()];
  $('status').textContent = entries
    .map(([loss, r]) => {
      const last = r.losses.at(-1);
      return `${NAMES[loss]}: ${r.error ? `error: ${r.error}` : r.done ? 'done' : last ? `step ${last[0]}` : 'loading data…'}`;
    })
    .join(' · ');
  $('threads').textContent = `Kernels: ${describeThreads()}.`;
  if (classCounts.length === 0) return;
  const size = { width: 560, height: 340 };
  const tail = classCounts.map((_, j) => j).slice(-3);
  $('summary').innerHTML =
    `<table><tr><th>balanced test accuracy</th><th>all classes</th><th>3 largest</th><th>3 smallest</th></tr>` +
    entries
      .map(([loss, r]) => {
        const e = r.evals.at(-1);
        const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
        return (
          `<tr><td>${NAMES[loss]}${e ? ` (step ${e.step})` : ''}</td><td>${pct(e && mean(e.accuracy))}</td>` +
          `<td>${pct(e && mean(e.accuracy.slice(0, 3)))}</td><td>${pct(e && mean(tail.map((j) => e.accuracy[j])))}</td></tr>`
        );
      })
      .join('') +
    '</table>';
  $('chart-counts').innerHTML = barChart({
    ...size,
    title: 'Training images per class (long tail, ρ = 100)',
    yLabel: 'images',
    categories: classNames,
    series: [{ name: 'training images', values: classCounts }],
  });
  $('chart-loss').innerHTML = lineChart({
    ...size,
    title: 'Training loss (smoothed)',
    xLabel: 'step',
    yLabel: 'loss',
    series: entries.map(([loss, r]) => ({ name: NAMES[loss], points: smooth(r.losses) })),
  });
  const perClass = (pick: (e: Run['evals'][number]) => number[]): PointSeries[] =>
    entries.map(([loss, r]) => {
      const e = r.evals.at(-1);
      return { name: NAMES[loss], points: e ? pick(e).map((v, j) => [classCounts[j], v] as [number, number]) : [] };
    });
  const at = entries[0]?.[1].evals.at(-1)?.step ?? 0;
  $('chart-accuracy').innerHTML = scatterChart({
    ...size,
    title: `Test accuracy per class vs class size (step ${at})`,
    xLabel: 'training images of the class (log)',
    yLabel: 'accuracy',
    logX: true,
    yMin: 0,
    yMax: 1,
    series: perClass((e) => e.accuracy),
  });
  $('chart-norm').innerHTML = scatterChart({
    ...size,
    title: `Mean feature norm per class vs class size (step ${at})`,
    xLabel: 'training images of the class (log)',
    yLabel: '‖f‖',
    logX: true,
    yMin: 0,
    series: perClass((e) => e.featureNorm),
  });
}

// ---- The test hook and start-up ------------------------------------------------------------------------------

/** Inference in a Web Worker (infer-worker.ts), for the tests: same checkpoint, same input. */
let inferWorker: Worker | null = null;
let nextId = 0;
function predictInWorker(input: PredictInput): Promise<Prediction[]> {
  inferWorker ??= new Worker(new URL('infer-worker.js', location.href), { type: 'module' });
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const listener = (e: MessageEvent<{ id: number; predictions?: Prediction[]; error?: string }>) => {
      if (e.data.id !== id) return;
      inferWorker!.removeEventListener('message', listener);
      if (e.data.error) reject(new Error(e.data.error));
      else resolve(e.data.predictions!);
    };
    inferWorker!.addEventListener('message', listener);
    inferWorker!.postMessage({ id, checkpoint: new URL(CHECKPOINT, location.href).href, input });
  });
}

const plain = (ps: Prediction[]) => ps.map((p) => ({ ...p, probabilities: Array.from(p.probabilities), logits: Array.from(p.logits) }));

const ready = (async () => {
  await loadClassifier();
  wireDrop();
  $('start').onclick = () => startTraining();
  $('threads').textContent = `Kernels: ${describeThreads()}.`;
  await showSamples();
})();
ready.catch((e: Error) => {
  $('engine').textContent = `Could not start: ${e.message}`;
});

Object.assign(window, {
  wasmtailDemo: {
    ready,
    /** Predictions for NCHW float32 images, on the page's thread and in a Web Worker (as plain arrays). */
    predict: async (x: number[]) => plain(await predict(model, Float32Array.from(x))),
    predictInWorker: async (x: number[]) => plain(await predictInWorker(Float32Array.from(x))),
    startTraining,
    /** Training progress: the losses and evaluations each worker has posted. */
    training: () =>
      Object.fromEntries(
        [...runs].map(([loss, r]) => [loss, { losses: r.losses, evals: r.evals, done: r.done, error: r.error, threads: r.threads }]),
      ),
  },
});
