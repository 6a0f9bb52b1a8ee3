import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { type Tensor, empty } from '../tensor.js';
import { assertRank, assertTensor } from './util.js';

/**
 * The CIFAR ResNet "option A" shortcut: x[:, :, ::stride, ::stride] with
 * padC zero channels added on each side (no parameters).
 */
export function downsamplePadChannels(x: Tensor, stride: number, padC: number): Tensor {
  assertTensor(x, 'downsamplePadChannels', 'x');
  assertRank(x, 4, 'downsamplePadChannels', 'x', 'NCHW');
  const [n, c, h, w] = x.shape;
  const y = empty([n, c + 2 * padC, Math.ceil(h / stride), Math.ceil(w / stride)]);
  backend().downsamplePadChannels(x.storage, y.storage, n, c, h, w, stride, padC);
  return record(y, 'downsamplePadChannels', [x], (g) => {
    const dx = empty(x.shape);
    backend().downsamplePadChannelsBackward(g.storage, dx.storage, n, c, h, w, stride, padC);
    return [dx];
  });
}
