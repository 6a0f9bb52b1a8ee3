import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { type Tensor, empty } from '../tensor.js';
import { assertRank, assertTensor } from './util.js';

/** [N, C, H, W] -> [N, C]: the mean over each feature map. */
export function globalAvgPool2d(x: Tensor): Tensor {
  assertTensor(x, 'globalAvgPool2d', 'x');
  assertRank(x, 4, 'globalAvgPool2d', 'x', 'NCHW');
  const [n, c, h, w] = x.shape;
  const y = empty([n, c]);
  backend().globalAvgPoolForward(x.storage, y.storage, n * c, h * w);
  return record(y, 'globalAvgPool2d', [x], (g) => {
    const dx = empty(x.shape);
    backend().globalAvgPoolBackward(g.storage, dx.storage, n * c, h * w);
    return [dx];
  });
}
