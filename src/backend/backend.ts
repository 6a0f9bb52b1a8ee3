/**
 * The Backend interface: the short list of primitives every compute backend
 * implements. Everything else (autograd, broadcasting, composite ops, losses,
 * models) is written once in TypeScript on top of this list.
 *
 * Conventions, for every method:
 * - A `Storage` is an opaque handle to `length` float32 values owned by the
 *   backend (WASM linear memory, a GPU buffer, a Float32Array). Handles are
 *   created by `alloc` and returned with `free`.
 * - Tensors are dense, row-major, NCHW; shapes travel as plain numbers.
 * - Outputs are overwritten unless the method says it accumulates.
 * - Methods never allocate storages the caller can see; scratch space is the
 *   backend's own business.
 */
export interface Storage {
  /** Number of float32 elements. */
  readonly length: number;
}

/** Geometry of a 2-D convolution, NCHW input [n, c, h, w], weight [oc, c, kh, kw]. */
export interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  oc: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  oh: number;
  ow: number;
}

/**
 * A convolution filter in the layout a backend's forward reads for one
 * geometry (capability 'preparedConv'): what conv2dPrepareFilter returns.
 * Holds no copy of the weights beyond `storage`; changing the weights later
 * does not change it.
 */
export interface PreparedFilter {
  /** The caller's storage it was written to (conv2dPreparedFilterLength elements); the caller frees it. */
  readonly storage: Storage;
  /** The geometry it was prepared for; forwards may take any batch size. */
  readonly geometry: ConvGeometry;
  /** The backend's own tag for the layout (which kernel path reads it). */
  readonly layout: number;
}

export function convGeometry(xShape: readonly number[], wShape: readonly number[], stride: number, pad: number): ConvGeometry {
  const [n, c, h, w] = xShape;
  const [oc, , kh, kw] = wShape;
  return {
    n,
    c,
    h,
    w,
    oc,
    kh,
    kw,
    stride,
    pad,
    oh: Math.floor((h + 2 * pad - kh) / stride) + 1,
    ow: Math.floor((w + 2 * pad - kw) / stride) + 1,
  };
}

export type UnaryOp = 'relu' | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';
export type ReduceOp = 'sum' | 'max';

/**
 * What a backend offers beyond what every backend must, stated once in its
 * `capabilities`: the ops consult this set, never whether a method exists.
 * - 'conv2dForwardAffine': the inference fusion of that name.
 * - 'batchNormAct': the training fusion batchNormActForwardTrain / batchNormActBackward.
 * - 'threads': setThreads() can run kernels on more than one thread.
 * - 'preparedConv': conv2dPrepareFilter / conv2dForwardAffinePrepared, the
 *   fused inference forward with its filter transformed once (inference plans).
 * - 'asyncRead': read() returns a Promise (the values live on a device), so
 *   ops never read back mid-graph and `toFloat32Array()` refuses.
 * A backend without a capability still has its methods; they throw.
 */
export type Capability = 'conv2dForwardAffine' | 'preparedConv' | 'batchNormAct' | 'threads' | 'asyncRead';

export interface Backend {
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** Extra facts for `info()`: SIMD build, threads, adapter... */
  describe(): Record<string, unknown>;

  // --- storage -------------------------------------------------------------
  alloc(length: number): Storage;
  free(s: Storage): void;
  write(s: Storage, data: Float32Array, offset?: number): void;
  /** A copy of the values. Synchronous backends return the array itself. */
  read(s: Storage): Float32Array | Promise<Float32Array>;
  /** Bytes currently reserved by the backend (for memory tests and info()). */
  memoryBytes(): number;
  /**
   * Releases what the backend holds outside the JS heap: worker threads (the
   * WASM backend then runs on one thread), a GPU device (the WebGPU backend is
   * then unusable). Nothing on the reference backend.
   */
  dispose(): void;
  /** Uses n threads in all, the calling one included, where the 'threads' capability allows; resolves to the number in use. */
  setThreads(n: number): Promise<number>;

  // --- elementwise -----------------------------------------------------------
  fill(y: Storage, value: number, n: number): void;
  copy(x: Storage, y: Storage, n: number): void;
  unary(op: UnaryOp, x: Storage, y: Storage, n: number): void;
  /** y = a (op) b, all of length n. */
  binary(op: BinaryOp, a: Storage, b: Storage, y: Storage, n: number): void;
  /** y = alpha * x + beta * y (beta = 0 ignores y's old values, NaN included). */
  axpby(alpha: number, x: Storage, beta: number, y: Storage, n: number): void;
  /** dx = dy where x > 0 else 0. */
  reluBackward(x: Storage, dy: Storage, dx: Storage, n: number): void;
  /**
   * y (shape, contiguous) = a (op) b with each operand read at its own
   * strides in elements (0 along the dims it is broadcast over): NumPy
   * broadcasting without copies. Strides come from layout.ts.
   */
  binaryStrided(
    op: BinaryOp,
    a: Storage,
    aStrides: readonly number[],
    b: Storage,
    bStrides: readonly number[],
    y: Storage,
    shape: readonly number[],
  ): void;
  /**
   * General broadcasting: y (shape outShape) = x (shape xShape, same rank,
   * each dim 1 or equal) expanded along its size-1 dims.
   */
  broadcastTo(x: Storage, xShape: readonly number[], y: Storage, outShape: readonly number[]): void;

  // --- reductions --------------------------------------------------------------
  /**
   * y[o, i] = sum (or max) over a of x[o, a, i]: x is [outer, axis, inner], y
   * [outer, inner]: the sum of a whole array is (1, n, 1), a bias gradient's
   * column sums (1, rows, cols). Sums are accurate beyond a running f32 sum
   * (f32 lane sums flushed into an f64 total every 1,024 elements where the
   * backend has f64); max propagates NaN. Sums over several dims are
   * composed from it (ops/reduce.ts).
   */
  reduceAxis(op: ReduceOp, x: Storage, y: Storage, outer: number, axis: number, inner: number): void;

  // --- dense ---------------------------------------------------------------------
  /**
   * C = alpha * op(A) * op(B) + beta * C, row-major, op(A) is [m, k], op(B) [k, n].
   * transA: A is stored [k, m]; transB: B is stored [n, k].
   */
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
  ): void;

  // --- convolution (no bias) -------------------------------------------------------
  conv2dForward(x: Storage, w: Storage, y: Storage, g: ConvGeometry): void;
  /**
   * Capability 'conv2dForwardAffine', inference only: y = act(conv(x, w) * scale[o] + shift[o] + residual),
   * per output channel o (an eval-mode batch norm folded into an affine map),
   * residual of y's shape or null, act = ReLU where relu. Fused so that the
   * output is touched once while in cache; backends without it get the
   * separate conv, batch-norm, add and ReLU primitives (src/ops/fused.ts).
   */
  conv2dForwardAffine(
    x: Storage,
    w: Storage,
    y: Storage,
    g: ConvGeometry,
    scale: Storage,
    shift: Storage,
    residual: Storage | null,
    relu: boolean,
  ): void;
  /**
   * Capability 'preparedConv': elements of the storage conv2dPrepareFilter
   * writes for geometry g (at its batch size: on WASM plans of fewer than 4
   * images keep Winograd F(2,3) on images under 12x12).
   */
  conv2dPreparedFilterLength(g: ConvGeometry): number;
  /**
   * Capability 'preparedConv': w [oc, c, kh, kw] into `prepared`
   * (conv2dPreparedFilterLength(g) elements) in the layout the forward takes
   * for g: on WASM the Winograd transform U = G w G^T where g takes Winograd,
   * else a copy. For weights that do not change (inference plans), so that
   * the transform is paid once, not per call.
   */
  conv2dPrepareFilter(w: Storage, prepared: Storage, g: ConvGeometry): PreparedFilter;
  /**
   * Capability 'preparedConv': conv2dForwardAffine with a filter prepared for
   * g's geometry (any batch size; another geometry throws), bit-identical to
   * conv2dForwardAffine on the weights it was prepared from where it was
   * prepared for 4 images or more (fewer: within float rounding, F(2,3)
   * where conv2dForwardAffine takes F(4,3) on images under 12x12).
   */
  conv2dForwardAffinePrepared(
    x: Storage,
    filter: PreparedFilter,
    y: Storage,
    g: ConvGeometry,
    scale: Storage,
    shift: Storage,
    residual: Storage | null,
    relu: boolean,
  ): void;
  conv2dBackwardInput(dy: Storage, w: Storage, dx: Storage, g: ConvGeometry): void;
  conv2dBackwardFilter(x: Storage, dy: Storage, dw: Storage, g: ConvGeometry): void;

  // --- pooling ------------------------------------------------------------------------
  /** y[nc] = mean of x[nc, 0..hw). */
  globalAvgPoolForward(x: Storage, y: Storage, nc: number, hw: number): void;
  globalAvgPoolBackward(dy: Storage, dx: Storage, nc: number, hw: number): void;

  // --- shortcut --------------------------------------------------------------------------
  /**
   * The CIFAR ResNet "option A" shortcut (He et al. 2016): y [n, c + 2 padC, oh, ow] =
   * x[:, :, ::stride, ::stride] with padC zero channels on each side; oh = ceil(h / stride).
   */
  downsamplePadChannels(x: Storage, y: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void;
  /** Its gradient: dx (overwritten) receives dy at the sampled positions, zero elsewhere. */
  downsamplePadChannelsBackward(dy: Storage, dx: Storage, n: number, c: number, h: number, w: number, stride: number, padC: number): void;

  // --- batch norm (NCHW, statistics per channel over n * hw values) ---------------------
  /**
   * Training mode: normalise with the batch statistics, write saveMean and
   * saveInvStd (1 / sqrt(biased var + eps)) for the backward pass, and update
   * the running statistics in place as PyTorch does (unbiased variance).
   */
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
  ): void;
  /** Eval mode: normalise with the running statistics. */
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
  ): void;
  /**
   * Gradients for x, gamma, beta. training = true: mean/invStd are the batch
   * statistics saved by the forward and dx includes their dependence on x;
   * training = false: they are the running statistics (mean, 1/sqrt(var+eps)),
   * constants, and dx = dy * gamma * invStd.
   */
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
  ): void;

  /**
   * Capability 'batchNormAct', training mode: batchNormForwardTrain, then + residual (x's
   * shape; null for none), then ReLU where relu, in one pass over y: what a
   * ResNet block does after each convolution. Backends without it get the
   * separate primitives (src/ops/batchnorm.ts).
   */
  batchNormActForwardTrain(
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
    residual: Storage | null,
    relu: boolean,
  ): void;
  /**
   * Capability 'batchNormAct', its backward from the output y: g = (y > 0 ? dy : 0) where relu
   * (else dy); dres = g unless null; dx, dgamma, dbeta = the training-mode
   * batchNormBackward of g. dx may be dy.
   */
  batchNormActBackward(
    x: Storage,
    y: Storage,
    dy: Storage,
    gamma: Storage,
    mean: Storage,
    invStd: Storage,
    dx: Storage,
    dgamma: Storage,
    dbeta: Storage,
    dres: Storage | null,
    n: number,
    c: number,
    hw: number,
    relu: boolean,
  ): void;

  // --- fused losses ------------------------------------------------------------------------
  /**
   * Softmax cross-entropy over logits [n, c]: loss[0] = sum_i w_{y_i} * l_i / sum_i w_{y_i}
   * (PyTorch's weighted mean; w = 1 when weights is null), dlogits = d loss / d logits.
   */
  softmaxCrossEntropy(
    logits: Storage,
    labels: Int32Array,
    weights: Storage | null,
    n: number,
    c: number,
    loss: Storage,
    dlogits: Storage,
  ): void;
  /**
   * Feature-balanced loss (Li et al., ICME 2022): logit_j = z_j - s_j / (||f_i|| + 1e-12),
   * s = stimulus per class (curr * lambda * lam_j), cross-entropy (mean) on logit.
   * Writes loss[0], dlogits = d/dz, dfeatures = d/df ([n, d]).
   */
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
  ): void;

  // --- optimiser ------------------------------------------------------------------------------
  /**
   * SGD as torch.optim.SGD (dampening 0), in place:
   * g = grad + weightDecay * param; buf = momentum * buf + g;
   * step = nesterov ? g + momentum * buf : buf; param -= lr * step.
   * With momentum = 0, buf is untouched (may be null).
   */
  sgdStep(
    param: Storage,
    grad: Storage,
    momentumBuf: Storage | null,
    n: number,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
  ): void;
}

/** Throws unless `filter` was prepared for g's geometry (the batch size aside). */
export function checkPreparedGeometry(backend: string, filter: PreparedFilter, g: ConvGeometry): void {
  const p = filter.geometry;
  const fields = ['c', 'h', 'w', 'oc', 'kh', 'kw', 'stride', 'pad', 'oh', 'ow'] as const;
  const differs = fields.filter((f) => p[f] !== g[f]);
  if (differs.length > 0) {
    const show = (q: ConvGeometry) => differs.map((f) => `${f}=${q[f]}`).join(' ');
    throw new Error(`wasmtail: ${backend}.conv2dForwardAffinePrepared(): filter prepared for ${show(p)}, called with ${show(g)}`);
  }
}

/** The error a backend throws from a method whose capability it lacks. */
export function lacksCapability(backend: string, capability: Capability, method: string): Error {
  return new Error(`wasmtail: the ${backend} backend lacks the '${capability}' capability (${method}); check backend.capabilities first`);
}
