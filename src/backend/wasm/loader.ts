/**
 * Loading the kernels' WebAssembly module in any runtime. Edge runtimes
 * (Cloudflare Workers) forbid compiling from bytes, so an already compiled
 * WebAssembly.Module is accepted first; then bytes; then the .wasm file next
 * to this module, read with fs under Node and fetched elsewhere.
 */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string;

/** (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt): validates only where SIMD exists. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export function hasSimd(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

export const WASM_FILE = 'wasmtail.wasm';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

async function readUrl(url: URL): Promise<ArrayBuffer> {
  if (url.protocol === 'file:' && isNode) {
    const fs = await import('node:fs/promises');
    const bytes = await fs.readFile(url);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`wasmtail: could not fetch ${url}: HTTP ${res.status}`);
  return await res.arrayBuffer();
}

/** Candidate locations of the .wasm file: beside the bundle, or the build output seen from src/. */
function defaultUrls(): URL[] {
  const here = import.meta.url;
  return [new URL(`./${WASM_FILE}`, here), new URL(`../../../dist/${WASM_FILE}`, here)];
}

export async function compileKernels(source?: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer) return WebAssembly.compile(source);
  if (ArrayBuffer.isView(source)) {
    return WebAssembly.compile(new Uint8Array(source.buffer, source.byteOffset, source.byteLength).slice());
  }
  const urls = source === undefined ? defaultUrls() : [new URL(String(source), import.meta.url)];
  const errors: string[] = [];
  for (const url of urls) {
    try {
      return await WebAssembly.compile(await readUrl(url));
    } catch (e) {
      errors.push(`${url}: ${(e as Error).message}`);
    }
  }
  throw new Error(`wasmtail: could not load the kernels' WebAssembly module (${errors.join('; ')}); ` +
    'run `npm run build`, or pass init({ module }) / init({ wasm: bytes })');
}

export interface KernelInstance {
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  heapBase: number;
}

/** Instantiates the kernels over a fresh linear memory (grown by the allocator on demand). */
export async function instantiateKernels(module: WebAssembly.Module, maxPages = 65536): Promise<KernelInstance> {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: maxPages });
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`wasmtail: kernel aborted at line ${line}:${col}`);
      },
    },
  });
  const exports = instance.exports as Record<string, any>;
  return { exports, memory, heapBase: exports.heapBase() as number };
}
