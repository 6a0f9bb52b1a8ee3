// Loads a build of the kernels (dist/wasmtail.wasm, or -relaxed) for
// kernel-level tests and benchmarks: raw exports plus helpers to move arrays
// in and out of memory.
import { compileKernels, enableRelaxedSimd, instantiateKernels, wasmFile } from '../../src/backend/wasm/loader.js';
import { LinearAllocator } from '../../src/backend/wasm/allocator.js';

export interface Harness {
  // biome-ignore lint/suspicious/noExplicitAny: untyped WebAssembly exports (kernel functions with their own signatures, and globals), called by name
  k: Record<string, any>;
  memory: WebAssembly.Memory;
  /** Allocates n float32 (or int32) slots, optionally filled; returns the byte offset. */
  alloc(n: number, init?: ArrayLike<number>): number;
  allocI32(values: ArrayLike<number>): number;
  /** Allocates raw bytes (workspaces). */
  allocBytes(bytes: number): number;
  /** A fresh copy of n float32 values at ptr. */
  read(ptr: number, n: number): Float32Array;
}

/** Plain SIMD, or relaxed SIMD (fused multiply-add): the kernels with a madd run on both. */
export type KernelBuild = 'simd' | 'relaxed';

/** The builds this runtime can run (relaxed SIMD switched on first under Node 20). */
export async function kernelBuilds(): Promise<KernelBuild[]> {
  return (await enableRelaxedSimd()) ? ['simd', 'relaxed'] : ['simd'];
}

export async function loadHarness(build: KernelBuild = 'simd'): Promise<Harness> {
  if (build === 'relaxed' && !(await enableRelaxedSimd())) throw new Error('relaxed SIMD is not available in this runtime');
  return harnessFor(await compileKernels(undefined, wasmFile(build === 'relaxed', false)));
}

/** The Harness over an instance of any compiled build of the kernels (tests compile their own variants too). */
export async function harnessFor(module: WebAssembly.Module): Promise<Harness> {
  const inst = await instantiateKernels(module);
  const heap = new LinearAllocator(inst.memory, inst.heapBase, 2 ** 32 - 65536);
  return {
    k: inst.exports,
    memory: inst.memory,
    alloc(n, init) {
      const ptr = heap.alloc(Math.max(1, n) * 4);
      const view = new Float32Array(inst.memory.buffer, ptr, n);
      if (init) view.set(init);
      else view.fill(0);
      return ptr;
    },
    allocI32(values) {
      const ptr = heap.alloc(Math.max(1, values.length) * 4);
      new Int32Array(inst.memory.buffer, ptr, values.length).set(values);
      return ptr;
    },
    allocBytes(bytes) {
      return heap.alloc(bytes);
    },
    read(ptr, n) {
      return new Float32Array(inst.memory.buffer, ptr, n).slice();
    },
  };
}
