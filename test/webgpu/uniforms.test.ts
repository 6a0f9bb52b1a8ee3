/// <reference types="@webgpu/types" />
// The WGSL kernels' declarations (src/backend/webgpu/kernels/common.ts), on
// the CPU (no adapter needed): every uniform a kernel's WGSL reads is one it
// declares, the packing follows WGSL's uniform layout, and a call that
// leaves out a uniform, names an unknown one or passes a non-u32 is refused
// with the kernel's name instead of reaching the GPU as wrong numbers. And
// every kernel's WGSL compiles and its pipeline builds on Dawn's Null backend
// (the 'webgpu' package's validation, no GPU or Vulkan driver needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packUniforms, uniformLayout, uniformStruct } from '../../src/backend/webgpu/kernels/common.js';
import { ELEMENTWISE_KERNELS } from '../../src/backend/webgpu/kernels/elementwise.js';
import { REDUCE_KERNELS, WALK_UNIFORMS } from '../../src/backend/webgpu/kernels/reduce.js';
import { GEMM_KERNELS } from '../../src/backend/webgpu/kernels/gemm.js';
import { BATCHNORM_KERNELS } from '../../src/backend/webgpu/kernels/batchnorm.js';
import { LOSS_KERNELS } from '../../src/backend/webgpu/kernels/loss.js';

const ALL = { ...ELEMENTWISE_KERNELS, ...REDUCE_KERNELS, ...GEMM_KERNELS, ...BATCHNORM_KERNELS, ...LOSS_KERNELS };

test('every uniform a kernel reads (p.name) is declared, and every declared buffer is bound', () => {
  assert.ok(Object.keys(ALL).length > 30);
  for (const [name, k] of Object.entries(ALL)) {
    const declared = new Set(k.uniforms.map((f) => f.name));
    for (const [, used] of k.code.matchAll(/\bp\.(\w+)/g)) assert.ok(declared.has(used), `${name} reads p.${used}, not declared`);
    k.buffers.forEach((b, i) => {
      assert.match(k.code, new RegExp(`@binding\\(${i + 1}\\) var<storage, read_write> ${b}:`), `${name}: buffer ${b}`);
    });
  }
});

test('arrays start on 16 bytes (vec4 rows), as WGSL lays out a uniform struct', () => {
  assert.deepEqual(
    uniformLayout(WALK_UNIFORMS).map(({ field, offset }) => [field.name, offset]),
    [
      ['rank', 0],
      ['total', 1],
      ['shape', 4],
      ['sa', 12],
      ['sb', 20],
    ],
  );
  assert.match(uniformStruct(WALK_UNIFORMS), /shape: array<vec4<u32>, 2>, sa: array<vec4<u32>, 2>/);
  const words = new Uint32Array(packUniforms('walk', WALK_UNIFORMS, { rank: 2, total: 6, shape: [2, 3], sa: [3, 1], sb: [0, 1] }));
  assert.deepEqual(Array.from(words.subarray(0, 24)), [2, 6, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
});

test('packing: u32 then f32 fields by name; missing, unknown and non-u32 values refused', () => {
  const sgd = ELEMENTWISE_KERNELS.sgdStep.uniforms;
  const buf = packUniforms('sgdStep', sgd, { n: 5, nesterov: 1, lr: 0.5, momentum: 0.25, weightDecay: 0 });
  assert.deepEqual(Array.from(new Uint32Array(buf, 0, 2)), [5, 1]);
  assert.deepEqual(Array.from(new Float32Array(buf, 8, 3)), [0.5, 0.25, 0]);
  assert.throws(
    () => packUniforms('sgdStep', sgd, { n: 5, lr: 0.5, momentum: 0.25, weightDecay: 0 }),
    /sgdStep: uniform nesterov not given/,
  );
  assert.throws(
    () => packUniforms('sgdStep', sgd, { n: 5, nesterov: 0, lr: 0.5, momentum: 0.25, weightDecay: 0, eps: 1 }),
    /sgdStep has no uniform eps/,
  );
  assert.throws(
    () => packUniforms('sgdStep', sgd, { n: -1, nesterov: 0, lr: 0.5, momentum: 0.25, weightDecay: 0 }),
    /uniform n = -1 is not a u32/,
  );
  assert.throws(
    () => packUniforms('walk', WALK_UNIFORMS, { rank: 9, total: 1, shape: new Array(9).fill(1), sa: [], sb: [] }),
    /9 values for uniform shape\[8\]/,
  );
});

/** Dawn's instance: it must stay reachable while its device lives (see src/backend/webgpu/device.ts). */
let dawn: GPU | null = null;

test('every kernel compiles and builds its pipeline (Dawn Null backend)', async (t) => {
  let device: GPUDevice;
  try {
    const { create } = await import('webgpu');
    dawn = create(['backend=null']);
    const adapter = await dawn.requestAdapter();
    if (!adapter) throw new Error('no Null adapter');
    device = await adapter.requestDevice();
  } catch (e) {
    if (process.env.CI) throw e;
    t.skip(`Dawn's Null backend is unavailable: ${(e as Error).message}`);
    return;
  }
  const failures: string[] = [];
  for (const [name, k] of Object.entries(ALL)) {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: name, code: k.code });
    const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
    device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const err = await device.popErrorScope();
    if (errors.length || err) failures.push(`${name}: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ') || err!.message}`);
  }
  device.destroy();
  dawn = null;
  assert.deepEqual(failures, []);
});
