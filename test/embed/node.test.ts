// wasmtail/infer under Node: the built package's ESM and CommonJS entries give
// identical predictions from the PyTorch-made checkpoint, and PyTorch's
// logits; every input form predict() takes; the entry bundles for browsers
// with no Node-only import.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import * as infer from '../../src/infer.js';
import * as wt from '../../src/index.js';
import { encodePng } from '../util/png.js';
import { CHECKPOINT, X, PIXELS, LABELS, TORCH_TOP1, assertMatchesTorch, assertBuilt } from './fixture.js';

/** Runs a script in a fresh Node process (ESM or CommonJS) that loads wasmtail/infer as a user would, by package name. */
function runNode(kind: 'esm' | 'cjs'): number[] {
  const body = `
    const bytes = readFileSync(${JSON.stringify(CHECKPOINT)});
    const stdin = readFileSync(0);
    const x = new Float32Array(stdin.buffer.slice(stdin.byteOffset, stdin.byteOffset + stdin.byteLength));
    const model = await loadModel(bytes);
    const out = await predict(model, x);
    process.stdout.write(JSON.stringify(out.flatMap((p) => Array.from(p.logits))));`;
  const code =
    kind === 'esm'
      ? `import { readFileSync } from 'node:fs'; import { loadModel, predict } from 'wasmtail/infer'; ${body}`
      : `const { readFileSync } = require('node:fs'); const { loadModel, predict } = require('wasmtail/infer'); (async () => { ${body} })();`;
  const r = spawnSync(process.execPath, [`--input-type=${kind === 'esm' ? 'module' : 'commonjs'}`, '-e', code], {
    input: new Uint8Array(X.buffer, X.byteOffset, X.byteLength),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `${kind}: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('wasmtail/infer under Node', () => {
  before(() => assertBuilt(['dist/infer.js', 'dist/infer.cjs', 'dist/infer.d.ts', 'dist/wasmtail.wasm']));

  it("ESM import and CommonJS require give identical logits, PyTorch's within 1e-4", () => {
    const esm = runNode('esm');
    const cjs = runNode('cjs');
    assert.deepEqual(cjs, esm, 'ESM and CJS differ');
    assertMatchesTorch(esm, 'Node ESM');
    assertMatchesTorch(cjs, 'Node CJS');
  });
});

describe('loadModel and predict', () => {
  before(() => infer.init());

  it('reads the architecture off a PyTorch state dict and predicts from NCHW floats, pixels and PNGs alike', async () => {
    const model = await infer.loadModel(readFileSync(CHECKPOINT), { name: 'torch' });
    assert.equal(model.arch, 'resnet32');
    assert.equal(model.classifier, 'linear');
    assert.equal(model.inChannels, 1);
    assert.equal(model.classNames[7], 'Sneaker');
    const fromFloats = await infer.predict(model, X);
    assertMatchesTorch(
      fromFloats.flatMap((p) => Array.from(p.logits)),
      'in-process',
    );
    for (const p of fromFloats) {
      assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.equal(p.probability, Math.max(...p.probabilities));
      assert.equal(p.name, model.classNames[p.top1]);
    }
    // The same images as RGBA (ImageData-like) and as PNG files: the same top-1 classes.
    const rgba = Array.from({ length: 16 }, (_, i) => {
      const data = new Uint8ClampedArray(28 * 28 * 4);
      for (let k = 0; k < 784; k++) data.set([PIXELS[i * 784 + k], PIXELS[i * 784 + k], PIXELS[i * 784 + k], 255], k * 4);
      return { width: 28, height: 28, data };
    });
    assert.deepEqual(
      (await infer.predict(model, rgba)).map((p) => p.top1),
      TORCH_TOP1,
    );
    const png = encodePng(PIXELS.subarray(9 * 784, 10 * 784), 28, 28, 1);
    const [sneaker] = await infer.predict(model, await infer.decodePng(png));
    assert.equal(sneaker.name, 'Sneaker');
    assert.equal(LABELS[9], 7);
    model.dispose();
  });

  it('takes a state dict as a Map, and raw CIFAR records, for a three-channel model', async () => {
    const net = wt.nn.resnet20({ numClasses: 10, seed: 3 });
    const state = new Map([...net.stateDict()].map(([k, t]) => [k, { shape: t.shape, data: t.toFloat32Array() }]));
    const model = await infer.loadModel(state);
    assert.equal(model.arch, 'resnet20');
    assert.deepEqual([model.height, model.width, model.dataset], [32, 32, 'cifar10-lt']);
    const records = new Uint8Array(3 * 3073);
    for (let i = 0; i < records.length; i++) records[i] = (i * 37) % 251;
    const fromRecords = await infer.predict(model, records);
    const x = new Float32Array(3 * 3072);
    for (let i = 0; i < 3; i++)
      x.set(wt.data.normalize(records.subarray(i * 3073 + 1, (i + 1) * 3073), { c: 3, h: 32, w: 32 }, model.mean, model.std), i * 3072);
    const fromFloats = await infer.predict(model, x);
    assert.deepEqual(
      fromRecords.map((p) => Array.from(p.logits)),
      fromFloats.map((p) => Array.from(p.logits)),
    );
    // A batch longer than one forward pass (64 images) gives each image's own result: the
    // same bits within a pass and across passes of 4 images or more (64 + 6 here); a plan
    // for 3 (above) keeps Winograd F(2,3) on the 8x8 stage, so there only within rounding.
    const many = new Float32Array(70 * 3072);
    for (let i = 0; i < 70; i++) many.set(x.subarray((i % 3) * 3072, ((i % 3) + 1) * 3072), i * 3072);
    const out = await infer.predict(model, many);
    assert.equal(out.length, 70);
    assert.deepEqual(Array.from(out[69].logits), Array.from(out[0].logits));
    const want = Array.from(fromFloats[0].logits);
    const scale = Math.max(...want.map(Math.abs));
    const diff = Math.max(...Array.from(out[69].logits, (v, i) => Math.abs(v - want[i])));
    assert.ok(diff <= 1e-5 * scale, `logits differ by ${diff} (max |logit| ${scale})`);
    model.dispose();
  });

  it('refuses what it cannot read, naming it', async () => {
    await assert.rejects(infer.loadModel(new Uint8Array([1, 2, 3]), { name: 'junk.safetensors' }), /junk\.safetensors/);
    const model = await infer.loadModel(readFileSync(CHECKPOINT));
    await assert.rejects(infer.predict(model, new Float32Array(100)), /100 values are not whole 1x28x28 images/);
    await assert.rejects(infer.predict(model, new Uint8Array(3073)), /this model takes 1-channel images/);
    await assert.rejects(infer.predict(model, { width: 2, height: 2, data: new Uint8Array(3) }), /not 2 x 2 x 4/);
    await assert.rejects(infer.decodePng(new Uint8Array(20), 'x.png'), /x\.png: not a PNG/);
    model.dispose();
  });
});

describe('the wasmtail/infer bundle', () => {
  it('bundles for browsers with no static Node import; its size is what the README says', async (t) => {
    // The shipped file, as a user's bundler sees it.
    const result = await build({
      entryPoints: ['dist/infer.js'],
      bundle: true,
      write: false,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      metafile: true,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0].text;
    // Every import the bundle keeps, as esbuild saw it: none may name a Node built-in (the
    // loader's Node-only imports are built at run time, so bundlers leave them alone).
    const kept = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
    const nodeStatic = kept.filter((i) => i.path.startsWith('node:') && i.kind !== 'dynamic-import');
    assert.deepEqual(
      nodeStatic.map((i) => `${i.kind} ${i.path}`),
      [],
      'static Node imports in the browser bundle',
    );
    const nodeDynamic = kept.filter((i) => i.path.startsWith('node:')).map((i) => i.path);
    assert.deepEqual(nodeDynamic, [], 'Node imports a browser bundler would have to resolve');
    assert.doesNotMatch(code, /\bfrom\s*["']node:/, 'an import statement of a Node built-in');
    // Dependency-free: the Node data path's decoders (jpeg-js, tar-stream) stay out of it.
    const inputs = Object.keys(result.metafile.inputs);
    assert.deepEqual(
      inputs.filter((i) => i.includes('node_modules')),
      [],
      'packages bundled into wasmtail/infer',
    );
    assert.doesNotMatch(readFileSync('dist/infer.js', 'utf8'), /jpeg-js|tar-stream/);
    const wasm = readFileSync('dist/wasmtail.wasm');
    t.diagnostic(
      `infer bundle: ${code.length} bytes minified, ${gzipSync(code).length} gzipped; ` +
        `wasmtail.wasm ${wasm.length} bytes, ${gzipSync(wasm).length} gzipped; guarded dynamic Node imports: ${nodeDynamic.join(', ') || 'none'}`,
    );
    assert.ok(code.length < 80_000, `the minified bundle grew to ${code.length} bytes`);
  });
});
