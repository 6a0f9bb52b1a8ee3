// The kernels compiled here with asc under compile-time constants (asc --use
// NAME=value, e.g. WINOGRAD_MODE=0), instantiated with a heap: the A/B
// benches run the production code of each variant through the same exports.
import asc from 'assemblyscript/asc';
import { fileURLToPath } from 'node:url';
import { instantiateKernels } from '../src/backend/wasm/loader.js';
import { LinearAllocator } from '../src/backend/wasm/allocator.js';

const CONFIG = fileURLToPath(new URL('../assembly/asconfig.json', import.meta.url));

export interface KernelVariant {
  // biome-ignore lint/suspicious/noExplicitAny: untyped WebAssembly exports (kernel functions with their own signatures, and globals), called by name
  k: Record<string, any>;
  mem: WebAssembly.Memory;
  heap: LinearAllocator;
}

/** The kernels of an asconfig target (simd, relaxed, ...) compiled with these constants, instantiated. */
export async function compileVariant(target: string, uses: string[]): Promise<KernelVariant> {
  let wasm: Uint8Array | null = null;
  const { error, stderr } = await asc.main(
    ['--config', CONFIG, '--target', target, ...uses.flatMap((u) => ['--use', u]), '-o', 'variant.wasm'],
    {
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith('.wasm')) wasm = contents as Uint8Array;
      },
    } as Parameters<typeof asc.main>[1],
  );
  if (error || !wasm) throw new Error(`asc ${target} ${uses.join(' ')}: ${error}\n${stderr}`);
  const inst = await instantiateKernels(await WebAssembly.compile((wasm as Uint8Array).slice()));
  return { k: inst.exports, mem: inst.memory, heap: new LinearAllocator(inst.memory, inst.heapBase, 2 ** 32 - 65536) };
}

/** Copies data into a fresh block of s's heap; returns its byte offset. */
export function put(s: KernelVariant, data: Float32Array): number {
  const p = s.heap.alloc(Math.max(1, data.length) * 4);
  new Float32Array(s.mem.buffer, p, data.length).set(data);
  return p;
}
