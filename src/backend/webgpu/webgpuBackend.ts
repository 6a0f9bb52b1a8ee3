/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend: every primitive as a WGSL compute kernel (kernels/),
 * storages as GPU buffers that stay on the device. Work is recorded into one
 * compute pass and submitted in batches (at most MAX_PENDING dispatches, and
 * before every write or read), so a training step costs a handful of
 * submits; reads are asynchronous (a staging buffer and mapAsync), which is
 * why the engine reads values with `await t.data()`.
 *
 * Validation errors in WebGPU are not exceptions: every batch runs inside
 * error scopes whose results the next read() awaits and throws, and
 * shaders' compilation messages are checked when the backend starts.
 */
import {
  type Backend,
  type BinaryOp,
  type Capability,
  type ConvGeometry,
  type PreparedFilter,
  type ReduceOp,
  type Storage,
  type UnaryOp,
  lacksCapability,
} from '../backend.js';
import { broadcastStrides, collapseLayout } from '../layout.js';
import { requestGpuDevice, type GpuDevice } from './device.js';
import { WG, type WgslKernel, packUniforms } from './kernels/common.js';
import { ELEMENTWISE_KERNELS } from './kernels/elementwise.js';
import { MAX_RANK, REDUCE_KERNELS } from './kernels/reduce.js';
import { GEMM_KERNELS, TILE, TILE_ROWS } from './kernels/gemm.js';
import { BATCHNORM_KERNELS } from './kernels/batchnorm.js';
import { LOSS_KERNELS } from './kernels/loss.js';

const KERNELS: Record<string, WgslKernel> = {
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
  ...GEMM_KERNELS,
  ...BATCHNORM_KERNELS,
  ...LOSS_KERNELS,
};

// GPUBufferUsage / GPUMapMode values (the globals are absent under Node).
const MAP_READ = 1;
const COPY_SRC = 4;
const COPY_DST = 8;
const UNIFORM = 64;
const STORAGE = 128;

/** Uniform parameters: one 256-byte slot per dispatch (minUniformBufferOffsetAlignment). */
const SLOT = 256;
/** Dispatches recorded before a submit. */
const MAX_PENDING = 256;
/** Buffers are rounded to this many bytes and recycled through exact-size free lists. */
const GRANULE = 256;
const MAX_GROUPS = 65535;

interface GpuStorage extends Storage {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

const buf = (s: Storage): GPUBuffer => (s as GpuStorage).buffer;

/** A call's uniform values and storages, by the names its kernel declares (kernels/common.ts). */
type Uniforms = Record<string, number | readonly number[]>;
type Storages = Record<string, Storage>;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly capabilities: ReadonlySet<Capability> = new Set(['asyncRead']);
  private readonly device: GPUDevice;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  private readonly freeLists = new Map<number, GPUBuffer[]>();
  private readonly stagingFree = new Map<number, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  private reserved = 0;
  private readonly paramsBuffer: GPUBuffer;
  private readonly paramsArena = new Uint8Array(SLOT * MAX_PENDING);
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private errorChecks: Promise<GPUError | null>[] = [];
  private failure: Error | null = null;
  private scratch: GpuStorage | null = null;
  private dummy: GpuStorage;
  private keepAlive: unknown;
  private disposed = false;
  readonly submits = { count: 0 };

  private constructor(private readonly gpu: GpuDevice) {
    this.device = gpu.device;
    this.keepAlive = gpu.keepAlive;
    this.device.addEventListener('uncapturederror', (e) => {
      this.failure ??= new Error(`wasmtail: WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
    });
    void this.device.lost.then((info) => {
      if (!this.disposed) this.failure ??= new Error(`wasmtail: WebGPU device lost (${info.reason}): ${info.message}`);
    });
    this.paramsBuffer = this.device.createBuffer({ size: SLOT * MAX_PENDING, usage: UNIFORM | COPY_DST });
    this.dummy = this.alloc(4) as GpuStorage;
  }

  /**
   * Finds the adapter (dawnOptions: see requestGpuDevice), opens the device
   * and checks every kernel's WGSL, failing on any error. Pipelines are built
   * on first use: a driver that compiles on the CPU (lavapipe, through LLVM)
   * takes about a second each.
   */
  static async create(dawnOptions: string[] = []): Promise<WebGpuBackend> {
    const b = new WebGpuBackend(await requestGpuDevice(dawnOptions));
    try {
      await b.compileAll();
    } catch (e) {
      b.dispose();
      throw e;
    }
    return b;
  }

  private async compileAll(): Promise<void> {
    const d = this.device;
    await Promise.all(
      Object.entries(KERNELS).map(async ([name, { code }]) => {
        d.pushErrorScope('validation');
        const module = d.createShaderModule({ label: name, code });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length > 0) {
          await d.popErrorScope();
          const lines = code.split('\n');
          throw new Error(
            `wasmtail: WGSL kernel '${name}' does not compile:\n` +
              errors.map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`).join('\n'),
          );
        }
        const err = await d.popErrorScope();
        if (err) throw new Error(`wasmtail: WebGPU kernel '${name}': ${err.message}`);
        this.modules.set(name, module);
      }),
    );
  }

  /** The kernel's pipeline, built on first use (its validation errors surface at the next read()). */
  private pipeline(name: string): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    let k = this.pipelines.get(name);
    if (!k) {
      const module = this.modules.get(name);
      if (!module) throw new Error(`wasmtail: no WebGPU kernel '${name}'`);
      const pipeline = this.device.createComputePipeline({ label: name, layout: 'auto', compute: { module, entryPoint: 'main' } });
      k = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.pipelines.set(name, k);
    }
    return k;
  }

  describe(): Record<string, unknown> {
    return { adapter: this.gpu.adapter, memoryBytes: this.reserved, threads: null, simd: null };
  }

  /** Destroys every buffer and the device, and drops the Dawn instance so Node can exit. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pass?.end();
    this.pass = null;
    this.encoder = null;
    for (const b of this.live) b.destroy();
    for (const list of this.stagingFree.values()) for (const b of list) b.destroy();
    this.live.clear();
    this.freeLists.clear();
    this.stagingFree.clear();
    this.paramsBuffer.destroy();
    this.device.destroy();
    this.keepAlive = null;
  }

  // --- storage -------------------------------------------------------------

  private assertLive(): void {
    if (this.disposed) throw new Error('wasmtail: the WebGPU backend was disposed (shutdown() or a new init()); call init() again');
  }

  alloc(length: number): Storage {
    this.assertLive();
    const bytes = Math.max(GRANULE, Math.ceil((length * 4) / GRANULE) * GRANULE);
    const list = this.freeLists.get(bytes);
    let buffer = list?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST });
      this.live.add(buffer);
      this.reserved += bytes;
    }
    const s: GpuStorage = { length, buffer, bytes };
    return s;
  }

  free(s: Storage): void {
    if (this.disposed) return;
    const { bytes, buffer } = s as GpuStorage;
    let list = this.freeLists.get(bytes);
    if (!list) {
      list = [];
      this.freeLists.set(bytes, list);
    }
    list.push(buffer);
  }

  write(s: Storage, data: Float32Array | Int32Array, offset = 0): void {
    if (offset + data.length > s.length)
      throw new Error(`wasmtail: write of ${data.length} values at ${offset} past a storage of ${s.length}`);
    this.assertLive();
    if (data.length === 0) return;
    // Queue writes run before any command buffer not yet submitted: submit first.
    this.flush();
    this.device.queue.writeBuffer(buf(s), offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  async read(s: Storage): Promise<Float32Array> {
    this.assertLive();
    this.flush();
    const bytes = s.length * 4;
    if (bytes === 0) {
      await this.checkErrors();
      return new Float32Array(0);
    }
    const size = (s as GpuStorage).bytes;
    const staging = this.stagingFree.get(size)?.pop() ?? this.device.createBuffer({ size, usage: MAP_READ | COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buf(s), 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    this.submits.count++;
    try {
      await staging.mapAsync(MAP_READ, 0, bytes);
    } catch (e) {
      await this.checkErrors();
      throw e;
    }
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    if (this.disposed) staging.destroy();
    else {
      let list = this.stagingFree.get(size);
      if (!list) {
        list = [];
        this.stagingFree.set(size, list);
      }
      list.push(staging);
    }
    await this.checkErrors();
    return out;
  }

  memoryBytes(): number {
    return this.reserved;
  }

  // --- recording and submitting ----------------------------------------------

  /**
   * Records one dispatch of a kernel: its uniforms packed and its storages
   * bound by the names the kernel declares (a name missing or unknown throws).
   */
  private dispatch(kernel: string, uniforms: Uniforms, named: Storages, x: number, y = 1, z = 1): void {
    this.assertLive();
    if (this.failure) throw this.failure;
    const k = KERNELS[kernel];
    if (!k) throw new Error(`wasmtail: no WebGPU kernel '${kernel}'`);
    for (const name of Object.keys(named)) {
      if (!k.buffers.includes(name)) throw new Error(`wasmtail: WebGPU kernel ${kernel} has no buffer ${name}`);
    }
    let storages = k.buffers.map((name) => {
      const st = named[name];
      if (!st) throw new Error(`wasmtail: WebGPU kernel ${kernel}: buffer ${name} not given`);
      return st;
    });
    const params = packUniforms(kernel, k.uniforms, uniforms);
    // One buffer bound twice (an in-place op: y = x + y) is forbidden in a bind group:
    // earlier occurrences, the inputs, read a copy instead.
    const copies: Storage[] = [];
    for (let i = 0; i < storages.length; i++) {
      if (storages.indexOf(storages[i], i + 1) < 0) continue;
      const s = storages[i];
      const tmp = this.alloc(s.length);
      this.dispatchFlat('copy', { n: s.length }, { x: s, y: tmp }, s.length);
      storages = storages.map((t, j) => (j === i ? tmp : t));
      copies.push(tmp);
    }
    this.record(kernel, params, storages, x, y, z);
    for (const tmp of copies) this.free(tmp);
  }

  private record(kernel: string, params: ArrayBuffer, storages: Storage[], x: number, y: number, z: number): void {
    const k = this.pipeline(kernel);
    if (!this.pass) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    const slot = this.pending++;
    this.paramsArena.set(new Uint8Array(params), slot * SLOT);
    const bindGroup = this.device.createBindGroup({
      layout: k.layout,
      entries: [
        { binding: 0, resource: { buffer: this.paramsBuffer, offset: slot * SLOT, size: SLOT } },
        ...storages.map((s, i) => ({ binding: i + 1, resource: { buffer: buf(s) } })),
      ],
    });
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    if (this.pending === MAX_PENDING) this.flush();
  }

  /** One invocation per element of a 1-D range of n, over a 2-D grid of workgroups. */
  private dispatchFlat(kernel: string, uniforms: Uniforms, storages: Storages, n: number): void {
    if (n === 0) return;
    const groups = Math.ceil(n / WG);
    const x = Math.min(groups, MAX_GROUPS);
    this.dispatch(kernel, uniforms, storages, x, Math.ceil(groups / x));
  }

  /** Submits what was recorded; its validation results are awaited by the next read(). */
  flush(): void {
    if (!this.pass || !this.encoder) return;
    this.pass.end();
    const commands = this.encoder.finish();
    this.device.queue.writeBuffer(this.paramsBuffer, 0, this.paramsArena, 0, this.pending * SLOT);
    this.device.queue.submit([commands]);
    this.submits.count++;
    // A destroyed device rejects pending scopes: nothing to report then.
    const pop = () => this.device.popErrorScope().catch(() => null);
    this.errorChecks.push(pop(), pop());
    this.pass = null;
    this.encoder = null;
    this.pending = 0;
  }

  private async checkErrors(): Promise<void> {
    const checks = this.errorChecks;
    this.errorChecks = [];
    for (const err of await Promise.all(checks)) {
      if (err) this.failure ??= new Error(`wasmtail: WebGPU error: ${err.message}`);
    }
    if (this.failure) throw this.failure;
  }

  /** Backend-owned scratch space (split-K partial sums, labels), grown on demand. */
  private scratchSpace(length: number): Storage {
    if (!this.scratch || this.scratch.length < length) {
      if (this.scratch) this.free(this.scratch);
      this.scratch = this.alloc(Math.ceil(length * 1.25)) as GpuStorage;
    }
    return this.scratch;
  }

  private labelStorage(labels: Int32Array): Storage {
    const s = this.alloc(labels.length);
    this.write(s, labels);
    return s;
  }

  // --- elementwise -----------------------------------------------------------

  fill(y: Storage, value: number, n: number): void {
    this.dispatchFlat('fill', { n, value }, { y }, n);
  }

  copy(x: Storage, y: Storage, n: number): void {
    this.dispatchFlat('copy', { n }, { x, y }, n);
  }

  unary(op: UnaryOp, x: Storage, y: Storage, n: number): void {
    if (!this.modules.has(`unary_${op}`)) throw new Error(`wasmtail: unknown unary op ${op}`);
    this.dispatchFlat(`unary_${op}`, { n }, { x, y }, n);
  }

  binary(op: BinaryOp, a: Storage, b: Storage, y: Storage, n: number): void {
    if (!this.modules.has(`binary_${op}`)) throw new Error(`wasmtail: unknown binary op ${op}`);
    this.dispatchFlat(`binary_${op}`, { n }, { a, b, y }, n);
  }

  axpby(alpha: number, x: Storage, beta: number, y: Storage, n: number): void {
    this.dispatchFlat('axpby', { n, alpha, beta }, { x, y }, n);
  }

  reluBackward(x: Storage, dy: Storage, dx: Storage, n: number): void {
    this.dispatchFlat('reluBackward', { n }, { x, dy, dx }, n);
  }

  /** The uniforms of a strided walk (kernels/reduce.ts): rank, total, the shape and up to two operands' strides. */
  private walk(shape: readonly number[], strides: readonly (readonly number[])[]): { uniforms: Uniforms; total: number } {
    const walk = collapseLayout(shape, strides);
    if (walk.shape.length > MAX_RANK)
      throw new Error(`wasmtail: the WebGPU backend broadcasts up to rank ${MAX_RANK}, got rank ${walk.shape.length}`);
    const total = sizeOf(walk.shape);
    return { uniforms: { rank: walk.shape.length, total, shape: walk.shape, sa: walk.strides[0], sb: walk.strides[1] ?? [] }, total };
  }

  binaryStrided(
    op: BinaryOp,
    a: Storage,
    aStrides: readonly number[],
    b: Storage,
    bStrides: readonly number[],
    y: Storage,
    shape: readonly number[],
  ): void {
    if (!this.modules.has(`binaryStrided_${op}`)) throw new Error(`wasmtail: unknown binary op ${op}`);
    const { uniforms, total } = this.walk(shape, [aStrides, bStrides]);
    this.dispatchFlat(`binaryStrided_${op}`, uniforms, { a, b, y }, total);
  }

  broadcastTo(x: Storage, xShape: readonly number[], y: Storage, outShape: readonly number[]): void {
    const { uniforms, total } = this.walk(outShape, [broadcastStrides(xShape, outShape)]);
    this.dispatchFlat('broadcastTo', uniforms, { x, y }, total);
  }

  // --- reductions ----------------------------------------------------------------

  reduceAxis(op: ReduceOp, x: Storage, y: Storage, outer: number, axis: number, inner: number): void {
    if (!this.modules.has(`reduceAxis_${op}`)) throw new Error(`wasmtail: unknown reduction ${op}`);
    // A whole array's sum: one workgroup's tree instead of one invocation's loop.
    if (op === 'sum' && outer * inner === 1) this.dispatch('sumAll', { n: axis }, { x, y }, 1);
    else this.dispatchFlat(`reduceAxis_${op}`, { n: outer * inner, axis, inner }, { x, y }, outer * inner);
  }

  // --- the fusions it lacks (see capabilities) -----------------------------------------

  conv2dForwardAffine(): void {
    throw lacksCapability(this.name, 'conv2dForwardAffine', 'conv2dForwardAffine');
  }

  conv2dPreparedFilterLength(): number {
    throw lacksCapability(this.name, 'preparedConv', 'conv2dPreparedFilterLength');
  }

  conv2dPrepareFilter(): PreparedFilter {
    throw lacksCapability(this.name, 'preparedConv', 'conv2dPrepareFilter');
  }

  conv2dForwardAffinePrepared(): void {
    throw lacksCapability(this.name, 'preparedConv', 'conv2dForwardAffinePrepared');
  }

  batchNormActForwardTrain(): void {
    throw lacksCapability(this.name, 'batchNormAct', 'batchNormActForwardTrain');
  }

  batchNormActBackward(): void {
    throw lacksCapability(this.name, 'batchNormAct', 'batchNormActBackward');
  }

  async setThreads(n: number): Promise<number> {
    if (!Number.isInteger(n) || n < 1) throw new Error(`wasmtail: threads must be a positive integer, got ${n}`);
    return 1;
  }

  // --- dense and convolution --------------------------------------------------------

  /** The GEMM template's uniforms (kernels/gemm.ts): the product, its K slice, the convolution geometry (zeros for a plain GEMM), alpha, beta. */
  private gemmParams(m: number, n: number, k: number, kChunk: number, g: ConvGeometry | null, alpha = 1, beta = 0): Uniforms {
    const geo = g ?? { n: 0, c: 0, h: 0, w: 0, oc: 0, kh: 0, kw: 0, stride: 0, pad: 0, oh: 0, ow: 0 };
    return {
      M: m,
      N: n,
      K: k,
      kChunk,
      nb: geo.n,
      c: geo.c,
      h: geo.h,
      w: geo.w,
      oc: geo.oc,
      kh: geo.kh,
      kw: geo.kw,
      stride: geo.stride,
      pad: geo.pad,
      oh: geo.oh,
      ow: geo.ow,
      alpha,
      beta,
    };
  }

  private dispatchGemm(kernel: string, params: Uniforms, storages: Storages, m: number, n: number, splits = 1): void {
    if (m === 0 || n === 0) return;
    const rows = TILE_ROWS.find((r) => r >= m) ?? TILE_ROWS[TILE_ROWS.length - 1];
    const x = Math.ceil(n / TILE);
    const y = Math.ceil(m / rows);
    if (x > MAX_GROUPS || y > MAX_GROUPS)
      throw new Error(`wasmtail: a ${m} x ${n} product is past the WebGPU backend's grid; use a smaller batch`);
    this.dispatch(`${kernel}_m${rows}`, params, storages, x, y, splits);
  }

  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Storage,
    b: Storage,
    beta: number,
    c: Storage,
  ): void {
    const kernel = `gemm_${transA ? 't' : 'n'}${transB ? 't' : 'n'}`;
    this.dispatchGemm(kernel, this.gemmParams(m, n, k, Math.max(k, 1), null, alpha, beta), { a, b, c }, m, n);
  }

  conv2dForward(x: Storage, w: Storage, y: Storage, g: ConvGeometry): void {
    const k = g.c * g.kh * g.kw;
    this.dispatchGemm('conv2dForward', this.gemmParams(g.oc, g.n * g.oh * g.ow, k, k, g), { x, w, y }, g.oc, g.n * g.oh * g.ow);
  }

  conv2dBackwardInput(dy: Storage, w: Storage, dx: Storage, g: ConvGeometry): void {
    const k = g.oc * g.kh * g.kw;
    this.dispatchGemm('conv2dBackwardInput', this.gemmParams(g.c, g.n * g.h * g.w, k, k, g), { dy, w, dx }, g.c, g.n * g.h * g.w);
  }

  conv2dBackwardFilter(x: Storage, dy: Storage, dw: Storage, g: ConvGeometry): void {
    // The reduction runs over every output position (K = n * oh * ow) into a small
    // [oc, c * kh * kw] result: split K so that enough workgroups run at once.
    const m = g.oc;
    const n = g.c * g.kh * g.kw;
    const k = g.n * g.oh * g.ow;
    const tiles = Math.ceil(m / 64) * Math.ceil(n / TILE);
    const wanted = Math.max(1, Math.min(Math.ceil(k / 512), Math.ceil(256 / tiles)));
    const kChunk = Math.ceil(k / wanted / 16) * 16;
    const splits = Math.max(1, Math.ceil(k / kChunk));
    const params = this.gemmParams(m, n, k, kChunk, g);
    if (splits === 1) {
      this.dispatchGemm('conv2dBackwardFilter', params, { x, dy, dw }, m, n);
      return;
    }
    const partial = this.scratchSpace(splits * m * n);
    this.dispatchGemm('conv2dBackwardFilter', params, { x, dy, dw: partial }, m, n, splits);
    this.dispatchFlat('splitKSum', { n: m * n, splits }, { partial, y: dw }, m * n);
  }

  // --- pooling and shortcut ------------------------------------------------------------

  globalAvgPoolForward(x: Storage, y: Storage, nc: number, hw: number): void {
    this.dispatchFlat('globalAvgPoolForward', { n: nc, hw }, { x, y }, nc);
  }

  globalAvgPoolBackward(dy: Storage, dx: Storage, nc: number, hw: number): void {
    this.dispatchFlat('globalAvgPoolBackward', { n: nc * hw, hw }, { dy, dx }, nc * hw);
  }

  downsamplePadChannels(x: Storage, y: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    const oh = Math.ceil(h / stride);
    const ow = Math.ceil(w / stride);
    const total = n * (c + 2 * padC) * oh * ow;
    this.dispatchFlat('downsamplePadChannels', { n: total, c, h, w, stride, padC, oh, ow }, { x, y }, total);
  }

  downsamplePadChannelsBackward(dy: Storage, dx: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void {
    const oh = Math.ceil(h / stride);
    const ow = Math.ceil(w / stride);
    const total = n * c * h * w;
    this.dispatchFlat('downsamplePadChannelsBackward', { n: total, c, h, w, stride, padC, oh, ow }, { dy, dx }, total);
  }

  // --- batch norm ---------------------------------------------------------------------------

  batchNormForwardTrain(
    x: Storage,
    gamma: Storage,
    beta: Storage,
    y: Storage,
    runningMean: Storage,
    runningVar: Storage,
    saveMean: Storage,
    saveInvStd: Storage,
    n: number,
    c: number,
    hw: number,
    momentum: number,
    eps: number,
  ): void {
    if (c === 0) return;
    this.dispatch(
      'batchNormForwardTrain',
      { n, c, hw, momentum, eps },
      { x, gamma, beta, y, runningMean, runningVar, saveMean, saveInvStd },
      c,
    );
  }

  batchNormForwardEval(
    x: Storage,
    gamma: Storage,
    beta: Storage,
    y: Storage,
    runningMean: Storage,
    runningVar: Storage,
    n: number,
    c: number,
    hw: number,
    eps: number,
  ): void {
    this.dispatchFlat('batchNormForwardEval', { n: n * c * hw, c, hw, eps }, { x, gamma, beta, y, runningMean, runningVar }, n * c * hw);
  }

  batchNormBackward(
    x: Storage,
    dy: Storage,
    gamma: Storage,
    mean: Storage,
    invStd: Storage,
    dx: Storage,
    dgamma: Storage,
    dbeta: Storage,
    n: number,
    c: number,
    hw: number,
    training: boolean,
  ): void {
    if (c === 0) return;
    this.dispatch('batchNormBackward', { n, c, hw, training: training ? 1 : 0 }, { x, dy, gamma, mean, invStd, dx, dgamma, dbeta }, c);
  }

  // --- fused losses and optimiser ---------------------------------------------------------------

  softmaxCrossEntropy(
    logits: Storage,
    labels: Int32Array,
    weights: Storage | null,
    n: number,
    c: number,
    loss: Storage,
    dlogits: Storage,
  ): void {
    const l = this.labelStorage(labels);
    this.dispatch(
      'softmaxCrossEntropy',
      { n, c, hasWeights: weights ? 1 : 0 },
      { logits, labels: l, weights: weights ?? this.dummy, loss, dlogits },
      1,
    );
    this.free(l);
  }

  featureBalancedLoss(
    logits: Storage,
    features: Storage,
    labels: Int32Array,
    stimulus: Storage,
    n: number,
    c: number,
    d: number,
    loss: Storage,
    dlogits: Storage,
    dfeatures: Storage,
  ): void {
    const l = this.labelStorage(labels);
    this.dispatch('featureBalancedLoss', { n, c, d }, { logits, features, labels: l, stimulus, loss, dlogits, dfeatures }, 1);
    this.free(l);
  }

  sgdStep(
    param: Storage,
    grad: Storage,
    momentumBuf: Storage | null,
    n: number,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
  ): void {
    if (momentum !== 0 && !momentumBuf) throw new Error('wasmtail: sgdStep with momentum needs a buffer');
    this.dispatchFlat(
      'sgdStep',
      { n, nesterov: nesterov ? 1 : 0, lr, momentum, weightDecay },
      { param, grad, buf: momentumBuf ?? this.dummy },
      n,
    );
  }
}
