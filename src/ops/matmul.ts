// Matrix products: matmul and linear (PyTorch's weight layout [out, in]).
import { backend } from '../backend/current.js';
import { record } from '../autograd/node.js';
import { type Tensor, empty } from '../tensor.js';
import { assertRank, assertTensor, shapeStr } from './util.js';

/** [m, k] x [k, n] -> [m, n]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  assertTensor(a, 'matmul', 'a');
  assertTensor(b, 'matmul', 'b');
  assertRank(a, 2, 'matmul', 'a', '[m, k]');
  assertRank(b, 2, 'matmul', 'b', '[k, n]');
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) throw new Error(`wasmtail: matmul(): inner dimensions differ: a ${shapeStr(a.shape)}, b ${shapeStr(b.shape)}`);
  const y = empty([m, n]);
  backend().gemm(false, false, m, n, k, 1, a.storage, b.storage, 0, y.storage);
  return record(y, 'matmul', [a, b], (g) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      da = empty([m, k]);
      backend().gemm(false, true, m, k, n, 1, g.storage, b.storage, 0, da.storage);
    }
    if (b.requiresGrad) {
      db = empty([k, n]);
      backend().gemm(true, false, k, n, m, 1, a.storage, g.storage, 0, db.storage);
    }
    return [da, db];
  });
}

/** y = x w^T + b: x [n, in], w [out, in], b [out] or null. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  assertTensor(x, 'linear', 'x');
  assertTensor(w, 'linear', 'weight');
  assertRank(x, 2, 'linear', 'x', '[batch, in]');
  assertRank(w, 2, 'linear', 'weight', '[out, in]');
  const [n, inF] = x.shape;
  const [outF, inW] = w.shape;
  if (inF !== inW)
    throw new Error(`wasmtail: linear(): x ${shapeStr(x.shape)} has ${inF} features but weight ${shapeStr(w.shape)} expects ${inW}`);
  if (b) {
    assertTensor(b, 'linear', 'bias');
    if (b.ndim !== 1 || b.shape[0] !== outF) throw new Error(`wasmtail: linear(): bias has shape ${shapeStr(b.shape)}, expected [${outF}]`);
  }
  const y = empty([n, outF]);
  const be = backend();
  be.gemm(false, true, n, outF, inF, 1, x.storage, w.storage, 0, y.storage);
  // The bias: y[r, c] += b[c], b read with a row stride of 0.
  if (b) be.binaryStrided('add', y.storage, [outF, 1], b.storage, [0, 1], y.storage, [n, outF]);
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, 'linear', inputs, (g) => {
    const grads: (Tensor | null)[] = [null, null, null];
    if (x.requiresGrad) {
      grads[0] = empty([n, inF]);
      be.gemm(false, false, n, inF, outF, 1, g.storage, w.storage, 0, grads[0].storage);
    }
    if (w.requiresGrad) {
      grads[1] = empty([outF, inF]);
      be.gemm(true, false, outF, inF, n, 1, g.storage, x.storage, 0, grads[1].storage);
    }
    if (b?.requiresGrad) {
      grads[2] = empty([outF]);
      be.reduceAxis('sum', g.storage, grads[2].storage, 1, n, outF);
    }
    return grads.slice(0, inputs.length);
  });
}
