// Elementwise kernels (reference: ../../reference/kernels/elementwise.ts),
// the option-A shortcut, global average pooling and the SGD step: one
// invocation per output element.
import type { BinaryOp, UnaryOp } from '../../backend.js';
import { type WgslKernel, elementwise } from './common.js';

const UNARY: Record<UnaryOp, string> = {
  // NaN stays NaN, as in PyTorch (max() may drop it).
  relu: 'select(0.0, v, !(v <= 0.0))',
  neg: '-v',
  exp: 'exp(v)',
  log: 'log(v)',
  sqrt: 'sqrt(v)',
  abs: 'abs(v)',
};

const BINARY: Record<BinaryOp, string> = { add: 'a[i] + b[i]', sub: 'a[i] - b[i]', mul: 'a[i] * b[i]', div: 'a[i] / b[i]' };

export const ELEMENTWISE_KERNELS: Record<string, WgslKernel> = {
  fill: elementwise([], ['value'], ['y'], 'y[i] = p.value;'),
  copy: elementwise([], [], ['x', 'y'], 'y[i] = x[i];'),
  ...Object.fromEntries(
    Object.entries(UNARY).map(([op, e]) => [`unary_${op}`, elementwise([], [], ['x', 'y'], `let v = x[i]; y[i] = ${e};`)]),
  ),
  ...Object.fromEntries(Object.entries(BINARY).map(([op, e]) => [`binary_${op}`, elementwise([], [], ['a', 'b', 'y'], `y[i] = ${e};`)])),
  // beta = 0 never reads y (NaN there is ignored).
  axpby: elementwise(
    [],
    ['alpha', 'beta'],
    ['x', 'y'],
    'if (p.beta == 0.0) { y[i] = p.alpha * x[i]; } else { y[i] = p.alpha * x[i] + p.beta * y[i]; }',
  ),
  reluBackward: elementwise([], [], ['x', 'dy', 'dx'], 'dx[i] = select(0.0, dy[i], x[i] > 0.0);'),
  globalAvgPoolBackward: elementwise(['hw'], [], ['dy', 'dx'], 'dx[i] = dy[i / p.hw] / f32(p.hw);'),
  // y [n, c + 2 padC, oh, ow]: one invocation per output element.
  downsamplePadChannels: elementwise(
    ['c', 'h', 'w', 'stride', 'padC', 'oh', 'ow'],
    [],
    ['x', 'y'],
    `
  let q = i % (p.oh * p.ow);
  let oc = p.c + 2u * p.padC;
  let ch = (i / (p.oh * p.ow)) % oc;
  let b = i / (p.oh * p.ow * oc);
  var v = 0.0;
  if (ch >= p.padC && ch < p.padC + p.c) {
    v = x[((b * p.c + ch - p.padC) * p.h + (q / p.ow) * p.stride) * p.w + (q % p.ow) * p.stride];
  }
  y[i] = v;`,
  ),
  // dx [n, c, h, w]: dy at the sampled positions, zero elsewhere.
  downsamplePadChannelsBackward: elementwise(
    ['c', 'h', 'w', 'stride', 'padC', 'oh', 'ow'],
    [],
    ['dy', 'dx'],
    `
  let xx = i % p.w;
  let yy = (i / p.w) % p.h;
  let ch = (i / (p.w * p.h)) % p.c;
  let b = i / (p.w * p.h * p.c);
  var v = 0.0;
  if (xx % p.stride == 0u && yy % p.stride == 0u) {
    v = dy[((b * (p.c + 2u * p.padC) + ch + p.padC) * p.oh + yy / p.stride) * p.ow + xx / p.stride];
  }
  dx[i] = v;`,
  ),
  // torch.optim.SGD (dampening 0); momentum = 0 leaves buf untouched.
  sgdStep: elementwise(
    ['nesterov'],
    ['lr', 'momentum', 'weightDecay'],
    ['param', 'grad', 'buf'],
    `
  let g = grad[i] + p.weightDecay * param[i];
  var step = g;
  if (p.momentum != 0.0) {
    let b = p.momentum * buf[i] + g;
    buf[i] = b;
    step = select(b, g + p.momentum * b, p.nesterov != 0u);
  }
  param[i] = param[i] - p.lr * step;`,
  ),
};
