// Every WebGPU primitive recorded and submitted on Dawn's Null backend, which
// validates each call and runs none: the uniforms packed by name, the
// storages bound by name, the pipelines and bind groups, in-place calls and
// split-K included. Values are meaningless there (the kernels' numbers are
// checked on a real adapter by kernels.test.ts); what this catches, with no
// GPU or Vulkan driver, is a call the device would refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Backend, type Storage, convGeometry } from '../../src/backend/backend.js';
import { broadcastStrides, stridesOf } from '../../src/backend/layout.js';

test("every WebGPU primitive passes Dawn's validation (Null backend)", async (t) => {
  let b: Backend;
  try {
    const { WebGpuBackend } = await import('../../src/backend/webgpu/webgpuBackend.js');
    b = await WebGpuBackend.create(['backend=null']);
  } catch (e) {
    if (process.env.CI) throw e;
    t.skip(`Dawn's Null backend is unavailable: ${(e as Error).message}`);
    return;
  }
  const s = (n: number): Storage => {
    const st = b.alloc(n);
    b.write(st, new Float32Array(n).fill(0.5));
    return st;
  };
  const g = convGeometry([2, 3, 6, 6], [4, 3, 3, 3], 1, 1);
  const nx = 2 * 3 * 36,
    nw = 4 * 27,
    ny = 2 * 4 * g.oh * g.ow;
  // A backward filter with K = 64 * 16 * 16 positions: split over several K slices, then splitKSum.
  const big = convGeometry([64, 3, 16, 16], [4, 3, 3, 3], 1, 1);
  const calls: [string, () => void][] = [
    [
      'fill, copy',
      () => {
        b.fill(s(10), 1, 10);
        b.copy(s(10), s(10), 10);
      },
    ],
    [
      'unary, binary, axpby, reluBackward',
      () => {
        b.unary('exp', s(10), s(10), 10);
        b.binary('div', s(10), s(10), s(10), 10);
        b.axpby(1, s(10), 2, s(10), 10);
        b.reluBackward(s(10), s(10), s(10), 10);
      },
    ],
    [
      'binary in place',
      () => {
        const a = s(10);
        b.binary('add', a, s(10), a, 10);
      },
    ],
    ['binaryStrided', () => b.binaryStrided('mul', s(12), stridesOf([3, 4]), s(4), broadcastStrides([4], [3, 4]), s(12), [3, 4])],
    [
      'binaryStrided in place (bias add)',
      () => {
        const y = s(12);
        b.binaryStrided('add', y, [4, 1], s(4), [0, 1], y, [3, 4]);
      },
    ],
    ['broadcastTo', () => b.broadcastTo(s(4), [1, 4], s(12), [3, 4])],
    [
      'reduceAxis',
      () => {
        b.reduceAxis('sum', s(60), s(12), 3, 5, 4);
        b.reduceAxis('max', s(60), s(12), 3, 5, 4);
        b.reduceAxis('sum', s(60), s(1), 1, 60, 1);
      },
    ],
    ['gemm', () => b.gemm(true, false, 5, 6, 7, 1, s(35), s(42), 0, s(30))],
    [
      'convolutions',
      () => {
        b.conv2dForward(s(nx), s(nw), s(ny), g);
        b.conv2dBackwardInput(s(ny), s(nw), s(nx), g);
        b.conv2dBackwardFilter(s(nx), s(ny), s(nw), g);
      },
    ],
    ['conv2dBackwardFilter, split-K', () => b.conv2dBackwardFilter(s(64 * 3 * 256), s(64 * 4 * 256), s(nw), big)],
    [
      'pooling, shortcut',
      () => {
        b.globalAvgPoolForward(s(24), s(6), 6, 4);
        b.globalAvgPoolBackward(s(6), s(24), 6, 4);
        b.downsamplePadChannels(s(nx), s(2 * 5 * 9), 2, 3, 6, 6, 2, 1);
        b.downsamplePadChannelsBackward(s(2 * 5 * 9), s(nx), 2, 3, 6, 6, 2, 1);
      },
    ],
    [
      'batch norm',
      () => {
        b.batchNormForwardTrain(s(48), s(3), s(3), s(48), s(3), s(3), s(3), s(3), 2, 3, 8, 0.1, 1e-5);
        b.batchNormForwardEval(s(48), s(3), s(3), s(48), s(3), s(3), 2, 3, 8, 1e-5);
        b.batchNormBackward(s(48), s(48), s(3), s(3), s(3), s(48), s(3), s(3), 2, 3, 8, true);
      },
    ],
    [
      'losses',
      () => {
        b.softmaxCrossEntropy(s(20), Int32Array.from([1, 2]), s(10), 2, 10, s(1), s(20));
        b.softmaxCrossEntropy(s(20), Int32Array.from([1, 2]), null, 2, 10, s(1), s(20));
        b.featureBalancedLoss(s(20), s(8), Int32Array.from([1, 2]), s(10), 2, 10, 4, s(1), s(20), s(8));
      },
    ],
    [
      'sgdStep',
      () => {
        b.sgdStep(s(10), s(10), s(10), 10, 0.1, 0.9, 1e-4, true);
        b.sgdStep(s(10), s(10), null, 10, 0.1, 0, 0, false);
      },
    ],
  ];
  const failures: string[] = [];
  for (const [name, call] of calls) {
    try {
      call();
      await b.read(s(1)); // throws the batch's validation errors
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  assert.throws(() => b.conv2dForwardAffine(s(nx), s(nw), s(ny), g, s(4), s(4), null, false), /lacks the 'conv2dForwardAffine' capability/);
  b.dispose();
  assert.deepEqual(failures, []);
});
