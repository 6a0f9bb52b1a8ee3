// Loading the kernels every way a runtime allows, and what info() reports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as wt from '../src/index.js';

const wasmPath = new URL('../dist/wasmtail.wasm', import.meta.url);

describe('init', () => {
  it('from an already compiled WebAssembly.Module (edge runtimes)', async () => {
    const module = await WebAssembly.compile(readFileSync(wasmPath));
    await wt.init({ module });
    assert.equal(wt.info().backend, 'wasm');
    assert.deepEqual(wt.add(wt.tensor([1, 2]), wt.tensor([3, 4])).toFloat32Array(), Float32Array.of(4, 6));
  });

  it('from bytes, and from a path', async () => {
    await wt.init({ wasm: readFileSync(wasmPath) });
    assert.equal(wt.sum(wt.tensor([1, 2, 3])).item(), 6);
    await wt.init({ wasm: wasmPath });
    assert.equal(wt.sum(wt.tensor([1, 2, 3])).item(), 6);
  });

  it('by default from the .wasm next to the module, reporting SIMD in info()', async () => {
    await wt.init();
    const info = wt.info();
    assert.equal(info.backend, 'wasm');
    assert.equal(info.simd, true);
    // Node 20 keeps relaxed SIMD behind a V8 flag, which init() switches on.
    assert.equal(info.build, 'relaxed-simd');
    assert.equal(info.threads, availableParallelism());
  });

  it('the plain or the relaxed-SIMD build on request, and the thread count', async () => {
    await wt.init({ simd: 'plain', threads: 1 });
    assert.equal(wt.info().build, 'simd128');
    assert.equal(wt.info().threads, 1);
    await wt.init({ simd: 'relaxed', threads: 2 });
    assert.equal(wt.info().build, 'relaxed-simd');
    assert.equal(wt.info().threads, 2);
    assert.equal(await wt.setThreads(1), 1);
    await assert.rejects(wt.init({ simd: 'fma' as 'auto' }), /simd must be 'auto', 'relaxed' or 'plain'/);
    await assert.rejects(wt.setThreads(0), /threads must be a positive integer/);
    await wt.init();
  });

  it('a clear error for bytes that are not the kernels', async () => {
    await assert.rejects(wt.init({ wasm: new Uint8Array([1, 2, 3]) }), /CompileError|WebAssembly/);
    await assert.rejects(wt.init({ wasm: '/nonexistent/wasmtail.wasm' }), /could not load the kernels' WebAssembly module/);
    await wt.init();
  });

  it('the plain-TypeScript reference backend on request', async () => {
    await wt.init({ backend: 'reference' });
    assert.equal(wt.info().backend, 'reference');
    assert.equal(wt.sum(wt.tensor([1, 2, 3])).item(), 6);
    await wt.init();
  });

  it('refuses an unknown backend', async () => {
    await assert.rejects(wt.init({ backend: 'cuda' as 'wasm' }), /unknown backend 'cuda'/);
  });

  it('tensor() validates its input', async () => {
    await wt.init();
    assert.throws(() => wt.tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\]/);
    assert.throws(() => wt.tensor([1], [-1]), /non-negative integers/);
    assert.throws(() => wt.tensor(['1', 2] as unknown as number[], [2]), /element 0 is string/);
    assert.throws(() => wt.tensor(null as unknown as number[]), /must be a Float32Array or an array of numbers/);
    assert.throws(() => wt.matmul(wt.tensor([1, 2], [1, 2]), wt.tensor([1, 2], [1, 2])), /inner dimensions differ/);
    assert.throws(
      () => wt.conv2d(wt.tensor(new Float32Array(12), [1, 3, 2, 2]), wt.tensor(new Float32Array(8), [1, 2, 2, 2])),
      /3 channels but weight \[1, 2, 2, 2\] expects 2/,
    );
    assert.throws(() => wt.crossEntropy(wt.tensor([0, 0, 0, 0], [2, 2]), [0, 2]), /label 2 at index 1 is out of range \[0, 2\)/);
  });
});
