// Choosing and starting a backend.
import type { Backend } from './backend/backend.js';
import { backend, hasBackend, setBackend } from './backend/current.js';
import { ReferenceBackend } from './backend/reference/referenceBackend.js';
import { WasmBackend } from './backend/wasm/wasmBackend.js';
import { type WasmSource, compileKernels, hasSimd, instantiateKernels } from './backend/wasm/loader.js';

export interface InitOptions {
  /** 'wasm' (default) or 'reference' (plain TypeScript, slow: the test oracle). */
  backend?: 'wasm' | 'reference' | 'reference-f64';
  /** An already compiled module (required on edge runtimes that forbid compiling bytes). */
  module?: WebAssembly.Module;
  /** The .wasm bytes, or a URL / path to them. */
  wasm?: ArrayBuffer | ArrayBufferView | URL | string;
  /** Maximum linear memory in 64 KiB pages (default 65536: 4 GiB). */
  maxMemoryPages?: number;
}

export async function init(opts: InitOptions = {}): Promise<Backend> {
  const kind = opts.backend ?? 'wasm';
  let b: Backend;
  if (kind === 'reference') b = new ReferenceBackend('float32');
  else if (kind === 'reference-f64') b = new ReferenceBackend('float64');
  else if (kind === 'wasm') {
    if (!hasSimd()) {
      throw new Error('wasmtail: this runtime lacks WebAssembly SIMD (128-bit), which the kernels require; ' +
        "use a current browser or Node >= 16, or init({ backend: 'reference' }) for the slow plain-TypeScript backend");
    }
    const source: WasmSource | undefined = opts.module ?? opts.wasm;
    const inst = await instantiateKernels(await compileKernels(source), opts.maxMemoryPages);
    b = new WasmBackend(inst, 'simd128');
  } else {
    throw new Error(`wasmtail: unknown backend '${String(kind)}' (expected 'wasm' or 'reference')`);
  }
  setBackend(b);
  return b;
}

/** What runs: the backend, SIMD, threads, memory. */
export function info(): Record<string, unknown> {
  if (!hasBackend()) return { backend: null, simd: hasSimd(), threads: 0, initialised: false };
  const b = backend();
  return { backend: b.name, initialised: true, ...b.describe() };
}
