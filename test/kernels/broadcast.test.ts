// The WASM kernels that read operands by strides (assembly/broadcast.ts),
// reduce over one axis (assembly/reduce.ts's reduceAxis) and move the
// option-A shortcut (assembly/shortcut.ts), against the reference backend on
// random shapes with odd sizes. Data movement, max and the four binary ops
// are a single f32 operation per element on both sides, so they must agree
// bit for bit; sums to within the f32 error of sum |x|.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Backend, Storage } from '../../src/backend/backend.js';
import { ReferenceBackend } from '../../src/backend/reference/referenceBackend.js';
import { broadcastStrides, stridesOf } from '../../src/backend/layout.js';
import { init, shutdown } from '../../src/init.js';
import { assertClose, random } from '../util/close.js';

const wasm = await init({ backend: 'wasm', simd: 'plain', threads: 1 });
const ref = new ReferenceBackend('float32');
fc.configureGlobal({ includeErrorInReport: true, numRuns: 60 });
process.on('exit', () => shutdown());

/** Runs fn on a backend over copies of the inputs; returns the outputs' values. */
function run(b: Backend, inputs: Float32Array[], outputs: number[], fn: (ins: Storage[], outs: Storage[]) => void): Float32Array[] {
  const ins = inputs.map((v) => {
    const s = b.alloc(v.length);
    b.write(s, v);
    return s;
  });
  const outs = outputs.map((n) => {
    const s = b.alloc(n);
    b.write(s, new Float32Array(n).fill(NaN));
    return s;
  });
  fn(ins, outs);
  const got = outs.map((s) => b.read(s) as Float32Array);
  for (const s of [...ins, ...outs]) b.free(s);
  return got;
}

/** Equal bit patterns, except that any NaN matches any NaN (WebAssembly leaves a NaN result's sign and payload open). */
function assertBitIdentical(got: Float32Array, want: Float32Array, what: string): void {
  const bits = (a: Float32Array) => Array.from(new Uint32Array(Float32Array.from(a, (v) => (Number.isNaN(v) ? NaN : v)).buffer));
  assert.deepEqual(bits(got), bits(want), what);
}

const dim = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 9 }));
/** An output shape of rank 1..4 and an operand shape broadcast to it (dims dropped from the left, others set to 1). */
const broadcastPair = fc
  .tuple(fc.array(dim, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 4 }), fc.integer())
  .map(([out, mask, drop, seed]) => {
    const small = out.map((d, i) => (mask & (1 << i) ? 1 : d)).slice(Math.min(drop, out.length));
    return { out, small, seed };
  });

test('binaryStrided: every op, the broadcast operand first or second, bit-identical to the reference', () => {
  fc.assert(
    fc.property(broadcastPair, ({ out, small, seed }) => {
      const n = out.reduce((a, b) => a * b, 1),
        m = small.reduce((a, b) => a * b, 1);
      const full = random(n, seed),
        part = random(m, seed + 1, 0.25, 3);
      for (const op of ['add', 'sub', 'mul', 'div'] as const) {
        for (const first of [false, true]) {
          const [xs, ys] = first ? [broadcastStrides(small, out), stridesOf(out)] : [stridesOf(out), broadcastStrides(small, out)];
          const inputs = first ? [part, full] : [full, part];
          const call = (b: Backend) => run(b, inputs, [n], ([a, c], [y]) => b.binaryStrided(op, a, xs, c, ys, y, out))[0];
          assertBitIdentical(call(wasm), call(ref), `${op} ${small} -> ${out}`);
        }
      }
    }),
  );
});

test('broadcastTo: bit-identical to the reference', () => {
  fc.assert(
    fc.property(broadcastPair, ({ out, small, seed }) => {
      const same = [...new Array(out.length - small.length).fill(1), ...small];
      const n = out.reduce((a, b) => a * b, 1),
        m = same.reduce((a, b) => a * b, 1);
      const x = random(m, seed);
      const call = (b: Backend) => run(b, [x], [n], ([a], [y]) => b.broadcastTo(a, same, y, out))[0];
      assertBitIdentical(call(wasm), call(ref), `${same} -> ${out}`);
    }),
  );
});

const axes = fc.tuple(
  fc.integer({ min: 1, max: 7 }),
  fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1000, max: 3000 })),
  fc.integer({ min: 1, max: 11 }),
  fc.integer(),
);

test('reduceAxis max: bit-identical to the reference, NaN propagates', () => {
  fc.assert(
    fc.property(axes, fc.boolean(), ([outer, axis, inner, seed], withNaN) => {
      const x = random(outer * axis * inner, seed);
      if (withNaN) x[(seed >>> 0) % x.length] = NaN;
      const call = (b: Backend) => run(b, [x], [outer * inner], ([a], [y]) => b.reduceAxis('max', a, y, outer, axis, inner))[0];
      assertBitIdentical(call(wasm), call(ref), `max [${outer}, ${axis}, ${inner}]`);
    }),
  );
});

test('reduceAxis sum: within the f32 error of sum |x| of the reference (f64 sums)', () => {
  fc.assert(
    fc.property(axes, ([outer, axis, inner, seed]) => {
      const x = random(outer * axis * inner, seed);
      const call = (b: Backend) => run(b, [x], [outer * inner], ([a], [y]) => b.reduceAxis('sum', a, y, outer, axis, inner))[0];
      // |x| <= 3: a sum of `axis` values is off by at most a few ulps of 3 * axis.
      assertClose(call(wasm), call(ref), 3 * axis * 2 ** -22, 0, `sum [${outer}, ${axis}, ${inner}]`);
    }),
  );
});

test('downsamplePadChannels and its backward: bit-identical to the reference', () => {
  fc.assert(
    fc.property(
      fc.tuple(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(1, 2, 3),
        fc.integer({ min: 0, max: 3 }),
        fc.integer(),
      ),
      ([n, c, h, w, stride, padC, seed]) => {
        const oh = Math.ceil(h / stride),
          ow = Math.ceil(w / stride),
          ny = n * (c + 2 * padC) * oh * ow,
          nx = n * c * h * w;
        const fwd = (b: Backend) =>
          run(b, [random(nx, seed)], [ny], ([x], [y]) => b.downsamplePadChannels(x, y, n, c, h, w, stride, padC))[0];
        assertBitIdentical(fwd(wasm), fwd(ref), 'forward');
        const bwd = (b: Backend) =>
          run(b, [random(ny, seed + 1)], [nx], ([dy], [dx]) => b.downsamplePadChannelsBackward(dy, dx, n, c, h, w, stride, padC))[0];
        assertBitIdentical(bwd(wasm), bwd(ref), 'backward');
      },
    ),
  );
});
