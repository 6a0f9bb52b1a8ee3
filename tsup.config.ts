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
  {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'es2022',
  },
]);
