// 2-D convolution, NCHW, no bias (the CIFAR ResNets have none).
import { convGeometry, type ConvGeometry } from '../backend/backend.js';
import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { type Tensor, empty } from '../tensor.js';
import { assertRank, assertTensor, shapeStr } from './util.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/** The geometry of conv(x, w), after the checks that name what is wrong with the arguments. */
export function checkedConvGeometry(x: Tensor, w: Tensor, opts: Conv2dOptions): ConvGeometry {
  const stride = opts.stride ?? 1;
  const pad = opts.padding ?? 0;
  assertTensor(x, 'conv2d', 'x');
  assertTensor(w, 'conv2d', 'weight');
  assertRank(x, 4, 'conv2d', 'x', 'NCHW');
  assertRank(w, 4, 'conv2d', 'weight', '[outC, inC, kH, kW]');
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`wasmtail: conv2d(): stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`wasmtail: conv2d(): padding must be a non-negative integer, got ${pad}`);
  if (x.shape[1] !== w.shape[1]) {
    throw new Error(
      `wasmtail: conv2d(): x ${shapeStr(x.shape)} has ${x.shape[1]} channels but weight ${shapeStr(w.shape)} expects ${w.shape[1]}`,
    );
  }
  const g = convGeometry(x.shape, w.shape, stride, pad);
  if (g.oh < 1 || g.ow < 1) {
    throw new Error(
      `wasmtail: conv2d(): kernel ${w.shape[2]}x${w.shape[3]} does not fit input ${x.shape[2]}x${x.shape[3]} with padding ${pad}`,
    );
  }
  return g;
}

export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = checkedConvGeometry(x, w, opts);
  const be = backend();
  const y = empty([g.n, g.oc, g.oh, g.ow]);
  be.conv2dForward(x.storage, w.storage, y.storage, g);
  return record(y, 'conv2d', [x, w], (dy) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape);
      be.conv2dBackwardInput(dy.storage, w.storage, dx.storage, g);
    }
    if (w.requiresGrad) {
      dw = empty(w.shape);
      be.conv2dBackwardFilter(x.storage, dy.storage, dw.storage, g);
    }
    return [dx, dw];
  });
}
