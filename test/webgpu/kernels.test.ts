// Every WebGPU primitive against the float32 reference backend on random
// inputs, at sizes the op-level conformance suite does not reach: GEMM tiles
// of 16, 32 and 64 rows with every transpose, split-K in the filter
// gradient, in-place calls (one buffer passed twice), the SGD step, and the
// edge cases of the interface (beta = 0 ignores NaN, a null momentum buffer).
import { describe, it } from 'node:test';
import type { Backend, Storage } from '../../src/backend/backend.js';
import { convGeometry } from '../../src/backend/backend.js';
import { broadcastStrides, stridesOf } from '../../src/backend/layout.js';
import { ReferenceBackend } from '../../src/backend/reference/referenceBackend.js';
import { webgpuBackend } from '../util/backends.js';
import { assertClose, random } from '../util/close.js';

const gpu = await webgpuBackend();
const ref = new ReferenceBackend('float32');

/** Runs fn on both backends over the same inputs; returns each output storage's values. */
async function both(
  inputs: Float32Array[],
  outputs: number[],
  fn: (b: Backend, ins: Storage[], outs: Storage[]) => void,
): Promise<{ got: Float32Array[]; want: Float32Array[] }> {
  const run = async (b: Backend) => {
    const ins = inputs.map((v) => {
      const s = b.alloc(v.length);
      if (v.length) b.write(s, v);
      return s;
    });
    const outs = outputs.map((n) => {
      const s = b.alloc(n);
      b.write(s, random(n, 99));
      return s;
    });
    fn(b, ins, outs);
    const values = await Promise.all([...ins, ...outs].map((s) => b.read(s)));
    for (const s of [...ins, ...outs]) b.free(s);
    return values;
  };
  return { got: await run(gpu!), want: await run(ref) };
}

async function check(
  name: string,
  inputs: Float32Array[],
  outputs: number[],
  fn: (b: Backend, ins: Storage[], outs: Storage[]) => void,
  atol = 1e-5,
  rtol = 1e-5,
): Promise<void> {
  const { got, want } = await both(inputs, outputs, fn);
  // Inputs too: in-place primitives (sgdStep, batch norm's running stats) write them.
  want.forEach((w, i) => {
    assertClose(got[i], w, atol, rtol, `${name}: storage ${i}`);
  });
}

describe('WebGPU primitives against the reference backend', { skip: gpu ? false : 'no WebGPU adapter' }, () => {
  it('fill, copy, unary, binary, axpby, reluBackward, in place included', async () => {
    const n = 1000;
    const x = random(n, 1);
    const pos = random(n, 2, 0.1, 3);
    await check('fill', [], [n], (b, _, [y]) => b.fill(y, 2.5, n));
    await check('copy', [x], [n], (b, [a], [y]) => b.copy(a, y, n));
    for (const op of ['relu', 'neg', 'exp', 'abs'] as const) await check(op, [x], [n], (b, [a], [y]) => b.unary(op, a, y, n), 1e-5, 1e-5);
    for (const op of ['log', 'sqrt'] as const) await check(op, [pos], [n], (b, [a], [y]) => b.unary(op, a, y, n), 1e-5, 1e-5);
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      await check(op, [x, pos], [n], (b, [a, c], [y]) => b.binary(op, a, c, y, n));
      await check(`${op} in place`, [x, pos], [], (b, [a, c]) => b.binary(op, a, c, a, n));
    }
    await check('square (one input twice)', [x], [n], (b, [a], [y]) => b.binary('mul', a, a, y, n));
    await check('axpby', [x, pos], [], (b, [a, y]) => b.axpby(0.7, a, -1.3, y, n));
    await check('axpby beta = 0 ignores NaN', [x, new Float32Array(n).fill(NaN)], [], (b, [a, y]) => b.axpby(0.7, a, 0, y, n));
    await check('reluBackward', [x, pos], [n], (b, [a, g], [y]) => b.reluBackward(a, g, y, n));
  });

  it('broadcastTo, binaryStrided, reduceAxis', async () => {
    const out = [3, 5, 4, 7];
    for (const small of [
      [1, 5, 1, 7],
      [3, 1, 4, 1],
      [1, 1, 1, 1],
      [3, 5, 4, 7],
    ]) {
      const nSmall = small.reduce((a, b) => a * b, 1);
      const strides = broadcastStrides(small, out);
      await check(`broadcastTo ${small}`, [random(nSmall, 3)], [420], (b, [a], [y]) => b.broadcastTo(a, small, y, out));
      for (const op of ['add', 'sub', 'mul', 'div'] as const) {
        await check(`binaryStrided ${op} ${small}`, [random(420, 4), random(nSmall, 5, 0.5, 2)], [420], (b, [a, c], [y]) =>
          b.binaryStrided(op, a, stridesOf(out), c, strides, y, out),
        );
        await check(
          `binaryStrided ${op} ${small} (broadcast first)`,
          [random(nSmall, 5, 0.5, 2), random(420, 4)],
          [420],
          (b, [c, a], [y]) => b.binaryStrided(op, c, strides, a, stridesOf(out), y, out),
        );
      }
    }
    for (const [outer, axis, inner] of [
      [1, 5000, 1],
      [7, 13, 1],
      [3, 11, 5],
      [1, 9, 37],
      [4, 1, 3],
    ]) {
      const x = random(outer * axis * inner, 8);
      for (const op of ['sum', 'max'] as const) {
        await check(
          `reduceAxis ${op} [${outer}, ${axis}, ${inner}]`,
          [x],
          [outer * inner],
          (b, [a], [y]) => b.reduceAxis(op, a, y, outer, axis, inner),
          1e-3,
          1e-4,
        );
      }
    }
    await check('bias add in place (binaryStrided, row stride 0)', [random(37 * 11, 6), random(11, 7)], [], (b, [a, r]) =>
      b.binaryStrided('add', a, [11, 1], r, [0, 1], a, [37, 11]),
    );
  });

  it('gemm: every transpose, tiles of 16, 32 and 64 rows, alpha and beta', async () => {
    for (const [m, n, k] of [
      [5, 7, 3],
      [20, 70, 33],
      [40, 9, 17],
      [70, 130, 45],
    ]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          await check(
            `gemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${m}x${n}x${k}`,
            [random(m * k, m), random(k * n, n)],
            [m * n],
            (b, [a, c], [y]) => b.gemm(ta, tb, m, n, k, 1.5, a, c, 0.5, y),
            1e-4,
            1e-4,
          );
        }
      }
      await check(
        `gemm beta = 0 ${m}x${n}x${k}`,
        [random(m * k, 1), random(k * n, 2), new Float32Array(m * n).fill(NaN)],
        [],
        (b, [a, c, y]) => b.gemm(false, false, m, n, k, 1, a, c, 0, y),
        1e-4,
        1e-4,
      );
    }
  });

  it('conv2d forward, backward-input, backward-filter (split-K included)', async () => {
    const cases: [number[], number[], number, number][] = [
      [[2, 3, 7, 6], [5, 3, 3, 3], 1, 1],
      [[2, 4, 9, 9], [20, 4, 3, 3], 2, 1],
      [[3, 2, 5, 5], [40, 2, 1, 1], 2, 0],
      [[4, 16, 12, 12], [16, 16, 3, 3], 1, 1],
      [[2, 5, 8, 8], [70, 5, 3, 3], 1, 2],
    ];
    for (const [xs, ws, stride, pad] of cases) {
      const g = convGeometry(xs, ws, stride, pad);
      const nx = xs.reduce((a, b) => a * b, 1);
      const nw = ws.reduce((a, b) => a * b, 1);
      const ny = g.n * g.oc * g.oh * g.ow;
      const what = `x ${xs} w ${ws} stride ${stride} pad ${pad}`;
      await check(
        `conv2dForward ${what}`,
        [random(nx, 1), random(nw, 2)],
        [ny],
        (b, [x, w], [y]) => b.conv2dForward(x, w, y, g),
        1e-4,
        1e-4,
      );
      await check(
        `conv2dBackwardInput ${what}`,
        [random(ny, 3), random(nw, 2)],
        [nx],
        (b, [dy, w], [dx]) => b.conv2dBackwardInput(dy, w, dx, g),
        1e-4,
        1e-4,
      );
      await check(
        `conv2dBackwardFilter ${what}`,
        [random(nx, 1), random(ny, 3)],
        [nw],
        (b, [x, dy], [dw]) => b.conv2dBackwardFilter(x, dy, dw, g),
        1e-3,
        1e-4,
      );
    }
  });

  it('batch norm train / eval forward and backward', async () => {
    for (const [n, c, hw] of [
      [2, 3, 5],
      [4, 7, 36],
      [1, 2, 1],
    ]) {
      const nx = n * c * hw;
      const x = random(nx, 1);
      const gamma = random(c, 2, 0.5, 1.5);
      const beta = random(c, 3);
      const rv = random(c, 4, 0.5, 2);
      await check(
        `batchNormForwardTrain ${n}x${c}x${hw}`,
        [x, gamma, beta, random(c, 5), rv],
        [nx, c, c],
        (b, [xx, g, bt, rm, v], [y, sm, si]) => b.batchNormForwardTrain(xx, g, bt, y, rm, v, sm, si, n, c, hw, 0.1, 1e-5),
        1e-4,
        1e-4,
      );
      await check(
        `batchNormForwardEval ${n}x${c}x${hw}`,
        [x, gamma, beta, random(c, 5), rv],
        [nx],
        (b, [xx, g, bt, rm, v], [y]) => b.batchNormForwardEval(xx, g, bt, y, rm, v, n, c, hw, 1e-5),
        1e-4,
        1e-4,
      );
      for (const training of [true, false]) {
        await check(
          `batchNormBackward ${n}x${c}x${hw} training ${training}`,
          [x, random(nx, 6), gamma, random(c, 7), random(c, 8, 0.5, 2)],
          [nx, c, c],
          (b, [xx, dy, g, m, is], [dx, dg, db]) => b.batchNormBackward(xx, dy, g, m, is, dx, dg, db, n, c, hw, training),
          1e-4,
          1e-4,
        );
      }
    }
  });

  it('pooling, option-A shortcut', async () => {
    await check('globalAvgPoolForward', [random(6 * 49, 1)], [6], (b, [x], [y]) => b.globalAvgPoolForward(x, y, 6, 49));
    await check('globalAvgPoolBackward', [random(6, 1)], [6 * 49], (b, [dy], [dx]) => b.globalAvgPoolBackward(dy, dx, 6, 49));
    for (const [n, c, h, w, stride, padC] of [
      [2, 3, 7, 5, 2, 2],
      [1, 4, 4, 4, 1, 0],
      [3, 2, 5, 6, 2, 1],
    ]) {
      const oh = Math.ceil(h / stride);
      const ow = Math.ceil(w / stride);
      const ny = n * (c + 2 * padC) * oh * ow;
      await check(`downsamplePadChannels ${[n, c, h, w, stride, padC]}`, [random(n * c * h * w, 1)], [ny], (b, [x], [y]) =>
        b.downsamplePadChannels(x, y, n, c, h, w, stride, padC),
      );
      await check(`downsamplePadChannelsBackward ${[n, c, h, w, stride, padC]}`, [random(ny, 2)], [n * c * h * w], (b, [dy], [dx]) =>
        b.downsamplePadChannelsBackward(dy, dx, n, c, h, w, stride, padC),
      );
    }
  });

  it('fused losses and the SGD step', async () => {
    const [n, c, d] = [9, 7, 5];
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 3) % c);
    for (const weighted of [false, true]) {
      await check(
        `softmaxCrossEntropy weighted ${weighted}`,
        [random(n * c, 1), random(c, 2, 0.2, 2)],
        [1, n * c],
        (b, [z, w], [loss, dz]) => b.softmaxCrossEntropy(z, labels, weighted ? w : null, n, c, loss, dz),
        1e-5,
        1e-4,
      );
    }
    await check(
      'featureBalancedLoss',
      [random(n * c, 1), random(n * d, 2, 0.2, 2), random(c, 3, 0, 5)],
      [1, n * c, n * d],
      (b, [z, f, s], [loss, dz, df]) => b.featureBalancedLoss(z, f, labels, s, n, c, d, loss, dz, df),
      1e-5,
      1e-4,
    );
    const m = 300;
    for (const [momentum, nesterov] of [
      [0, false],
      [0.9, false],
      [0.9, true],
    ] as const) {
      await check(
        `sgdStep momentum ${momentum} nesterov ${nesterov}`,
        [random(m, 1), random(m, 2), random(m, 3)],
        [],
        (b, [p, g, buf]) => b.sgdStep(p, g, momentum ? buf : null, m, 0.1, momentum, 5e-4, nesterov),
        1e-6,
        1e-5,
      );
    }
  });

  it('memory stays flat: freed buffers are reused', async () => {
    const sizes = [10, 1000, 4096, 70000];
    const round = () => {
      for (const s of sizes.map((n) => gpu!.alloc(n))) gpu!.free(s);
    };
    round();
    const before = gpu!.memoryBytes();
    for (let i = 0; i < 20; i++) round();
    if (gpu!.memoryBytes() !== before) throw new Error(`memory grew from ${before} to ${gpu!.memoryBytes()} bytes`);
  });
});
