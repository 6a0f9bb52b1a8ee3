#!/usr/bin/env node
// Builds the demo page (web/) into dist/web/: the page, its two workers, the
// kernels (the one-thread build, and the shared-memory one for the training
// workers' thread pools), the default checkpoint and the shipped data set, as
// static files.
// Run after `npm run build:wasm` (it copies dist/wasmtail.wasm); part of `npm run build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
mkdirSync(join(out, 'data', 'fashion-mnist-lt'), { recursive: true });

const result = await build({
  entryPoints: { app: 'web/app.ts', 'train-worker': 'web/train-worker.ts', 'infer-worker': 'web/infer-worker.ts' },
  absWorkingDir: root,
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  // The kernel loader imports Node built-ins dynamically, only under Node.
  logLevel: 'warning',
  metafile: true,
});
// The project's files in the bundles: scripts/build-if-changed.ts rebuilds the page when one of them changes.
mkdirSync(join(root, 'dist', '.build'), { recursive: true });
const bundled = Object.keys(result.metafile.inputs)
  .filter((f) => !f.startsWith('node_modules/'))
  .sort();
writeFileSync(join(root, 'dist', '.build', 'web-bundle-inputs.json'), JSON.stringify(bundled, null, 1));

const copies = [
  ['web/index.html', 'index.html'],
  ['web/style.css', 'style.css'],
  ['dist/wasmtail.wasm', 'wasmtail.wasm'],
  ['dist/wasmtail-threads.wasm', 'wasmtail-threads.wasm'],
  ['test/embed/fixtures/torch-resnet32-fashion.safetensors', 'model.safetensors'],
  ...readdirSync(join(root, 'data', 'fashion-mnist-lt')).map((f) => [`data/fashion-mnist-lt/${f}`, `data/fashion-mnist-lt/${f}`]),
];
for (const [from, to] of copies) copyFileSync(join(root, from), join(out, to));
console.log(`web page built in ${out}`);
