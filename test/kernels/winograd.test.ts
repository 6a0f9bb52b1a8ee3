// assembly/winograd.ts (Winograd F(2x2, 3x3), used by assembly/conv.ts's
// forward for 3x3 / stride 1 / padding 1) and assembly/winograd-filter.ts
// (Winograd F(3x3, 2x2) for the backward filter) against the float64
// direct-loop references, with the conv kernel test's tolerances: the
// forward, the inference fusion (scale, shift, residual, ReLU), the stride-1
// backward input (a forward with the flipped filter) and the backward
// filter, on odd image sizes (partial tiles at the right and bottom edges),
// odd channel counts and, for the filter, batches of more images than it
// has chunks.
//
// The shipped builds take Winograd only where it measured faster (forward:
// c, oc >= 8, at least two tiles, F(4x4, 3x3) of assembly/winograd4.ts from
// 12x12 images; filter: c >= 4, at least 8 tiles, odd
// edges wasting at most a quarter of the tiles, F(3x3, 4x4) of
// assembly/winograd4-filter.ts from 12x12 images). To check the transforms at
// every size, this file also compiles each build with asc --use
// WINOGRAD_MODE=2 (F(2,3) wherever it applies, the filter's switch
// following it), and with WINOGRAD4_MODE=2 too (F(4,3) wherever it
// applies, the filter's F(3x3, 4x4) following it), and checks those builds
// on all geometries; the shipped build
// is checked on shapes above the thresholds, bit for bit against the forced
// one (so the dispatch is seen to take the Winograd path there).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import fc from 'fast-check';
import { harnessFor, kernelBuilds, loadHarness, type Harness, type KernelBuild } from './harness.js';
import { assertWithin, mulberry32, randomFrom } from '../util/close.js';
import { convGeometry, type ConvGeometry } from '../../src/backend/backend.js';
import {
  conv2dBackwardFilterRef,
  conv2dBackwardInputRef,
  conv2dForwardAffineRef,
  conv2dForwardRef,
} from '../../src/backend/reference/kernels/conv.js';

const CONFIG = fileURLToPath(new URL('../../assembly/asconfig.json', import.meta.url));

/**
 * The kernels of one build compiled with Winograd wherever it applies, behind
 * the Harness interface: F(2x2, 3x3), or with f43 F(4x4, 3x3) (assembly/winograd4.ts).
 */
async function loadForcedWinograd(build: KernelBuild, f43 = false): Promise<Harness> {
  let wasm: Uint8Array | null = null;
  const uses = ['--use', 'WINOGRAD_MODE=2', ...(f43 ? ['--use', 'WINOGRAD4_MODE=2'] : [])];
  const { error, stderr } = await asc.main(['--config', CONFIG, '--target', build, ...uses, '-o', 'forced.wasm'], {
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith('.wasm')) wasm = contents as Uint8Array;
    },
  } as Parameters<typeof asc.main>[1]);
  if (error || !wasm) throw new Error(`asc --target ${build} ${uses.join(' ')}: ${error}\n${stderr}`);
  return harnessFor(await WebAssembly.compile((wasm as Uint8Array).slice()));
}

/** The conv kernel test's tolerance: |got - want| <= atol + rtol * |want|, atol growing with the length of the sums. */
function assertClose(what: string, got: Float32Array, want: Float64Array, sumLength: number): void {
  assertWithin(got, want, 1e-5 + 2e-6 * sumLength, 1e-4, (i) => `${what}: [${i}]`);
}

const dims = (g: ConvGeometry) => [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow] as const;

const conv3x3 = (n: number, c: number, oc: number, h: number, w: number) => convGeometry([n, c, h, w], [oc, c, 3, 3], 1, 1);

interface Outputs {
  y: Float32Array;
  affine: Float32Array;
  affinePlain: Float32Array;
  dx: Float32Array;
}

/**
 * Forward, affine (residual + ReLU, and scale/shift alone), and backward
 * input of h's kernels on random inputs from seed, each against its
 * reference; returns the outputs for bitwise comparisons.
 */
function checkGeometry(h: Harness, g: ConvGeometry, seed: number): Outputs {
  const rng = mulberry32(seed);
  const xLen = g.n * g.c * g.h * g.w,
    wLen = g.oc * g.c * 9,
    yLen = g.n * g.oc * g.oh * g.ow;
  const x = randomFrom(xLen, rng),
    w = randomFrom(wLen, rng),
    dy = randomFrom(yLen, rng);
  const scale = randomFrom(g.oc, rng),
    shift = randomFrom(g.oc, rng),
    res = randomFrom(yLen, rng);
  const px = h.alloc(xLen, x),
    pw = h.alloc(wLen, w),
    pdy = h.alloc(yLen, dy);
  const pscale = h.alloc(g.oc, scale),
    pshift = h.alloc(g.oc, shift),
    pres = h.alloc(yLen, res);
  const work = h.allocBytes(h.k.conv2dWorkspaceBytes(...dims(g)));
  const x64 = Float64Array.from(x),
    w64 = Float64Array.from(w);
  const label = JSON.stringify(g);
  const K = g.c * 9;

  // Outputs start as NaN: every output pixel, partial tiles included, must be written.
  const fresh = (len: number) => h.alloc(len, new Float32Array(len).fill(NaN));
  const py = fresh(yLen);
  h.k.conv2dForward(px, pw, py, ...dims(g), work);
  const want = new Float64Array(yLen);
  conv2dForwardRef(x64, w64, want, g);
  const y = h.read(py, yLen);
  assertClose(`forward ${label}`, y, want, K);

  const pa = fresh(yLen);
  h.k.conv2dForwardAffine(px, pw, pa, ...dims(g), work, pscale, pshift, pres, 1);
  const wantA = new Float64Array(yLen);
  conv2dForwardAffineRef(x64, w64, wantA, g, Float64Array.from(scale), Float64Array.from(shift), Float64Array.from(res), true);
  const affine = h.read(pa, yLen);
  assertClose(`affine + residual + relu ${label}`, affine, wantA, K);

  const pp = fresh(yLen);
  h.k.conv2dForwardAffine(px, pw, pp, ...dims(g), work, pscale, pshift, 0, 0);
  const wantP = new Float64Array(yLen);
  conv2dForwardAffineRef(x64, w64, wantP, g, Float64Array.from(scale), Float64Array.from(shift), null, false);
  const affinePlain = h.read(pp, yLen);
  assertClose(`affine ${label}`, affinePlain, wantP, K);

  const pdx = fresh(xLen);
  h.k.conv2dBackwardInput(pdy, pw, pdx, ...dims(g), work);
  const wantDx = new Float64Array(xLen);
  conv2dBackwardInputRef(Float64Array.from(dy), w64, wantDx, g);
  const dx = h.read(pdx, xLen);
  assertClose(`backward input ${label}`, dx, wantDx, g.oc * 9);
  return { y, affine, affinePlain, dx };
}

/** The outputs of two builds, bit for bit. */
function assertSameOutputs(a: Outputs, b: Outputs, label: string): void {
  assert.deepEqual(a.y, b.y, `forward ${label}`);
  assert.deepEqual(a.affine, b.affine, `affine ${label}`);
  assert.deepEqual(a.affinePlain, b.affinePlain, `affine without residual ${label}`);
  assert.deepEqual(a.dx, b.dx, `backward input ${label}`);
}

/**
 * The backward filter of h's kernels on random inputs from seed against its
 * reference (conv.test.ts's tolerance: the sums run over n * h * w products).
 * The workspace starts as NaN: no stale lane of a block may reach the sums.
 * Returns dW for bitwise comparisons.
 */
function checkFilter(h: Harness, g: ConvGeometry, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const xLen = g.n * g.c * g.h * g.w,
    wLen = g.oc * g.c * 9,
    yLen = g.n * g.oc * g.oh * g.ow;
  const x = randomFrom(xLen, rng),
    dy = randomFrom(yLen, rng);
  const px = h.alloc(xLen, x),
    pdy = h.alloc(yLen, dy);
  const bytes = h.k.conv2dWorkspaceBytes(...dims(g));
  const work = h.allocBytes(bytes);
  new Uint8Array(h.memory.buffer, work, bytes).fill(0xff);
  const pdw = h.alloc(wLen, new Float32Array(wLen).fill(NaN));
  h.k.conv2dBackwardFilter(px, pdy, pdw, ...dims(g), work);
  const want = new Float64Array(wLen);
  conv2dBackwardFilterRef(Float64Array.from(x), Float64Array.from(dy), want, g);
  const dw = h.read(pdw, wLen);
  assertClose(`backward filter ${JSON.stringify(g)}`, dw, want, g.n * g.oh * g.ow);
  return dw;
}

/**
 * The backward filter of g computed whole, and as its chunks in three calls
 * (split at the two chunk indices given), each with its own workspace, then
 * added up: the same bits. Threads take whole chunks
 * (src/backend/wasm/wasmBackend.ts, conv2dBackwardFilter), each in its own
 * workspace.
 */
function assertChunksAddUp(h: Harness, g: ConvGeometry, seed: number, [s1, s2]: [number, number]): void {
  const rng = mulberry32(seed);
  const x = randomFrom(g.n * g.c * g.h * g.w, rng),
    dy = randomFrom(g.n * g.oc * g.oh * g.ow, rng);
  const px = h.alloc(x.length, x),
    pdy = h.alloc(dy.length, dy);
  const bytes = h.k.conv2dWorkspaceBytes(...dims(g));
  const wLen = g.oc * g.c * 9,
    chunks = h.k.conv2dBackwardFilterChunks(g.n) as number;
  const whole = h.alloc(wLen),
    split = h.alloc(wLen),
    parts = h.alloc(chunks * wLen);
  h.k.conv2dBackwardFilter(px, pdy, whole, ...dims(g), h.allocBytes(bytes));
  for (const [g0, g1] of [
    [0, s1],
    [s1, s2],
    [s2, chunks],
  ]) {
    h.k.conv2dBackwardFilterParts(px, pdy, parts, ...dims(g), g0, g1, h.allocBytes(bytes));
  }
  h.k.conv2dBackwardFilterReduce(parts, chunks, split, g.oc, g.c * 9);
  assert.deepEqual(h.read(split, wLen), h.read(whole, wLen), JSON.stringify(g));
}

/** The shapes one Winograd filter gradient is checked on. */
interface FilterShapes {
  /** Random geometries, against the reference. */
  random: fc.Arbitrary<ConvGeometry>;
  /** Listed geometries, against the reference. */
  listed: ConvGeometry[];
  /** Geometries the shipped build runs on this path: the same bits as the forced build. */
  shippedShapes: ConvGeometry[];
  /** Geometries whose chunks, computed apart, must add up to the whole's bits. */
  chunkShapes: ConvGeometry[];
  /** First seed of the listed shapes (then + 100 for the shipped ones). */
  seed: number;
}

/**
 * The backward filter's tests of one Winograd path, on the build forced to
 * it (forced(), as the suite's before() loaded it) and the shipped one.
 */
function filterTests(path: string, forcedName: string, forced: () => Harness, shipped: () => Harness, shapes: FilterShapes): void {
  it(`backward filter (${path}) matches the reference on random odd geometries, 1 to 20 images (${forcedName})`, () => {
    fc.assert(
      fc.property(shapes.random, fc.integer(), (g, seed) => {
        checkFilter(forced(), g, seed);
      }),
      { numRuns: 60 },
    );
  });

  it(`backward filter (${path}) matches the reference on listed images, 1 to 64 channels (${forcedName})`, () => {
    shapes.listed.forEach((g, i) => {
      checkFilter(forced(), g, shapes.seed + i);
    });
  });

  it(`backward filter (${path}): is what the shipped build runs on its shapes, bit for bit`, () => {
    shapes.shippedShapes.forEach((g, i) => {
      const seed = shapes.seed + 100 + i;
      assert.deepEqual(checkFilter(shipped(), g, seed), checkFilter(forced(), g, seed), `backward filter ${JSON.stringify(g)}`);
    });
  });

  it(`backward filter (${path}): chunks computed by separate calls and workspaces add up to the same bits`, () => {
    for (const g of shapes.chunkShapes) assertChunksAddUp(forced(), g, 11, [5, 7]);
  });
}

/** Odd image sizes (partial tiles) and odd channel counts, 1 to 2 images. */
const geometry = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.constantFrom(1, 2, 3, 5, 8, 16, 17),
    oc: fc.constantFrom(1, 3, 4, 8, 16, 17),
    h: fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 17),
    w: fc.constantFrom(1, 2, 3, 5, 6, 7, 9, 16, 17, 19),
  })
  .map((r) => conv3x3(r.n, r.c, r.oc, r.h, r.w));

/** Sizes the brief names, on both sides of the dispatch threshold. */
const LISTED: ConvGeometry[] = [
  conv3x3(1, 1, 1, 1, 1),
  conv3x3(2, 3, 3, 3, 3),
  conv3x3(1, 16, 16, 5, 7),
  conv3x3(1, 17, 17, 17, 17),
  conv3x3(2, 3, 16, 17, 17),
  conv3x3(1, 16, 3, 7, 5),
  conv3x3(1, 17, 1, 1, 17),
  conv3x3(1, 1, 17, 17, 1),
];

/**
 * Shapes the shipped builds run with Winograd F(2,3): odd sizes, the
 * threshold's edges (images from 7x7 take F(4,3): SHIPPED_F43).
 */
const ABOVE_THRESHOLD: ConvGeometry[] = [
  conv3x3(2, 64, 64, 6, 8),
  conv3x3(1, 32, 32, 6, 16),
  conv3x3(1, 17, 17, 16, 6),
  conv3x3(2, 16, 16, 5, 7),
  conv3x3(1, 8, 8, 3, 3),
  conv3x3(1, 8, 9, 2, 3),
  conv3x3(3, 24, 8, 9, 4),
];

/** The filter's sums run over the batch in 12 fixed chunks: 1 to 20 images, so that chunks of 1 and of 2 images occur. */
const filterGeometry = fc
  .record({
    n: fc.integer({ min: 1, max: 20 }),
    c: fc.constantFrom(1, 2, 3, 4, 5, 8, 16, 17),
    oc: fc.constantFrom(1, 3, 4, 8, 9, 16, 17),
    h: fc.integer({ min: 1, max: 17 }),
    w: fc.integer({ min: 1, max: 17 }),
  })
  .map((r) => conv3x3(r.n, r.c, r.oc, r.h, r.w));

const FILTER_LISTED: ConvGeometry[] = [
  conv3x3(1, 1, 1, 1, 1),
  conv3x3(13, 3, 3, 3, 3),
  conv3x3(2, 17, 17, 17, 17),
  conv3x3(14, 1, 17, 17, 1),
  conv3x3(13, 17, 1, 1, 17),
  conv3x3(25, 16, 16, 5, 7),
  conv3x3(12, 3, 17, 16, 16),
  conv3x3(3, 64, 64, 8, 8),
];

/**
 * Shapes the shipped builds run with the Winograd filter F(3x3, 2x2): ResNet-32's last stage, odd sizes, the
 * threshold's edges (larger images take F(3x3, 4x4): FILTER_SHIPPED_F43).
 */
const FILTER_ABOVE_THRESHOLD: ConvGeometry[] = [
  conv3x3(2, 16, 16, 11, 32),
  conv3x3(13, 32, 32, 16, 10),
  conv3x3(14, 64, 64, 8, 8),
  conv3x3(24, 64, 64, 8, 8),
  conv3x3(3, 17, 17, 9, 17),
  conv3x3(5, 4, 1, 7, 7),
  conv3x3(13, 4, 17, 6, 6),
  conv3x3(2, 16, 3, 3, 32),
  conv3x3(1, 5, 9, 4, 8),
];

for (const build of await kernelBuilds())
  describe(`Winograd F(2x2, 3x3) (${build})`, () => {
    let forced: Harness;
    let shipped: Harness;
    before(async () => {
      forced = await loadForcedWinograd(build);
      shipped = await loadHarness(build);
    });

    it('matches the references on random odd geometries (Winograd forced)', () => {
      fc.assert(
        fc.property(geometry, fc.integer(), (g, seed) => {
          checkGeometry(forced, g, seed);
        }),
        { numRuns: 60 },
      );
    });

    it('matches the references on 1x1, 3x3, 5x7 and 17x17 images, 1 to 17 channels (Winograd forced)', () => {
      LISTED.forEach((g, i) => {
        checkGeometry(forced, g, 100 + i);
      });
    });

    it('is what the shipped build runs above its threshold, bit for bit', () => {
      ABOVE_THRESHOLD.forEach((g, i) => {
        const a = checkGeometry(shipped, g, 200 + i),
          b = checkGeometry(forced, g, 200 + i);
        assertSameOutputs(a, b, JSON.stringify(g));
      });
    });

    filterTests(
      'F(3x3, 2x2)',
      'Winograd forced',
      () => forced,
      () => shipped,
      {
        random: filterGeometry,
        listed: FILTER_LISTED,
        shippedShapes: FILTER_ABOVE_THRESHOLD,
        chunkShapes: [conv3x3(13, 17, 9, 9, 11), conv3x3(29, 16, 16, 8, 8)],
        seed: 300,
      },
    );

    it('gives each image the same bits whatever the batch it is computed in', () => {
      // Threads split the batch at any image (src/backend/wasm/wasmBackend.ts, convOverBatch).
      const g = conv3x3(3, 17, 16, 9, 11),
        one = conv3x3(1, 17, 16, 9, 11);
      const rng = mulberry32(7);
      const x = randomFrom(g.n * g.c * g.h * g.w, rng),
        w = randomFrom(g.oc * g.c * 9, rng);
      const px = forced.alloc(x.length, x),
        pw = forced.alloc(w.length, w);
      const yLen = g.oc * g.h * g.w,
        py = forced.alloc(g.n * yLen),
        p1 = forced.alloc(yLen);
      const work = forced.allocBytes(forced.k.conv2dWorkspaceBytes(...dims(g)));
      forced.k.conv2dForward(px, pw, py, ...dims(g), work);
      const all = forced.read(py, g.n * yLen);
      for (let b = 0; b < g.n; b++) {
        forced.k.conv2dForward(px + b * g.c * g.h * g.w * 4, pw, p1, ...dims(one), work);
        assert.deepEqual(forced.read(p1, yLen), all.subarray(b * yLen, (b + 1) * yLen), `image ${b}`);
      }
    });
  });

/** F(4,3)'s tiles are 4x4: sizes around multiples of 4 (partial tiles of 1 to 3 rows or columns), blocks of several images. */
const geometry4 = fc
  .record({
    n: fc.integer({ min: 1, max: 6 }),
    c: fc.constantFrom(1, 2, 3, 5, 8, 16, 17),
    oc: fc.constantFrom(1, 3, 4, 5, 8, 16, 17),
    h: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 17),
    w: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 17, 19, 33),
  })
  .map((r) => conv3x3(r.n, r.c, r.oc, r.h, r.w));

/** Shapes the shipped builds run with F(4,3): ResNet-32's three stages, odd sizes, the threshold's edges. */
const SHIPPED_F43: ConvGeometry[] = [
  conv3x3(2, 16, 16, 32, 32),
  conv3x3(1, 32, 32, 16, 16),
  conv3x3(1, 64, 64, 8, 8),
  conv3x3(2, 64, 64, 7, 7),
  conv3x3(1, 32, 32, 11, 16),
  conv3x3(1, 8, 8, 7, 9),
  conv3x3(1, 17, 17, 17, 17),
  conv3x3(2, 8, 8, 12, 12),
  conv3x3(1, 9, 16, 13, 12),
  conv3x3(3, 24, 8, 12, 19),
];

const LISTED4: ConvGeometry[] = [
  ...LISTED,
  conv3x3(2, 16, 16, 32, 32),
  conv3x3(1, 32, 32, 16, 16),
  conv3x3(5, 64, 64, 8, 8),
  conv3x3(3, 9, 11, 7, 7),
  conv3x3(2, 6, 7, 5, 5),
  conv3x3(17, 5, 3, 1, 1),
  conv3x3(1, 3, 6, 33, 35),
];

/** F(3x3, 4x4)'s dY tiles are 4x4: 1 to 19 pixels a side (partial tiles of 1 to 3 rows or columns), 1 to 20 images (chunks of 1 and 2). */
const filterGeometry4 = fc
  .record({
    n: fc.integer({ min: 1, max: 20 }),
    c: fc.constantFrom(1, 2, 3, 4, 5, 8, 16, 17),
    oc: fc.constantFrom(1, 3, 4, 8, 9, 16, 17),
    h: fc.integer({ min: 1, max: 19 }),
    w: fc.integer({ min: 1, max: 19 }),
  })
  .map((r) => conv3x3(r.n, r.c, r.oc, r.h, r.w));

const FILTER_LISTED4: ConvGeometry[] = [
  ...FILTER_LISTED,
  conv3x3(2, 16, 16, 32, 32),
  conv3x3(13, 32, 32, 16, 16),
  conv3x3(3, 5, 7, 33, 35),
  conv3x3(25, 9, 11, 5, 6),
];

/**
 * Shapes the shipped builds run with the backward filter's F(3x3, 4x4): ResNet-32's three stages (8x8 in chunks
 * of 3 images or more), odd sizes, the threshold's edges.
 */
const FILTER_SHIPPED_F43: ConvGeometry[] = [
  conv3x3(2, 16, 16, 32, 32),
  conv3x3(13, 32, 32, 16, 16),
  conv3x3(36, 64, 64, 8, 8),
  conv3x3(40, 8, 8, 7, 9),
  conv3x3(3, 17, 17, 17, 17),
  conv3x3(5, 4, 1, 12, 12),
  conv3x3(13, 4, 17, 13, 12),
];

for (const build of await kernelBuilds())
  describe(`Winograd F(4x4, 3x3) (${build})`, () => {
    let forced4: Harness;
    let shipped: Harness;
    before(async () => {
      forced4 = await loadForcedWinograd(build, true);
      shipped = await loadHarness(build);
    });

    it('matches the references on random odd geometries (F(4,3) forced)', () => {
      fc.assert(
        fc.property(geometry4, fc.integer(), (g, seed) => {
          checkGeometry(forced4, g, seed);
        }),
        { numRuns: 60 },
      );
    });

    it('matches the references on 1x1 ... 33x35 images, 1 to 64 channels, 1 to 17 images (F(4,3) forced)', () => {
      LISTED4.forEach((g, i) => {
        checkGeometry(forced4, g, 500 + i);
      });
    });

    it('is what the shipped build runs on images of 12x12 and up, bit for bit', () => {
      SHIPPED_F43.forEach((g, i) => {
        const a = checkGeometry(shipped, g, 600 + i),
          b = checkGeometry(forced4, g, 600 + i);
        assertSameOutputs(a, b, JSON.stringify(g));
      });
    });

    it('writes nothing past conv2dWorkspaceBytes (a guard after the workspace stays intact)', () => {
      for (const g of [
        conv3x3(3, 17, 9, 7, 7),
        conv3x3(5, 64, 64, 8, 8),
        conv3x3(2, 5, 3, 33, 35),
        conv3x3(1, 16, 17, 1, 1),
        conv3x3(14, 3, 17, 19, 13),
      ]) {
        const bytes = forced4.k.conv2dWorkspaceBytes(...dims(g));
        const work = forced4.allocBytes(bytes + 1024);
        const guard = () => new Uint8Array(forced4.memory.buffer, work + bytes, 1024);
        guard().fill(0xa5);
        const rng = mulberry32(3);
        const px = forced4.alloc(g.n * g.c * g.h * g.w, randomFrom(g.n * g.c * g.h * g.w, rng)),
          pw = forced4.alloc(g.oc * g.c * 9, randomFrom(g.oc * g.c * 9, rng)),
          py = forced4.alloc(g.n * g.oc * g.oh * g.ow),
          pv = forced4.alloc(g.oc, randomFrom(g.oc, rng));
        forced4.k.conv2dForward(px, pw, py, ...dims(g), work);
        forced4.k.conv2dForwardAffine(px, pw, py, ...dims(g), work, pv, pv, py, 1);
        forced4.k.conv2dBackwardInput(py, pw, px, ...dims(g), work);
        forced4.k.conv2dBackwardFilter(px, py, pw, ...dims(g), work);
        assert.ok(
          guard().every((b) => b === 0xa5),
          JSON.stringify(g),
        );
      }
    });

    it('gives each image the same bits whatever the batch it is computed in (blocks of several images)', () => {
      // Threads split the batch at any image; small images share blocks with their neighbours.
      for (const [c, oc, hw] of [
        [17, 16, 7],
        [16, 9, 9],
      ]) {
        const g = conv3x3(5, c, oc, hw, hw),
          one = conv3x3(1, c, oc, hw, hw);
        const rng = mulberry32(9);
        const x = randomFrom(g.n * g.c * g.h * g.w, rng),
          w = randomFrom(g.oc * g.c * 9, rng);
        const px = forced4.alloc(x.length, x),
          pw = forced4.alloc(w.length, w);
        const yLen = g.oc * g.h * g.w,
          py = forced4.alloc(g.n * yLen),
          p1 = forced4.alloc(yLen);
        const work = forced4.allocBytes(forced4.k.conv2dWorkspaceBytes(...dims(g)));
        forced4.k.conv2dForward(px, pw, py, ...dims(g), work);
        const all = forced4.read(py, g.n * yLen);
        for (let b = 0; b < g.n; b++) {
          forced4.k.conv2dForward(px + b * g.c * g.h * g.w * 4, pw, p1, ...dims(one), work);
          assert.deepEqual(forced4.read(p1, yLen), all.subarray(b * yLen, (b + 1) * yLen), `${JSON.stringify(g)} image ${b}`);
        }
      }
    });

    filterTests(
      'F(3x3, 4x4)',
      'F(4,3) forced',
      () => forced4,
      () => shipped,
      {
        random: filterGeometry4,
        listed: FILTER_LISTED4,
        shippedShapes: FILTER_SHIPPED_F43,
        chunkShapes: [conv3x3(13, 17, 9, 9, 11), conv3x3(29, 16, 16, 13, 12)],
        seed: 700,
      },
    );
  });
