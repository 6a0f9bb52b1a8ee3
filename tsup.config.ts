import { defineConfig } from 'tsup';

// The kernels' .wasm is written into dist/ by `npm run build:wasm` (asc);
// tsup bundles the TypeScript beside it, so the loader finds it next to the module.
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'es2022',
    shims: true,
  },
  // wasmtail/infer: a bundle of its own (no chunks shared with index), small and
  // free of Node-only imports, for browsers, workers and edge runtimes.
  {
    entry: { infer: 'src/infer.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'es2022',
    shims: true,
    // Keep 'node:' on the (dynamic, Node-only) built-in imports, so that bundlers know them as Node's.
    removeNodeProtocol: false,
  },
  {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'es2022',
  },
]);
