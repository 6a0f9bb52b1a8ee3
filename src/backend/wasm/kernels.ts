// The WASM kernels' parameters, declared once: for every export of assembly/
// that the backend calls, its parameters by name in the AssemblyScript order,
// each an i32, an f32 or a pointer (a byte offset into linear memory) with
// the bytes the kernel touches there. From this table follow the calls
// (named arguments, turned into the positional list the export takes), the
// arity check when the module loads, and the bounds-checking debug mode
// (every pointer and length inside a live block of the allocator).
// test/kernels/signatures.test.ts compares the table with the .d.ts that
// asc emits for assembly/ (names, order and types), so the two cannot drift.
/** What a pointer's extent may depend on besides the other arguments. */
export interface ExtentContext {
  /** The module's exports (workspace sizes are computed by the kernels themselves). */
  exports: Record<string, (...args: number[]) => number>;
  /** The i32 at a byte offset (the strided walks' descriptors). */
  i32At(ptr: number): number;
}

type Args = Record<string, number>;
export interface Param {
  type: 'i32' | 'f32' | 'ptr';
  /** Pointers: the bytes read or written from the pointer on. */
  bytes?: (p: Args, ctx: ExtentContext) => number;
  /** Pointers that may be 0 for "none" (a missing residual, weights, momentum buffer). */
  optional?: boolean;
}

const i32: Param = { type: 'i32' };
const f32: Param = { type: 'f32' };
/** A pointer to `count(p)` f32 (or i32) values. */
const ptr = (count: (p: Args, ctx: ExtentContext) => number): Param => ({ type: 'ptr', bytes: (p, ctx) => 4 * count(p, ctx) });
const optPtr = (count: (p: Args) => number): Param => ({ ...ptr(count), optional: true });
/** A workspace of the size the module reports for these arguments. */
const convWork: Param = {
  type: 'ptr',
  bytes: (p, { exports }) => exports.conv2dWorkspaceBytes(p.n, p.c, p.h, p.w, p.oc, p.kh, p.kw, p.stride, p.pad, p.oh, p.ow),
};
/** A filter prepared by conv2dPrepareFilter, of the size the module reports for the geometry. */
const preparedFilter: Param = {
  type: 'ptr',
  bytes: (p, { exports }) => exports.conv2dPreparedFilterBytes(p.n, p.c, p.h, p.w, p.oc, p.kh, p.kw, p.stride, p.pad, p.oh, p.ow),
};
const gemmWork: Param = { type: 'ptr', bytes: (p, { exports }) => exports.gemmWorkspaceBytes(p.m, p.n, p.k) };

const geometry = { n: i32, c: i32, h: i32, w: i32, oc: i32, kh: i32, kw: i32, stride: i32, pad: i32, oh: i32, ow: i32 };
const xSize = (p: Args) => p.n * p.c * p.h * p.w;
const wSize = (p: Args) => p.oc * p.c * p.kh * p.kw;
const ySize = (p: Args) => p.n * p.oc * p.oh * p.ow;
/** The inference forwards' epilogue: y * scale[o] + shift[o] + residual, then ReLU where relu. */
const affineEpilogue = { scale: ptr((p) => p.oc), shift: ptr((p) => p.oc), residual: optPtr(ySize), relu: i32 };
const planes = (p: Args) => p.n * p.c * p.hw;
const channels = (p: Args) => p.c;
const shortcutOut = (p: Args) => p.n * (p.c + 2 * p.padC) * Math.ceil(p.h / p.stride) * Math.ceil(p.w / p.stride);

/** A strided walk's descriptor (assembly/broadcast.ts): rank, shape, then `operands` stride lists. */
function walkOf(desc: number, operands: number, ctx: ExtentContext): { shape: number[]; strides: number[][] } {
  const rank = ctx.i32At(desc);
  const word = (i: number) => ctx.i32At(desc + 4 * i);
  const shape = Array.from({ length: rank }, (_, d) => word(1 + d));
  const strides = Array.from({ length: operands }, (_, k) => shape.map((_, d) => word(1 + (k + 1) * rank + d)));
  return { shape, strides };
}
const walkSize = (desc: number, ctx: ExtentContext) => walkOf(desc, 0, ctx).shape.reduce((a, b) => a * b, 1);
/** Elements an operand read at its strides spans: 1 + its largest offset. */
function walkSpan(desc: number, operands: number, k: number, ctx: ExtentContext): number {
  const { shape, strides } = walkOf(desc, operands, ctx);
  if (shape.some((d) => d === 0)) return 0;
  return 1 + shape.reduce((acc, d, i) => acc + (d - 1) * strides[k][i], 0);
}
const descriptor = (operands: number): Param => ({ type: 'ptr', bytes: (p, ctx) => 4 * (1 + (operands + 1) * ctx.i32At(p.desc)) });

const batchNormTrain = {
  x: ptr(planes),
  gamma: ptr(channels),
  beta: ptr(channels),
  y: ptr(planes),
  runningMean: ptr(channels),
  runningVar: ptr(channels),
  saveMean: ptr(channels),
  saveInvStd: ptr(channels),
  n: i32,
  c: i32,
  hw: i32,
  momentum: f32,
  eps: f32,
};

export const KERNELS = {
  fill: { y: ptr((p) => p.n), value: f32, n: i32 },
  copy: { x: ptr((p) => p.n), y: ptr((p) => p.n), n: i32 },
  unary: { op: i32, x: ptr((p) => p.n), y: ptr((p) => p.n), n: i32 },
  binary: { op: i32, a: ptr((p) => p.n), b: ptr((p) => p.n), y: ptr((p) => p.n), n: i32 },
  binaryStrided: {
    op: i32,
    a: ptr((p, ctx) => walkSpan(p.desc, 2, 0, ctx)),
    b: ptr((p, ctx) => walkSpan(p.desc, 2, 1, ctx)),
    y: ptr((p, ctx) => walkSize(p.desc, ctx)),
    desc: descriptor(2),
  },
  broadcastStrided: { x: ptr((p, ctx) => walkSpan(p.desc, 1, 0, ctx)), y: ptr((p, ctx) => walkSize(p.desc, ctx)), desc: descriptor(1) },
  axpby: { alpha: f32, x: ptr((p) => p.n), beta: f32, y: ptr((p) => p.n), n: i32 },
  reluBackward: { x: ptr((p) => p.n), dy: ptr((p) => p.n), dx: ptr((p) => p.n), n: i32 },
  reduceAxis: { op: i32, x: ptr((p) => p.outer * p.axis * p.inner), y: ptr((p) => p.outer * p.inner), outer: i32, axis: i32, inner: i32 },
  gemmWorkspaceBytes: { m: i32, n: i32, k: i32 },
  sgemm: {
    transA: i32,
    transB: i32,
    m: i32,
    n: i32,
    k: i32,
    alpha: f32,
    a: ptr((p) => p.m * p.k),
    b: ptr((p) => p.k * p.n),
    beta: f32,
    c: ptr((p) => p.m * p.n),
    work: gemmWork,
  },
  sgemmRows: {
    transA: i32,
    transB: i32,
    m: i32,
    n: i32,
    k: i32,
    alpha: f32,
    a: ptr((p) => p.m * p.k),
    b: ptr((p) => p.k * p.n),
    beta: f32,
    c: ptr((p) => p.m * p.n),
    work: gemmWork,
    r0: i32,
    r1: i32,
  },
  conv2dWorkspaceBytes: geometry,
  conv2dForward: { x: ptr(xSize), wt: ptr(wSize), y: ptr(ySize), ...geometry, work: convWork },
  conv2dForwardAffine: { x: ptr(xSize), wt: ptr(wSize), y: ptr(ySize), ...geometry, work: convWork, ...affineEpilogue },
  conv2dPreparedFilterBytes: geometry,
  conv2dPrepareFilter: { wt: ptr(wSize), prepared: preparedFilter, ...geometry, work: convWork },
  conv2dForwardAffinePrepared: {
    x: ptr(xSize),
    prepared: preparedFilter,
    y: ptr(ySize),
    ...geometry,
    work: convWork,
    ...affineEpilogue,
    path: i32,
  },
  conv2dBackwardInput: { dy: ptr(ySize), wt: ptr(wSize), dx: ptr(xSize), ...geometry, work: convWork },
  conv2dBackwardFilter: { x: ptr(xSize), dy: ptr(ySize), dw: ptr(wSize), ...geometry, work: convWork },
  conv2dBackwardFilterChunks: { n: i32 },
  conv2dBackwardFilterParts: {
    x: ptr(xSize),
    dy: ptr(ySize),
    parts: ptr((p, { exports }) => exports.conv2dBackwardFilterChunks(p.n) * wSize(p)),
    ...geometry,
    g0: i32,
    g1: i32,
    work: convWork,
  },
  conv2dBackwardFilterReduce: { parts: ptr((p) => p.count * p.oc * p.K), count: i32, dw: ptr((p) => p.oc * p.K), oc: i32, K: i32 },
  downsamplePadChannels: { x: ptr(xSize), y: ptr(shortcutOut), n: i32, c: i32, h: i32, w: i32, stride: i32, padC: i32 },
  downsamplePadChannelsBackward: { dy: ptr(shortcutOut), dx: ptr(xSize), n: i32, c: i32, h: i32, w: i32, stride: i32, padC: i32 },
  globalAvgPoolForward: { x: ptr((p) => p.nc * p.hw), y: ptr((p) => p.nc), nc: i32, hw: i32 },
  globalAvgPoolBackward: { dy: ptr((p) => p.nc), dx: ptr((p) => p.nc * p.hw), nc: i32, hw: i32 },
  batchNormForwardTrainChannels: { ...batchNormTrain, c0: i32, c1: i32 },
  batchNormActForwardTrainChannels: { ...batchNormTrain, residual: optPtr(planes), relu: i32, c0: i32, c1: i32 },
  batchNormForwardEvalChannels: {
    x: ptr(planes),
    gamma: ptr(channels),
    beta: ptr(channels),
    y: ptr(planes),
    runningMean: ptr(channels),
    runningVar: ptr(channels),
    n: i32,
    c: i32,
    hw: i32,
    eps: f32,
    c0: i32,
    c1: i32,
  },
  batchNormBackwardChannels: {
    x: ptr(planes),
    dy: ptr(planes),
    gamma: ptr(channels),
    mean: ptr(channels),
    invStd: ptr(channels),
    dx: ptr(planes),
    dgamma: ptr(channels),
    dbeta: ptr(channels),
    n: i32,
    c: i32,
    hw: i32,
    training: i32,
    c0: i32,
    c1: i32,
  },
  batchNormActBackwardChannels: {
    x: ptr(planes),
    y: ptr(planes),
    dy: ptr(planes),
    gamma: ptr(channels),
    mean: ptr(channels),
    invStd: ptr(channels),
    dx: ptr(planes),
    dgamma: ptr(channels),
    dbeta: ptr(channels),
    dres: optPtr(planes),
    n: i32,
    c: i32,
    hw: i32,
    relu: i32,
    c0: i32,
    c1: i32,
  },
  softmaxCrossEntropy: {
    logits: ptr((p) => p.n * p.c),
    labels: ptr((p) => p.n),
    weights: optPtr((p) => p.c),
    n: i32,
    c: i32,
    loss: ptr(() => 1),
    dlogits: ptr((p) => p.n * p.c),
  },
  featureBalancedLoss: {
    logits: ptr((p) => p.n * p.c),
    features: ptr((p) => p.n * p.d),
    labels: ptr((p) => p.n),
    stimulus: ptr((p) => p.c),
    n: i32,
    c: i32,
    d: i32,
    loss: ptr(() => 1),
    dlogits: ptr((p) => p.n * p.c),
    dfeatures: ptr((p) => p.n * p.d),
  },
  sgdStep: {
    param: ptr((p) => p.n),
    grad: ptr((p) => p.n),
    momentumBuf: optPtr((p) => p.n),
    n: i32,
    lr: f32,
    momentum: f32,
    weightDecay: f32,
    nesterov: i32,
  },
} satisfies Record<string, Record<string, Param>>;

export type KernelName = keyof typeof KERNELS;
/** A kernel's arguments by name. */
export type KernelArgs<K extends KernelName> = { [P in keyof (typeof KERNELS)[K]]: number };

/** Each kernel's parameter names in order (computed once: calls are hot). */
const ORDER = new Map(Object.entries(KERNELS).map(([name, params]) => [name, Object.keys(params)]));

/** The kernel's positional arguments, in the order the export takes them. */
export function positional<K extends KernelName>(name: K, args: KernelArgs<K>): number[] {
  return ORDER.get(name)!.map((p) => (args as Args)[p]);
}

/** Where a named parameter sits in a kernel's positional arguments. */
export function argumentIndex(name: KernelName, param: string): number {
  const at = ORDER.get(name)!.indexOf(param);
  if (at < 0) throw new Error(`wasmtail: kernel ${name} has no parameter ${param}`);
  return at;
}

/**
 * Why a call's pointers are not inside live blocks, or null: the
 * bounds-checking debug mode. `outside(ptr, bytes)` is the allocator's check.
 */
export function checkKernelCall<K extends KernelName>(
  name: K,
  args: KernelArgs<K>,
  ctx: ExtentContext,
  outside: (ptr: number, bytes: number) => string | null,
): void {
  const params = KERNELS[name] as Record<string, Param>;
  for (const [p, param] of Object.entries(params)) {
    const value = (args as Args)[p];
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`wasmtail: kernel ${name}(): argument ${p} is ${String(value)}`);
    if (param.type !== 'ptr' || (param.optional && value === 0)) continue;
    const bytes = param.bytes!(args as Args, ctx);
    if (bytes === 0) continue;
    const why = outside(value, bytes);
    if (why) throw new Error(`wasmtail: bounds check: kernel ${name}(): argument ${p}: ${why}`);
  }
}

/** Every kernel in the table must exist in the module with as many parameters: a stale .wasm fails here, at load. */
export function checkExports(exports: Record<string, unknown>): void {
  for (const [name, params] of Object.entries(KERNELS)) {
    const f = exports[name];
    if (typeof f !== 'function') throw new Error(`wasmtail: the kernel module lacks the export ${name} (rebuild it: npm run build:wasm)`);
    const want = Object.keys(params).length;
    if (f.length !== want)
      throw new Error(
        `wasmtail: the kernel module's ${name} takes ${f.length} arguments, the backend passes ${want} (rebuild it: npm run build:wasm)`,
      );
  }
}
