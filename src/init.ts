// Choosing and starting a backend.
import type { Backend } from './backend/backend.js';
import { backend, hasBackend, setBackend } from './backend/current.js';
import { boundsCheckRequested, withBoundsChecks } from './backend/boundsCheck.js';
import { ReferenceBackend } from './backend/reference/referenceBackend.js';
import { WasmBackend } from './backend/wasm/wasmBackend.js';
import {
  type WasmSource,
  compileKernels,
  enableRelaxedSimd,
  hasRelaxedSimd,
  hasSimd,
  hasThreads,
  instantiateKernels,
  wasmFile,
} from './backend/wasm/loader.js';
import { defaultThreadCount } from './backend/wasm/threads.js';

export interface InitOptions {
  /**
   * 'wasm' (default), 'webgpu' (WGSL kernels on the GPU: navigator.gpu, or the
   * optional 'webgpu' package under Node) or 'reference' (plain TypeScript,
   * slow: the test oracle).
   */
  backend?: 'wasm' | 'webgpu' | 'reference' | 'reference-f64';
  /** An already compiled module (required on edge runtimes that forbid compiling bytes). */
  module?: WebAssembly.Module;
  /** The .wasm bytes, or a URL / path to them. */
  wasm?: ArrayBuffer | ArrayBufferView | URL | string;
  /** Maximum linear memory in 64 KiB pages (default 65536: 4 GiB). */
  maxMemoryPages?: number;
  /**
   * Which build of the kernels to load when no module is given: 'relaxed'
   * (fused multiply-add; under Node 20 this turns on V8's
   * --experimental-wasm-relaxed-simd flag), 'plain' (SIMD128 only), or
   * 'auto' (default: relaxed where the runtime has it).
   */
  simd?: 'auto' | 'relaxed' | 'plain';
  /**
   * Threads for the kernels, the calling one included (default: the number
   * of cores). Needs shared memory: 1 where it is unavailable (browser pages
   * that are not cross-origin isolated). See setThreads().
   */
  threads?: number;
}

export async function init(opts: InitOptions = {}): Promise<Backend> {
  const kind = opts.backend ?? 'wasm';
  if (hasBackend()) shutdown();
  let b: Backend;
  if (kind === 'reference') b = new ReferenceBackend('float32');
  else if (kind === 'reference-f64') b = new ReferenceBackend('float64');
  else if (kind === 'wasm') {
    if (!hasSimd()) {
      throw new Error(
        'wasmtail: this runtime lacks WebAssembly SIMD (128-bit), which the kernels require; ' +
          "use a current browser or Node >= 16, or init({ backend: 'reference' }) for the slow plain-TypeScript backend",
      );
    }
    const source: WasmSource | undefined = opts.module ?? opts.wasm;
    const simd = opts.simd ?? 'auto';
    if (!['auto', 'relaxed', 'plain'].includes(simd)) throw new Error(`wasmtail: simd must be 'auto', 'relaxed' or 'plain', got '${simd}'`);
    let relaxed = false;
    if (source === undefined && simd !== 'plain') {
      relaxed = await enableRelaxedSimd();
      if (simd === 'relaxed' && !relaxed) {
        throw new Error("wasmtail: this runtime lacks WebAssembly relaxed SIMD; use init({ simd: 'plain' }) or 'auto'");
      }
    }
    const module = await compileKernels(source, wasmFile(relaxed, hasThreads()));
    const wasm = new WasmBackend(await instantiateKernels(module, opts.maxMemoryPages));
    await wasm.setThreads(opts.threads ?? (await defaultThreadCount()));
    b = wasm;
  } else if (kind === 'webgpu') {
    const { WebGpuBackend } = await import('./backend/webgpu/webgpuBackend.js');
    b = await WebGpuBackend.create();
  } else {
    throw new Error(`wasmtail: unknown backend '${String(kind)}' (expected 'wasm', 'webgpu' or 'reference')`);
  }
  if (boundsCheckRequested()) {
    b = withBoundsChecks(b);
  }
  setBackend(b);
  return b;
}

/**
 * Uses n threads for the kernels from now on (the calling one included);
 * resolves to the number in use: 1 where memory cannot be shared or on the
 * reference backend.
 */
export async function setThreads(n: number): Promise<number> {
  return backend().setThreads(n);
}

/** Stops the kernels' worker threads (they never keep Node alive; this frees them now). Later calls run on one thread. */
export function shutdown(): void {
  if (!hasBackend()) return;
  backend().dispose();
}

/** What runs: the backend, SIMD build, threads, memory. */
export function info(): Record<string, unknown> {
  if (!hasBackend()) return { backend: null, simd: hasSimd(), relaxedSimd: hasRelaxedSimd(), threads: 0, initialised: false };
  const b = backend();
  return { backend: b.name, initialised: true, ...b.describe() };
}
