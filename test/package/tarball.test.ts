// The package as `npm install` delivers it: `npm pack`, the tarball installed
// (offline: it has no runtime dependencies) into an empty project in a
// temporary folder, and used there by package name only: ESM import,
// CommonJS require, wasmtail/infer with PyTorch's logits, the bin, the
// TypeScript types under moduleResolution node16 and bundler, and an esbuild
// bundle of a page that imports wasmtail/infer and its .wasm asset. publint
// and @arethetypeswrong/cli (devDependencies) must report nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { CHECKPOINT, X, assertMatchesTorch, assertBuilt } from '../embed/fixture.js';

const REPO = resolve('.');
const BIN = join(REPO, 'node_modules', '.bin');
/** The .wasm builds are assets, not modules: attw would look for types and JavaScript behind them. */
const WASM_ENTRIES = ['wasmtail.wasm', 'wasmtail-relaxed.wasm', 'wasmtail-threads.wasm', 'wasmtail-relaxed-threads.wasm'];

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: exit ${r.status}\n${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
  return String(r.stdout);
}

/** What `npm pack --json` says about the tarball. */
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

describe('the package as a user installs it', () => {
  let dir = '';
  let app = '';
  let packed: Packed;

  before(() => {
    assertBuilt(['dist/index.js', 'dist/index.cjs', 'dist/infer.js', 'dist/infer.cjs', 'dist/cli.js', 'dist/wasmtail.wasm']);
    dir = mkdtempSync(join(tmpdir(), 'wasmtail-package-'));
    packed = (JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO })) as Packed[])[0];
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed.filename)], { cwd: app });
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the built package, the shipped data set and the README, and no tests, fixtures, results or benchmarks', (t) => {
    const paths = packed.files.map((f) => f.path);
    for (const want of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
      'dist/infer.js',
      'dist/infer.cjs',
      'dist/cli.js',
      ...WASM_ENTRIES.map((f) => `dist/${f}`),
      'data/fashion-mnist-lt/manifest.json',
    ]) {
      assert.ok(paths.includes(want), `${want} is missing from the tarball`);
    }
    const stray = paths.filter(
      (p) => /^(test|bench|results|docs|scripts|src|assembly|web|dist\/web)\//.test(p) || /\.safetensors$|fixture/.test(p),
    );
    assert.deepEqual(stray, [], 'files a user does not need');
    t.diagnostic(`${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);
  });

  it('imports (ESM) and requires (CommonJS) by package name, and trains a step', () => {
    const step = `
      await wt.init({ threads: 1 });
      const x = wt.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
      wt.sum(wt.mul(x, x)).backward();
      console.log(JSON.stringify({ grad: Array.from(x.grad.toFloat32Array()), backend: wt.info().backend }));`;
    writeFileSync(join(app, 'esm.mjs'), `import * as wt from 'wasmtail'; ${step}`);
    writeFileSync(join(app, 'cjs.cjs'), `const wt = require('wasmtail'); (async () => { ${step} })();`);
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      assert.deepEqual(JSON.parse(run(process.execPath, [file], { cwd: app })), { grad: [2, 4, 6, 8], backend: 'wasm' }, file);
    }
  });

  it("wasmtail/infer, imported and required, gives PyTorch's logits within 1e-4", () => {
    const body = `
      const model = await loadModel(readFileSync(${JSON.stringify(join(REPO, CHECKPOINT))}));
      const x = new Float32Array(${JSON.stringify(Array.from(X))});
      console.log(JSON.stringify((await predict(model, x)).flatMap((p) => Array.from(p.logits))));`;
    writeFileSync(
      join(app, 'infer.mjs'),
      `import { readFileSync } from 'node:fs'; import { loadModel, predict } from 'wasmtail/infer'; ${body}`,
    );
    writeFileSync(
      join(app, 'infer.cjs'),
      `const { readFileSync } = require('node:fs'); const { loadModel, predict } = require('wasmtail/infer'); (async () => { ${body} })();`,
    );
    for (const file of ['infer.mjs', 'infer.cjs'])
      assertMatchesTorch(JSON.parse(run(process.execPath, [file], { cwd: app })), `installed ${file}`);
  });

  it('runs the bin: npx wasmtail info', () => {
    const info = JSON.parse(run('npx', ['--offline', '--no-install', 'wasmtail', 'info'], { cwd: app }));
    assert.equal(info.backend, 'wasm');
    assert.equal(info.node, process.version);
  });

  it('type-checks a consumer under moduleResolution node16 (ESM and CommonJS files) and bundler', () => {
    const use = (from: string) =>
      `
      const model: LoadedModel = await loadModel(new Uint8Array(0));
      const p: Prediction[] = await predict(model, new Float32Array(784));
      const name: string = p[0].name;
      const t: Tensor = tensor([1, 2], [2]);
      const n: number = t.size;
      export { name, n };`.replace(
        /^/,
        `import { tensor, type Tensor } from 'wasmtail';\nimport { loadModel, predict, type LoadedModel, type Prediction } from '${from}';\n`,
      );
    writeFileSync(join(app, 'esm.mts'), use('wasmtail/infer'));
    writeFileSync(
      join(app, 'cjs.cts'),
      `import wt = require('wasmtail');\nimport infer = require('wasmtail/infer');\n` +
        `const t: wt.Tensor = wt.tensor([1], [1]);\nconst k: string = infer.KERNELS_FILE;\nexport = { t, k };\n`,
    );
    writeFileSync(join(app, 'page.ts'), use('wasmtail/infer'));
    // The repo's @types/node stands in for the one a Node project would install (the declarations mention Node's types).
    const common = {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: 'es2022',
      typeRoots: [join(REPO, 'node_modules', '@types')],
      types: ['node'],
    };
    writeFileSync(
      join(app, 'tsconfig.node16.json'),
      JSON.stringify({ compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16' }, files: ['esm.mts', 'cjs.cts'] }),
    );
    writeFileSync(
      join(app, 'tsconfig.bundler.json'),
      JSON.stringify({ compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler' }, files: ['page.ts'] }),
    );
    for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) run(join(BIN, 'tsc'), ['-p', config], { cwd: app });
  });

  it('bundles a page that imports wasmtail/infer and its .wasm asset with esbuild; the bundle classifies', async () => {
    writeFileSync(
      join(app, 'page.js'),
      `
      import { init, loadModel, predict } from 'wasmtail/infer';
      import kernels from 'wasmtail/wasmtail.wasm';
      export async function classify(checkpoint, x) {
        await init({ wasm: new URL(kernels, import.meta.url) });
        return (await predict(await loadModel(checkpoint), x)).flatMap((p) => Array.from(p.logits));
      }`,
    );
    const out = join(app, 'out');
    await build({
      entryPoints: [join(app, 'page.js')],
      absWorkingDir: app,
      outdir: out,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      loader: { '.wasm': 'file' },
      logLevel: 'silent',
    });
    const assets = readdirSync(out).filter((f) => f.endsWith('.wasm'));
    assert.equal(assets.length, 1, `one .wasm asset beside the bundle: ${assets.join(', ')}`);
    assert.deepEqual(readFileSync(join(out, assets[0])), readFileSync('dist/wasmtail.wasm'), 'the asset is the plain-SIMD kernels');
    // The browser bundle runs as it is; Node stands in for the page (init fetches file: URLs with fs).
    const { classify } = (await import(join(out, 'page.js'))) as { classify(c: Uint8Array, x: Float32Array): Promise<number[]> };
    assertMatchesTorch(await classify(readFileSync(CHECKPOINT), X), 'the esbuild bundle');
  });

  it('publint and @arethetypeswrong/cli report nothing', () => {
    assert.match(run(join(BIN, 'publint'), ['run', join(app, 'node_modules', 'wasmtail')]), /All good/);
    // The node16 profile: node10 resolution (TypeScript's moduleResolution "node", deprecated) cannot read subpath exports.
    run(join(BIN, 'attw'), [
      join(dir, packed.filename),
      '--profile',
      'node16',
      '--exclude-entrypoints',
      ...WASM_ENTRIES,
      '--format',
      'ascii',
    ]);
  });
});
