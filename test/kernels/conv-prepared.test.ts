// The inference forward with a prepared filter (assembly/conv.ts:
// conv2dPrepareFilter, then conv2dForwardAffinePrepared) against the fused
// forward that transforms the filter itself (conv2dForwardAffine): the same
// bits on random odd geometries of each path (direct, Winograd F(2,3),
// F(4,3)), with the filter prepared at batch 1 and used at other batch
// sizes. conv-affine.test.ts checks conv2dForwardAffine against the
// reference. Then through the WASM backend in the bounds-checking debug mode
// (every kernel pointer inside a live block), and on the reference backend.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { kernelBuilds, loadHarness, type Harness } from './harness.js';
import { mulberry32, randomFrom } from '../util/close.js';
import { type Backend, type ConvGeometry, convGeometry } from '../../src/backend/backend.js';
import { init, shutdown } from '../../src/init.js';
import { squareConvGeometries } from '../util/convGeometry.js';

process.env.WASMTAIL_CHECK_BOUNDS = '1';

const dims = (g: ConvGeometry) => [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow] as const;
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const PATHS = { direct: 0, winograd: 1, winograd4: 2 } as const;
type Path = keyof typeof PATHS;

/** The path assembly/conv.ts's preparedPath picks for plans of g.n images in the default builds (winogradApplies, winograd4Applies). */
function expectedPath(g: ConvGeometry): Path {
  const wino = g.kh === 3 && g.kw === 3 && g.stride === 1 && g.pad === 1 && g.c >= 8 && g.oc >= 8;
  if (wino && g.h >= 12 && g.w >= 12) return 'winograd4';
  if (wino && g.h >= 7 && g.w >= 7) return g.n >= 4 ? 'winograd4' : 'winograd';
  if (wino && g.h >= 2 && g.w >= 2 && g.h * g.w > 4) return 'winograd';
  return 'direct';
}

/** Random inputs of geometry g, in fresh buffers of h. */
function operands(h: Harness, g: ConvGeometry, withResidual: boolean, seed: number) {
  const rng = mulberry32(seed);
  const xLen = g.n * g.c * g.h * g.w,
    wLen = g.oc * g.c * g.kh * g.kw,
    yLen = g.n * g.oc * g.oh * g.ow;
  return {
    x: h.alloc(xLen, randomFrom(xLen, rng)),
    w: h.alloc(wLen, randomFrom(wLen, rng)),
    scale: h.alloc(g.oc, randomFrom(g.oc, rng)),
    shift: h.alloc(g.oc, randomFrom(g.oc, rng)),
    residual: withResidual ? h.alloc(yLen, randomFrom(yLen, rng)) : 0,
    yLen,
  };
}

/** The filter prepared for plans of prepareBatch images, used on g's batch: conv2dForwardAffine's bits. */
function checkPrepared(h: Harness, g: ConvGeometry, prepareBatch: number, withResidual: boolean, relu: boolean, seed: number): void {
  const o = operands(h, g, withResidual, seed);
  const work = h.allocBytes(h.k.conv2dWorkspaceBytes(...dims(g)));
  // The outputs start as NaN: the kernels must overwrite them.
  const want = h.alloc(o.yLen, new Float32Array(o.yLen).fill(Number.NaN));
  h.k.conv2dForwardAffine(o.x, o.w, want, ...dims(g), work, o.scale, o.shift, o.residual, relu ? 1 : 0);

  const one = { ...g, n: prepareBatch };
  const prepared = h.allocBytes(h.k.conv2dPreparedFilterBytes(...dims(one)));
  const prepWork = h.allocBytes(h.k.conv2dWorkspaceBytes(...dims(one)));
  const path = h.k.conv2dPrepareFilter(o.w, prepared, ...dims(one), prepWork);
  assert.equal(path, PATHS[expectedPath(one)], `path of ${JSON.stringify(one)}`);
  const got = h.alloc(o.yLen, new Float32Array(o.yLen).fill(Number.NaN));
  h.k.conv2dForwardAffinePrepared(o.x, prepared, got, ...dims(g), work, o.scale, o.shift, o.residual, relu ? 1 : 0, path);
  assert.deepEqual(bits(h.read(got, o.yLen)), bits(h.read(want, o.yLen)), `${JSON.stringify(g)} residual ${withResidual} relu ${relu}`);
}

const batch = fc.integer({ min: 1, max: 3 });
/** Odd sizes of every kind; mostly the direct path (few channels, 1x1, stride 2, no padding). */
const anyGeometry = squareConvGeometries(11, 11);
/** 3x3, stride 1, padding 1, at least 8 channels in and out: Winograd, F(4,3) from 7x7 up. */
const winogradGeometry = (minSide: number, maxSide: number) =>
  fc
    .record({
      n: batch,
      c: fc.integer({ min: 8, max: 13 }),
      oc: fc.integer({ min: 8, max: 13 }),
      h: fc.integer({ min: minSide, max: maxSide }),
      w: fc.integer({ min: minSide, max: maxSide }),
    })
    .map((r) => convGeometry([r.n, r.c, r.h, r.w], [r.oc, r.c, 3, 3], 1, 1));
const byPath = {
  direct: anyGeometry.filter((g) => expectedPath(g) === 'direct'),
  // Under 7x7 on a side: F(2,3) whatever the batch (7x7 to 11x11 below).
  winograd: winogradGeometry(2, 11).filter((g) => g.h < 7 || g.w < 7),
  winograd4: winogradGeometry(12, 19),
};

for (const build of await kernelBuilds())
  describe(`conv2dForwardAffinePrepared kernel (${build})`, () => {
    let h: Harness;
    before(async () => {
      h = await loadHarness(build);
    });

    for (const path of Object.keys(byPath) as Path[]) {
      it(`gives conv2dForwardAffine's bits on random ${path} geometries`, () => {
        fc.assert(
          fc.property(byPath[path], fc.boolean(), fc.boolean(), fc.integer(), (g, res, relu, seed) =>
            checkPrepared(h, g, 1, res, relu, seed),
          ),
          { numRuns: path === 'winograd4' ? 25 : 40 },
        );
      });
    }

    it('keeps F(2,3) on 7x7 to 11x11 images for plans of fewer than 4 images, F(4,3) from 4 on (bits of the F(4,3) forward)', () => {
      const seen = new Set<number>();
      fc.assert(
        fc.property(winogradGeometry(7, 11), fc.integer({ min: 1, max: 6 }), fc.integer(), (g0, n, seed) => {
          const g = { ...g0, n };
          if (n >= 4) {
            checkPrepared(h, g, n, false, true, seed);
            seen.add(PATHS.winograd4);
            return;
          }
          // Prepared for n < 4 images: the F(2,3) layout, and a forward within the kernels' rounding of F(4,3)'s.
          const o = operands(h, g, false, seed);
          const work = h.allocBytes(h.k.conv2dWorkspaceBytes(...dims(g)));
          const prepared = h.allocBytes(h.k.conv2dPreparedFilterBytes(...dims(g)));
          assert.equal(h.k.conv2dPrepareFilter(o.w, prepared, ...dims(g), work), PATHS.winograd);
          seen.add(PATHS.winograd);
          const [want, got] = [h.alloc(o.yLen), h.alloc(o.yLen)];
          h.k.conv2dForwardAffine(o.x, o.w, want, ...dims(g), work, o.scale, o.shift, 0, 0);
          h.k.conv2dForwardAffinePrepared(o.x, prepared, got, ...dims(g), work, o.scale, o.shift, 0, 0, PATHS.winograd);
          const a = h.read(want, o.yLen),
            b = h.read(got, o.yLen);
          const scale = Math.max(...Array.from(a, Math.abs));
          const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
          assert.ok(diff <= 1e-5 * scale, `${JSON.stringify(g)}: differs by ${diff} (max |y| ${scale})`);
        }),
        { numRuns: 30 },
      );
      assert.equal(seen.size, 2);
    });

    it("traps on a filter prepared for another geometry's path", () => {
      const g = convGeometry([1, 8, 6, 6], [8, 8, 3, 3], 1, 1);
      const o = operands(h, g, false, 1);
      const work = h.allocBytes(h.k.conv2dWorkspaceBytes(...dims(g)));
      const prepared = h.allocBytes(h.k.conv2dPreparedFilterBytes(...dims(g)));
      assert.equal(h.k.conv2dPrepareFilter(o.w, prepared, ...dims(g), work), PATHS.winograd);
      const y = h.alloc(o.yLen);
      assert.throws(
        () => h.k.conv2dForwardAffinePrepared(o.x, prepared, y, ...dims(g), work, o.scale, o.shift, 0, 1, PATHS.winograd4),
        WebAssembly.RuntimeError,
      );
    });
  });

for (const kind of ['wasm', 'reference'] as const)
  describe(`conv2dForwardAffinePrepared on the ${kind} backend (bounds-checking debug mode)`, () => {
    let b: Backend;
    const random = (n: number, seed: number) => {
      const s = b.alloc(n);
      b.write(s, randomFrom(n, mulberry32(seed)));
      return s;
    };
    const read = (s: Parameters<Backend['read']>[0]) => b.read(s) as Float32Array;

    it('gives conv2dForwardAffine bits on one geometry per path, batch 3 from a filter prepared at batch 1', async () => {
      b = await init({ backend: kind, threads: 1 });
      assert.ok(b.capabilities.has('preparedConv'));
      const shapes: [number[], number[], number, number][] = [
        [[3, 3, 9, 11], [5, 3, 3, 3], 1, 1],
        [[3, 9, 7, 5], [10, 9, 3, 3], 1, 1],
        [[3, 9, 13, 14], [11, 9, 3, 3], 1, 1],
        [[3, 9, 13, 14], [11, 9, 3, 3], 2, 1],
      ];
      for (const [i, [xs, ws, stride, pad]] of shapes.entries()) {
        const g = convGeometry(xs, ws, stride, pad);
        const yLen = g.n * g.oc * g.oh * g.ow;
        const [x, w, scale, shift, residual] = [
          random(g.n * g.c * g.h * g.w, 10 * i),
          random(g.oc * g.c * g.kh * g.kw, 10 * i + 1),
          random(g.oc, 10 * i + 2),
          random(g.oc, 10 * i + 3),
          random(yLen, 10 * i + 4),
        ];
        const [want, got] = [b.alloc(yLen), b.alloc(yLen)];
        b.conv2dForwardAffine(x, w, want, g, scale, shift, residual, true);
        const one = { ...g, n: 1 };
        const filter = b.conv2dPrepareFilter(w, b.alloc(b.conv2dPreparedFilterLength(one)), one);
        b.conv2dForwardAffinePrepared(x, filter, got, g, scale, shift, residual, true);
        assert.deepEqual(bits(read(got)), bits(read(want)), JSON.stringify(g));
        assert.throws(
          () => b.conv2dForwardAffinePrepared(x, filter, got, { ...g, stride: 3 - g.stride }, scale, shift, residual, true),
          /filter prepared for stride=\d, called with stride=\d/,
        );
      }
    });

    if (kind === 'wasm') {
      it('refuses a prepared-filter storage shorter than the geometry needs', () => {
        const g = convGeometry([1, 16, 12, 12], [16, 16, 3, 3], 1, 1);
        const w = random(g.oc * g.c * 9, 1);
        const short = b.alloc(b.conv2dPreparedFilterLength(g) - 64);
        assert.throws(() => b.conv2dPrepareFilter(w, short, g), /bounds check: kernel conv2dPrepareFilter\(\): argument prepared/);
        shutdown();
      });
    }
  });
