/**
 * Planned inference for a CifarResNet at one input shape: what
 * `model.forward()` computes in eval mode, with every buffer allocated once.
 *
 * Built once per model and input shape, a plan holds
 * - each convolution's batch norm folded to scale and shift
 *   (src/ops/fused.ts's foldBatchNormEval, so the same bits as the op);
 * - each convolution's filter prepared for its geometry (capability
 *   'preparedConv': on WASM the Winograd transform U = G g G^T, which
 *   conv2dForwardAffine would redo on every call; about 0.2 ms of a batch-1
 *   ResNet-32 run, bench/RESULTS.md "Inference plans");
 * - three activation buffers that the residual blocks rotate through (block
 *   input, first conv's output, block output), one for the option-A
 *   shortcut, the pooled features and the logits;
 * - the list of backend calls with their geometry worked out.
 * run() then writes the input, makes those calls and reads the logits: no
 * tensors, scopes or tape, no storage allocated or freed, and results
 * bit-identical to model.forward() in eval mode on the same backend (the same
 * primitives on the same values in the same order).
 *
 * The plan takes the convolutions' weights (prepared) and batch-norm
 * statistics (folded) as they are when it is built; only the Linear
 * classifier's weight and bias are read when it runs. Build a new plan after
 * changing any of them (wasmtail/infer's predict() builds plans per loaded
 * model, whose weights do not change). The prepared filters are the plan's
 * own storage: up to 4x the conv weights (F(4,3)'s 36 points per 9 taps).
 */
import { type Backend, type ConvGeometry, type Storage, convGeometry } from '../backend/backend.js';
import { backend } from '../backend/current.js';
import { binaryInto } from '../ops/elementwise.js';
import { foldBatchNormEval } from '../ops/fused.js';
import type { BatchNorm2d, Conv2d } from './layers.js';
import { NormedLinear } from './normedLinear.js';
import { BasicBlock, type CifarResNet } from './resnet.js';

type Shape4 = readonly [number, number, number, number];

/** torch's F.normalize eps (1e-12), squared, as src/nn/normedLinear.ts adds it. */
const NORM_EPS_SQUARED = 1e-24;

export class ResNetInferencePlan {
  readonly inputShape: Shape4;
  readonly numClasses: number;
  private readonly be: Backend;
  /** Every storage the plan allocated, freed by dispose(). */
  private readonly owned: Storage[] = [];
  private readonly steps: (() => void)[] = [];
  private readonly input: Storage;
  private readonly logits: Storage;
  private disposed = false;

  constructor(model: CifarResNet, inputShape: Shape4) {
    const be = backend();
    if (!be.capabilities.has('preparedConv') || be.capabilities.has('asyncRead')) {
      throw new Error(
        `wasmtail: an inference plan needs a backend with prepared-filter convolutions (preparedConv) and synchronous reads; '${be.name}' lacks them`,
      );
    }
    const [n, c, h, w] = inputShape;
    if (![n, c, h, w].every((d) => Number.isInteger(d) && d > 0) || c !== model.opts.inChannels) {
      throw new Error(
        `wasmtail: ResNet-${6 * model.blocksPerStage + 2} plan: input shape [${inputShape.join(', ')}] is not NCHW with ${model.opts.inChannels} channels`,
      );
    }
    this.be = be;
    this.inputShape = [n, c, h, w];
    this.numClasses = model.opts.numClasses;
    this.input = this.alloc(n * c * h * w);

    // Shapes first, so that the rotating buffers are sized to the largest activation.
    const blocks = model.layers.flatMap((layer) => layer.items.map((b) => b as BasicBlock));
    if (!blocks.every((b) => b instanceof BasicBlock))
      throw new Error('wasmtail: ResNet plan: a stage holds something other than BasicBlocks');
    const stem = this.geometry(model.conv1, [n, c, h, w]);
    let largest = n * stem.oc * stem.oh * stem.ow;
    let shortcut = 0;
    let shape: Shape4 = [n, stem.oc, stem.oh, stem.ow];
    const geometries = blocks.map((b) => {
      const g1 = this.geometry(b.conv1, shape);
      const g2 = this.geometry(b.conv2, [n, g1.oc, g1.oh, g1.ow]);
      largest = Math.max(largest, n * g1.oc * g1.oh * g1.ow, n * g2.oc * g2.oh * g2.ow);
      if (b.downsample) shortcut = Math.max(shortcut, n * g2.oc * g2.oh * g2.ow);
      shape = [n, g2.oc, g2.oh, g2.ow];
      return [g1, g2] as const;
    });
    let [x, mid, out] = [this.alloc(largest), this.alloc(largest), this.alloc(largest)];
    const padded = shortcut > 0 ? this.alloc(shortcut) : null;

    this.conv(model.conv1, model.bn1, this.input, x, stem, null);
    shape = [n, stem.oc, stem.oh, stem.ow];
    for (const [i, b] of blocks.entries()) {
      const [g1, g2] = geometries[i];
      this.conv(b.conv1, b.bn1, x, mid, g1, null);
      let residual = x;
      if (b.downsample) {
        const { stride, padC } = b.downsample;
        const [, bc, bh, bw] = shape;
        const from = x;
        this.steps.push(() => be.downsamplePadChannels(from, padded!, n, bc, bh, bw, stride, padC));
        residual = padded!;
      }
      this.conv(b.conv2, b.bn2, mid, out, g2, residual);
      [x, out] = [out, x];
      shape = [n, g2.oc, g2.oh, g2.ow];
    }

    const [, fc, fh, fw] = shape;
    const features = this.alloc(n * fc);
    const pooled = x;
    this.steps.push(() => be.globalAvgPoolForward(pooled, features, n * fc, fh * fw));
    this.logits = this.alloc(n * this.numClasses);
    this.classifier(model, features, n, fc);
  }

  /** True once the current backend is not the one the plan was built on (init() ran again): build a new plan. */
  get stale(): boolean {
    return backend() !== this.be;
  }

  /** The logits [n, classes] of x (NCHW, n * c * h * w values), as model.forward() in eval mode gives them. */
  run(x: Float32Array): Float32Array {
    if (this.disposed) throw new Error('wasmtail: this inference plan was disposed');
    if (this.stale) throw new Error('wasmtail: the backend changed (init() again?) since this inference plan was built');
    const [n, c, h, w] = this.inputShape;
    if (x.length !== n * c * h * w) {
      throw new Error(`wasmtail: inference plan for [${this.inputShape.join(', ')}] given ${x.length} values, not ${n * c * h * w}`);
    }
    this.be.write(this.input, x);
    for (const step of this.steps) step();
    return this.be.read(this.logits) as Float32Array;
  }

  /** Frees the plan's buffers (not the model's weights). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.owned) this.be.free(s);
    this.owned.length = 0;
    this.steps.length = 0;
  }

  private alloc(length: number): Storage {
    const s = this.be.alloc(length);
    this.owned.push(s);
    return s;
  }

  private geometry(conv: Conv2d, xShape: Shape4): ConvGeometry {
    return convGeometry(xShape, conv.weight.shape, conv.opts.stride ?? 1, conv.opts.padding ?? 0);
  }

  /** y = ReLU(bn(conv(x)) + residual), as src/nn/resnet.ts's convBnRelu runs it in eval mode. */
  private conv(conv: Conv2d, bn: BatchNorm2d, x: Storage, y: Storage, g: ConvGeometry, residual: Storage | null): void {
    const scale = this.alloc(g.oc);
    const shift = this.alloc(g.oc);
    foldBatchNormEval(bn, scale, shift);
    const be = this.be;
    const filter = be.conv2dPrepareFilter(conv.weight.storage, this.alloc(be.conv2dPreparedFilterLength(g)), g);
    this.steps.push(() => be.conv2dForwardAffinePrepared(x, filter, y, g, scale, shift, residual, true));
  }

  /** The classifier's steps: Linear (src/ops/matmul.ts's linear) or the cosine classifier (src/nn/normedLinear.ts). */
  private classifier(model: CifarResNet, features: Storage, n: number, d: number): void {
    const be = this.be;
    const k = this.numClasses;
    const logits = this.logits;
    if (model.linear instanceof NormedLinear) {
      const eps = this.alloc(1);
      be.fill(eps, NORM_EPS_SQUARED, 1);
      // The weight's columns are normalised once, here; the features on every run.
      const weight = this.alloc(d * k);
      const scratch = { squares: this.alloc(Math.max(n, k) * d), norms: this.alloc(Math.max(n, k)) };
      this.normalize(model.linear.weight.storage, d, k, 0, eps, scratch, weight)();
      const normalized = this.alloc(n * d);
      const normalizeFeatures = this.normalize(features, n, d, 1, eps, scratch, normalized);
      this.steps.push(() => {
        normalizeFeatures();
        be.gemm(false, false, n, k, d, 1, normalized, weight, 0, logits);
      });
      return;
    }
    const { weight, bias } = model.linear;
    this.steps.push(() => {
      be.gemm(false, true, n, k, d, 1, features, weight.storage, 0, logits);
      be.binaryStrided('add', logits, [k, 1], bias.storage, [0, 1], logits, [n, k]);
    });
  }

  /**
   * v [rows, cols] / sqrt(sum of squares along axis + 1e-24) into out: the
   * primitives src/nn/normedLinear.ts's normalize() reaches (mul, a sum
   * over one axis, add, sqrt, div) in its order.
   */
  private normalize(
    v: Storage,
    rows: number,
    cols: number,
    axis: 0 | 1,
    eps: Storage,
    scratch: { squares: Storage; norms: Storage },
    out: Storage,
  ): () => void {
    const be = this.be;
    const normsShape = axis === 1 ? [rows, 1] : [1, cols];
    const { squares, norms } = scratch;
    return () => {
      be.binary('mul', v, v, squares, rows * cols);
      if (axis === 1) be.reduceAxis('sum', squares, norms, rows, cols, 1);
      else be.reduceAxis('sum', squares, norms, 1, rows, cols);
      binaryInto('add', norms, normsShape, eps, [1, 1], norms, normsShape);
      be.unary('sqrt', norms, norms, normsShape[0] * normsShape[1]);
      binaryInto('div', v, [rows, cols], norms, normsShape, out, [rows, cols]);
    };
  }
}
