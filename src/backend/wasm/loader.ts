/**
 * Loading the kernels' WebAssembly module in any runtime. Edge runtimes
 * (Cloudflare Workers) forbid compiling from bytes, so an already compiled
 * WebAssembly.Module is accepted first; then bytes; then the .wasm file next
 * to this module, read with fs under Node and fetched elsewhere.
 *
 * The kernels come in four builds of one source (assembly/asconfig.json):
 * plain SIMD or relaxed SIMD (fused multiply-add), each over a private or a
 * shared memory (the latter for worker threads, src/backend/wasm/threads.ts).
 * Feature probes below pick the build; nothing Node-only is imported statically.
 */
import { importNode } from './nodeImport.js';
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string;

/** (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt): validates only where SIMD exists. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd). */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);

/** (import "e" "m" (memory 1 1 shared)): validates only where WebAssembly threads exist. */
const THREADS_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 2, 9, 1, 1, 101, 1, 109, 2, 3, 1, 1]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

export function hasSimd(): boolean {
  return validates(SIMD_PROBE);
}

export function hasRelaxedSimd(): boolean {
  return validates(RELAXED_SIMD_PROBE);
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * Relaxed SIMD, switching it on first under Node 20 (where V8 still keeps it
 * behind --experimental-wasm-relaxed-simd; Node 22 has it by default). V8
 * reads the flag when it compiles, so this must run before the kernels are
 * compiled, and it is process-wide: worker threads see it too.
 */
export async function enableRelaxedSimd(): Promise<boolean> {
  if (hasRelaxedSimd()) return true;
  if (!isNode) return false;
  try {
    const v8 = await importNode<typeof import('node:v8')>('v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return hasRelaxedSimd();
}

/**
 * Whether kernels can run on worker threads over one shared memory: WebAssembly
 * threads, SharedArrayBuffer, and workers (always under Node; in browsers only
 * on cross-origin-isolated pages).
 */
export function hasThreads(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || !validates(THREADS_PROBE)) return false;
  if (isNode) return true;
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  return g.crossOriginIsolated === true && typeof g.Worker === 'function';
}

/** The .wasm file of a build: wasmtail[-relaxed][-threads].wasm. */
export function wasmFile(relaxed: boolean, threads: boolean): string {
  return `wasmtail${relaxed ? '-relaxed' : ''}${threads ? '-threads' : ''}.wasm`;
}

export const WASM_FILE = wasmFile(false, false);

async function readUrl(url: URL): Promise<ArrayBuffer> {
  if (url.protocol === 'file:' && isNode) {
    const fs = await importNode<typeof import('node:fs/promises')>('fs/promises');
    const bytes = await fs.readFile(url);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`wasmtail: could not fetch ${url}: HTTP ${res.status}`);
  return await res.arrayBuffer();
}

/** Candidate locations of a .wasm file: beside the bundle, or the build output seen from src/. */
function defaultUrls(file: string): URL[] {
  const here = import.meta.url;
  return [new URL(`./${file}`, here), new URL(`../../../dist/${file}`, here)];
}

/** Compiles the given module, bytes or URL; without a source, the named build's file (default: plain SIMD, private memory). */
export async function compileKernels(source?: WasmSource, file = WASM_FILE): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer) return WebAssembly.compile(source);
  if (ArrayBuffer.isView(source)) {
    return WebAssembly.compile(new Uint8Array(source.buffer, source.byteOffset, source.byteLength).slice());
  }
  const urls = source === undefined ? defaultUrls(file) : [new URL(String(source), import.meta.url)];
  const errors: string[] = [];
  for (const url of urls) {
    try {
      return await WebAssembly.compile(await readUrl(url));
    } catch (e) {
      errors.push(`${url}: ${(e as Error).message}`);
    }
  }
  throw new Error(
    `wasmtail: could not load the kernels' WebAssembly module (${errors.join('; ')}); ` +
      'run `npm run build`, or pass init({ module }) / init({ wasm: bytes })',
  );
}

export interface KernelInstance {
  module: WebAssembly.Module;
  // biome-ignore lint/suspicious/noExplicitAny: untyped WebAssembly exports (kernel functions with their own signatures, and globals), called by name
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  heapBase: number;
  /** The module's build: relaxed SIMD or not, shared memory (threads) or not. */
  relaxedSimd: boolean;
  sharedMemory: boolean;
}

/** The imports the kernels expect: the memory and an abort hook (kernels are built with noAssert; it should never fire). */
export function kernelImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`wasmtail: kernel aborted at line ${line}:${col}`);
      },
    },
  };
}

/**
 * Instantiates the kernels over a fresh linear memory (grown by the allocator
 * on demand): shared when the module imports a shared memory (a -threads
 * build), private otherwise. A module of unknown build is tried both ways.
 */
export async function instantiateKernels(module: WebAssembly.Module, maxPages = 65536): Promise<KernelInstance> {
  let lastError: unknown;
  for (const shared of hasThreads() ? [true, false] : [false]) {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: maxPages, shared } as WebAssembly.MemoryDescriptor);
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(module, kernelImports(memory));
    } catch (e) {
      if (!(e instanceof WebAssembly.LinkError)) throw e;
      lastError = e;
      continue;
    }
    // biome-ignore lint/suspicious/noExplicitAny: untyped WebAssembly exports (kernel functions with their own signatures, and globals), called by name
    const exports = instance.exports as Record<string, any>;
    const features = typeof exports.kernelFeatures === 'function' ? (exports.kernelFeatures() as number) : 0;
    return {
      module,
      exports,
      memory,
      heapBase: exports.heapBase() as number,
      relaxedSimd: (features & 1) !== 0,
      sharedMemory: shared,
    };
  }
  throw lastError;
}
