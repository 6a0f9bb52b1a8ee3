// The bounds-checking debug mode (WASMTAIL_CHECK_BOUNDS=1): every primitive
// call checks, before it runs, that each storage it reads or writes is live
// (allocated by this backend and not freed) and holds at least the elements
// the call will touch. A kernel reading past its buffer in WASM linear memory
// reads its neighbour's values silently; here it is an error naming the
// primitive, the argument and both sizes. Costs a table lookup per call:
// for tests and debugging, off by default.
import type { Backend, ConvGeometry, Storage } from './backend.js';

/** Each argument's storage and how many elements the primitive touches in it (null: an optional argument left out). */
type Extents = [name: string, s: Storage | null, elements: number][];

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** Elements an operand read at these strides over shape spans: 1 + the largest offset. */
const span = (shape: readonly number[], strides: readonly number[]): number =>
  size(shape) === 0 ? 0 : 1 + shape.reduce((acc, d, i) => acc + (d - 1) * strides[i], 0);
const xOf = (g: ConvGeometry) => g.n * g.c * g.h * g.w;
const wOf = (g: ConvGeometry) => g.oc * g.c * g.kh * g.kw;
const yOf = (g: ConvGeometry) => g.n * g.oc * g.oh * g.ow;
const shortcutY = (n: number, c: number, h: number, w: number, stride: number, padC: number) =>
  n * (c + 2 * padC) * Math.ceil(h / stride) * Math.ceil(w / stride);

/**
 * Per primitive, from its arguments: the storages it reads or writes and the
 * elements it touches in each, as the Backend interface documents them.
 */
const EXTENTS: { [K in keyof Backend]?: Backend[K] extends (...args: infer A) => unknown ? (...args: A) => Extents : never } = {
  fill: (y, _v, n) => [['y', y, n]],
  copy: (x, y, n) => [
    ['x', x, n],
    ['y', y, n],
  ],
  unary: (_op, x, y, n) => [
    ['x', x, n],
    ['y', y, n],
  ],
  binary: (_op, a, b, y, n) => [
    ['a', a, n],
    ['b', b, n],
    ['y', y, n],
  ],
  binaryStrided: (_op, a, as, b, bs, y, shape) => [
    ['a', a, span(shape, as)],
    ['b', b, span(shape, bs)],
    ['y', y, size(shape)],
  ],
  axpby: (_a, x, _b, y, n) => [
    ['x', x, n],
    ['y', y, n],
  ],
  reluBackward: (x, dy, dx, n) => [
    ['x', x, n],
    ['dy', dy, n],
    ['dx', dx, n],
  ],
  broadcastTo: (x, xShape, y, outShape) => [
    ['x', x, size(xShape)],
    ['y', y, size(outShape)],
  ],
  reduceAxis: (_op, x, y, outer, axis, inner) => [
    ['x', x, outer * axis * inner],
    ['y', y, outer * inner],
  ],
  gemm: (_ta, _tb, m, n, k, _al, a, b, _be, c) => [
    ['a', a, m * k],
    ['b', b, k * n],
    ['c', c, m * n],
  ],
  conv2dForward: (x, w, y, g: ConvGeometry) => [
    ['x', x, xOf(g)],
    ['w', w, wOf(g)],
    ['y', y, yOf(g)],
  ],
  conv2dForwardAffine: (x, w, y, g: ConvGeometry, scale, shift, residual) => [
    ['x', x, xOf(g)],
    ['w', w, wOf(g)],
    ['y', y, yOf(g)],
    ['scale', scale, g.oc],
    ['shift', shift, g.oc],
    ['residual', residual, yOf(g)],
  ],
  conv2dPrepareFilter: (w, prepared, g: ConvGeometry) => [
    ['w', w, wOf(g)],
    ['prepared', prepared, 0],
  ],
  conv2dForwardAffinePrepared: (x, filter, y, g: ConvGeometry, scale, shift, residual) => [
    ['x', x, xOf(g)],
    ['filter', filter.storage, 0],
    ['y', y, yOf(g)],
    ['scale', scale, g.oc],
    ['shift', shift, g.oc],
    ['residual', residual, yOf(g)],
  ],
  conv2dBackwardInput: (dy, w, dx, g: ConvGeometry) => [
    ['dy', dy, yOf(g)],
    ['w', w, wOf(g)],
    ['dx', dx, xOf(g)],
  ],
  conv2dBackwardFilter: (x, dy, dw, g: ConvGeometry) => [
    ['x', x, xOf(g)],
    ['dy', dy, yOf(g)],
    ['dw', dw, wOf(g)],
  ],
  globalAvgPoolForward: (x, y, nc, hw) => [
    ['x', x, nc * hw],
    ['y', y, nc],
  ],
  globalAvgPoolBackward: (dy, dx, nc, hw) => [
    ['dy', dy, nc],
    ['dx', dx, nc * hw],
  ],
  downsamplePadChannels: (x, y, n, c, h, w, stride, padC) => [
    ['x', x, n * c * h * w],
    ['y', y, shortcutY(n, c, h, w, stride, padC)],
  ],
  downsamplePadChannelsBackward: (dy, dx, n, c, h, w, stride, padC) => [
    ['dy', dy, shortcutY(n, c, h, w, stride, padC)],
    ['dx', dx, n * c * h * w],
  ],
  batchNormForwardTrain: (x, gamma, beta, y, rm, rv, sm, si, n, c, hw) => [
    ['x', x, n * c * hw],
    ['gamma', gamma, c],
    ['beta', beta, c],
    ['y', y, n * c * hw],
    ['runningMean', rm, c],
    ['runningVar', rv, c],
    ['saveMean', sm, c],
    ['saveInvStd', si, c],
  ],
  batchNormForwardEval: (x, gamma, beta, y, rm, rv, n, c, hw) => [
    ['x', x, n * c * hw],
    ['gamma', gamma, c],
    ['beta', beta, c],
    ['y', y, n * c * hw],
    ['runningMean', rm, c],
    ['runningVar', rv, c],
  ],
  batchNormBackward: (x, dy, gamma, mean, invStd, dx, dgamma, dbeta, n, c, hw) => [
    ['x', x, n * c * hw],
    ['dy', dy, n * c * hw],
    ['gamma', gamma, c],
    ['mean', mean, c],
    ['invStd', invStd, c],
    ['dx', dx, n * c * hw],
    ['dgamma', dgamma, c],
    ['dbeta', dbeta, c],
  ],
  batchNormActForwardTrain: (x, gamma, beta, y, rm, rv, sm, si, n, c, hw, _m, _e, residual) => [
    ['x', x, n * c * hw],
    ['gamma', gamma, c],
    ['beta', beta, c],
    ['y', y, n * c * hw],
    ['runningMean', rm, c],
    ['runningVar', rv, c],
    ['saveMean', sm, c],
    ['saveInvStd', si, c],
    ['residual', residual, n * c * hw],
  ],
  batchNormActBackward: (x, y, dy, gamma, mean, invStd, dx, dgamma, dbeta, dres, n, c, hw) => [
    ['x', x, n * c * hw],
    ['y', y, n * c * hw],
    ['dy', dy, n * c * hw],
    ['gamma', gamma, c],
    ['mean', mean, c],
    ['invStd', invStd, c],
    ['dx', dx, n * c * hw],
    ['dgamma', dgamma, c],
    ['dbeta', dbeta, c],
    ['dres', dres, n * c * hw],
  ],
  softmaxCrossEntropy: (logits, _labels, weights, n, c, loss, dlogits) => [
    ['logits', logits, n * c],
    ['weights', weights, c],
    ['loss', loss, 1],
    ['dlogits', dlogits, n * c],
  ],
  featureBalancedLoss: (logits, features, _labels, stimulus, n, c, d, loss, dlogits, dfeatures) => [
    ['logits', logits, n * c],
    ['features', features, n * d],
    ['stimulus', stimulus, c],
    ['loss', loss, 1],
    ['dlogits', dlogits, n * c],
    ['dfeatures', dfeatures, n * d],
  ],
  sgdStep: (param, grad, buf, n) => [
    ['param', param, n],
    ['grad', grad, n],
    ['momentumBuf', buf, n],
  ],
  read: (s) => [['s', s, s.length]],
  write: (s, data: Float32Array, offset = 0) => [['s', s, offset + data.length]],
};

/** Labels index rows of logits [n, c]: n of them, each in [0, c). */
function checkLabels(primitive: string, labels: Int32Array, n: number, c: number): void {
  if (labels.length < n) throw new Error(`wasmtail: bounds check: ${primitive}(): ${labels.length} labels for ${n} rows`);
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0 && labels[i] < c))
      throw new Error(`wasmtail: bounds check: ${primitive}(): label ${labels[i]} at row ${i} outside [0, ${c})`);
  }
}

/** True when the environment asks for the bounds-checking debug mode. */
export function boundsCheckRequested(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.WASMTAIL_CHECK_BOUNDS === '1';
}

/**
 * b with every primitive call checked as described above. (The WASM backend
 * also checks each kernel call's pointers against its allocator's live
 * blocks: wasm/kernels.ts.)
 */
export function withBoundsChecks<B extends Backend>(b: B): B {
  const live = new WeakSet<Storage>();
  const check = (primitive: string, extents: Extents): void => {
    for (const [name, s, elements] of extents) {
      if (s === null) continue;
      const why = !live.has(s)
        ? 'is not a live storage of this backend (freed, or never allocated)'
        : elements > s.length
          ? `is touched at ${elements} elements but holds ${s.length}`
          : null;
      if (why) throw new Error(`wasmtail: bounds check: ${b.name}.${primitive}(): argument ${name} ${why}`);
    }
  };
  return new Proxy(b, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      if (key === 'alloc') {
        return (length: number) => {
          const s = value.call(target, length) as Storage;
          live.add(s);
          return s;
        };
      }
      if (key === 'free') {
        return (s: Storage) => {
          check('free', [['s', s, 0]]);
          live.delete(s);
          return value.call(target, s);
        };
      }
      // Any primitive's extents, called with that primitive's own arguments.
      const extents = EXTENTS[key as keyof Backend] as ((...args: unknown[]) => Extents) | undefined;
      if (!extents) return value.bind(target);
      return (...args: unknown[]) => {
        check(String(key), extents(...args));
        if (key === 'softmaxCrossEntropy') checkLabels(key, args[1] as Int32Array, args[3] as number, args[4] as number);
        if (key === 'featureBalancedLoss') checkLabels(key, args[2] as Int32Array, args[4] as number, args[5] as number);
        return value.apply(target, args);
      };
    },
  });
}
