// A/B of the direct convolution and Winograd (assembly/winograd.ts: F(2x2, 3x3)
// forward; assembly/winograd-filter.ts: F(3x3, 2x2) backward filter) through
// the same kernel exports (conv2dForward, conv2dForwardAffine,
// conv2dBackwardInput, conv2dBackwardFilter), in one process, interleaved.
// The kernels are compiled here with asc twice per build: --use
// WINOGRAD_MODE=0 (direct only) and =2 (Winograd wherever it applies; the
// filter's switch follows it), so both sides run the production code and
// only the dispatch differs.
//
// Each round times a burst of calls (about BURST_MS of work) of A then B, or
// B then A on odd rounds; the report is the median ms per call of each side,
// GFLOPS-equivalent at the direct conv's flop count (2 n oc oh ow c 9), and
// the median of the per-round ratios direct / Winograd (> 1: Winograd wins),
// which cancels most of the drift of a loaded machine.
//
// --f43 pits Winograd F(4x4, 3x3) (assembly/winograd4.ts; --use
// WINOGRAD_MODE=2 WINOGRAD4_MODE=2) against F(2x2, 3x3) (WINOGRAD_MODE=2)
// instead: the columns "direct" then read F(2,3), "Winograd" F(4,3).
//
// --filter43 pits the backward filter's F(3x3, 4x4) (assembly/winograd4-filter.ts;
// --use WINOGRAD_MODE=2 WINOGRAD4_FILTER_MODE=2) against its F(3x3, 2x2)
// (WINOGRAD_MODE=2): the columns read F(3,2) and F(3,4).
//
// Run: npx tsx bench/winograd.bench.ts [--plain | --both] [--rounds N] [--quick | --filter | --f43 | --filter43] [--match S]
// (default: the relaxed-SIMD build, the one init() picks under Node; 15
// rounds; --filter: the backward-filter cases only).
import { enableRelaxedSimd } from '../src/backend/wasm/loader.js';
import { compileVariant, type KernelVariant, put } from './kernelVariant.js';
import { convGeometry, type ConvGeometry } from '../src/backend/backend.js';
import { median } from './stats.js';

const BURST_MS = 30;

type Side = KernelVariant;

function random(n: number, seed: number): Float32Array {
  let x = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 31 - 1;
  });
}

type Op = 'forward' | 'affine' | 'prepared' | 'backward input' | 'backward filter';

/** A closure that runs op once on side s for geometry g, and one that reads its output. */
function setup(s: Side, g: ConvGeometry, op: Op): { run: () => void; out: () => Float32Array } {
  const xLen = g.n * g.c * g.h * g.w,
    wLen = g.oc * g.c * 9,
    yLen = g.n * g.oc * g.oh * g.ow;
  const args = [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow];
  const work = s.heap.alloc(s.k.conv2dWorkspaceBytes(...args));
  const x = put(s, random(xLen, 1)),
    w = put(s, random(wLen, 2)),
    dy = put(s, random(yLen, 3));
  const y = put(s, new Float32Array(yLen)),
    dx = put(s, new Float32Array(xLen)),
    dw = put(s, new Float32Array(wLen));
  const scale = put(s, random(g.oc, 4)),
    shift = put(s, random(g.oc, 5)),
    res = put(s, random(yLen, 6));
  if (op === 'forward') {
    return { run: () => s.k.conv2dForward(x, w, y, ...args, work), out: () => new Float32Array(s.mem.buffer, y, yLen).slice() };
  }
  if (op === 'affine') {
    return {
      run: () => s.k.conv2dForwardAffine(x, w, y, ...args, work, scale, shift, res, 1),
      out: () => new Float32Array(s.mem.buffer, y, yLen).slice(),
    };
  }
  if (op === 'prepared') {
    // The inference plans' call: the filter transformed once, outside the timing.
    const prepared = s.heap.alloc(s.k.conv2dPreparedFilterBytes(...args));
    const path = s.k.conv2dPrepareFilter(w, prepared, ...args, work);
    return {
      run: () => s.k.conv2dForwardAffinePrepared(x, prepared, y, ...args, work, scale, shift, res, 1, path),
      out: () => new Float32Array(s.mem.buffer, y, yLen).slice(),
    };
  }
  if (op === 'backward filter') {
    // One thread: every fixed batch chunk in turn, then their in-order sum (assembly/conv.ts).
    return { run: () => s.k.conv2dBackwardFilter(x, dy, dw, ...args, work), out: () => new Float32Array(s.mem.buffer, dw, wLen).slice() };
  }
  return { run: () => s.k.conv2dBackwardInput(dy, w, dx, ...args, work), out: () => new Float32Array(s.mem.buffer, dx, xLen).slice() };
}

/** ms per call of a burst of `iters` calls. */
function burst(run: () => void, iters: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) run();
  return (performance.now() - t0) / iters;
}

interface Row {
  build: string;
  shape: string;
  op: Op;
  directMs: number;
  winoMs: number;
  /** At the direct conv's flop count, 2 n oc oh ow c 9, for both paths. */
  directGflops: number;
  winoGflops: number;
  ratio: number;
  /** The smallest and largest per-round ratio. */
  range: [number, number];
  maxRelDiff: number;
}

async function abShape(build: string, direct: Side, wino: Side, g: ConvGeometry, op: Op, rounds: number): Promise<Row> {
  const a = setup(direct, g, op),
    b = setup(wino, g, op);
  a.run();
  b.run();
  const ya = a.out(),
    yb = b.out();
  let maxAbs = 0,
    maxDiff = 0;
  for (let i = 0; i < ya.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(ya[i]));
    maxDiff = Math.max(maxDiff, Math.abs(ya[i] - yb[i]));
  }
  // Warm-up and burst size from the direct side's speed.
  burst(a.run, 3);
  burst(b.run, 3);
  const iters = Math.max(1, Math.round(BURST_MS / burst(a.run, 3)));
  const ta: number[] = [],
    tb: number[] = [],
    ratio: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ma: number, mb: number;
    if (r % 2 === 0) {
      ma = burst(a.run, iters);
      mb = burst(b.run, iters);
    } else {
      mb = burst(b.run, iters);
      ma = burst(a.run, iters);
    }
    ta.push(ma);
    tb.push(mb);
    ratio.push(ma / mb);
  }
  const flops = 2 * g.n * g.oc * g.oh * g.ow * g.c * g.kh * g.kw;
  const dm = median(ta),
    wm = median(tb);
  return {
    build,
    shape: `n${g.n} ${g.c}->${g.oc} @${g.h}x${g.w}`,
    op,
    directMs: +dm.toFixed(4),
    winoMs: +wm.toFixed(4),
    directGflops: +(flops / dm / 1e6).toFixed(1),
    winoGflops: +(flops / wm / 1e6).toFixed(1),
    ratio: +median(ratio).toFixed(3),
    range: [+Math.min(...ratio).toFixed(2), +Math.max(...ratio).toFixed(2)],
    maxRelDiff: +(maxDiff / maxAbs).toExponential(1),
  };
}

interface Case {
  g: ConvGeometry;
  ops: Op[];
}

const conv3x3 = (n: number, c: number, oc: number, h: number, w = h) => convGeometry([n, c, h, w], [oc, c, 3, 3], 1, 1);

/**
 * The backward filter (a training-only op): ResNet-32's three stages at
 * batch 64 and 128, then at batch 16 the channel counts and image sizes
 * around its dispatch threshold (assembly/winograd-filter.ts,
 * winogradFilterApplies).
 */
function filterCases(): Case[] {
  const bwf = (g: ConvGeometry): Case => ({ g, ops: ['backward filter'] });
  const resnet = [32, 16, 8].flatMap((hw) => [64, 128].map((n) => bwf(conv3x3(n, 512 / hw, 512 / hw, hw))));
  const channels = [
    [1, 16],
    [2, 16],
    [3, 16],
    [16, 1],
    [16, 2],
    [16, 3],
    [4, 4],
    [4, 8],
    [8, 4],
    [4, 16],
    [16, 4],
    [8, 8],
    [8, 16],
    [16, 8],
  ].map(([c, oc]) => bwf(conv3x3(16, c, oc, 32)));
  const sizes = [
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 4],
    [5, 5],
    [6, 6],
    [7, 7],
    [8, 8],
    [17, 17],
    [1, 32],
    [32, 1],
    [2, 32],
    [3, 32],
  ].map(([h, w]) => bwf(conv3x3(16, 16, 16, h, w)));
  const deep = [2, 3, 4, 5].map((hw) => bwf(conv3x3(16, 64, 64, hw)));
  return [...resnet, ...channels, ...sizes, ...deep];
}

/**
 * F(4,3) against F(2,3): ResNet-32's three stages at batch 64 and 1, every
 * op the forward kernel serves; then forward at batch 16 the image sizes and
 * channel counts around F(4,3)'s threshold (assembly/winograd4.ts,
 * winograd4Applies).
 */
function f43Cases(quick: boolean): Case[] {
  const all: Op[] = ['forward', 'backward input', 'affine', 'prepared'];
  const resnet = [32, 16, 8].flatMap((hw) => [64, 1].map((n) => ({ g: conv3x3(n, 512 / hw, 512 / hw, hw), ops: all })));
  if (quick) return resnet;
  // The 8x8 stage by batch size: where F(4,3)'s half-filled panels stop costing.
  const batches = [2, 3, 4, 8, 16].flatMap((n) => [8, 7].map((hw) => ({ g: conv3x3(n, 64, 64, hw), ops: all })));
  const fwd = (g: ConvGeometry): Case => ({ g, ops: ['forward'] });
  const sizes = [3, 4, 5, 6, 7, 9, 12, 17].map((hw) => fwd(conv3x3(16, 16, 16, hw)));
  const deep = [4, 5, 7].map((hw) => fwd(conv3x3(16, 64, 64, hw)));
  const channels = [
    [8, 8],
    [8, 16],
    [16, 8],
    [128, 128],
  ].map(([c, oc]) => fwd(conv3x3(16, c, oc, 16)));
  return [...resnet, ...batches, ...sizes, ...deep, ...channels];
}

/**
 * The backward filter's F(3,4) against its F(3,2): ResNet-32's three stages
 * at batch 64 (one thread's chunks of a batch of 128 on two threads, and
 * the whole batch of 64 on one) and 1; the 8x8 stage also at 128, 24 and 12
 * (chunks of 10 to 11, 2 and 1 images: assembly/conv.ts's 12 chunks); then
 * at batch 16 the image sizes and channel counts around F(3,4)'s threshold
 * (assembly/winograd4-filter.ts, winograd4FilterApplies).
 */
function filter43Cases(quick: boolean): Case[] {
  const bwf = (g: ConvGeometry): Case => ({ g, ops: ['backward filter'] });
  const resnet = [32, 16, 8].flatMap((hw) => [64, 1].map((n) => bwf(conv3x3(n, 512 / hw, 512 / hw, hw))));
  const chunked = [128, 48, 36, 24, 12].flatMap((n) => [8, 7].map((hw) => bwf(conv3x3(n, 64, 64, hw))));
  if (quick) return [...resnet, ...chunked];
  const sizes = [4, 5, 6, 7, 9, 11, 12, 13, 17].map((hw) => bwf(conv3x3(16, 16, 16, hw)));
  const deep = [4, 7, 12].map((hw) => bwf(conv3x3(16, 64, 64, hw)));
  const channels = [
    [4, 4],
    [4, 16],
    [16, 4],
    [8, 8],
    [3, 16],
    [16, 3],
  ].map(([c, oc]) => bwf(conv3x3(16, c, oc, 32)));
  return [...resnet, ...chunked, ...sizes, ...deep, ...channels];
}

/**
 * ResNet-32's three stages at batch 64 (training) and 1 (inference), every
 * op (the backward filter at batch 64 only); then, forward only at batch 16,
 * the channel counts and image sizes around the dispatch threshold
 * (assembly/winograd.ts, winogradApplies; the backward input dispatches on
 * the channel-swapped shape, so the forward covers it).
 */
function cases(quick: boolean, filter: boolean, f43: boolean, filter43: boolean): Case[] {
  if (filter) return filterCases();
  if (f43) return f43Cases(quick);
  if (filter43) return filter43Cases(quick);
  const all: Op[] = ['forward', 'backward input', 'affine'];
  const resnet = [32, 16, 8].flatMap((hw) =>
    [64, 1].map((n) => ({
      g: conv3x3(n, 512 / hw, 512 / hw, hw),
      ops: n > 1 ? [...all, 'backward filter' as Op] : all,
    })),
  );
  if (quick) return resnet;
  const fwd = (g: ConvGeometry): Case => ({ g, ops: ['forward'] });
  const channels = [
    [3, 16],
    [16, 3],
    [1, 16],
    [16, 1],
    [4, 4],
    [4, 8],
    [8, 4],
    [4, 16],
    [16, 4],
    [8, 8],
    [8, 16],
    [16, 8],
  ].map(([c, oc]) => fwd(conv3x3(16, c, oc, 32)));
  const sizes = [
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 4],
    [5, 5],
    [7, 7],
    [17, 17],
    [1, 32],
    [32, 1],
    [2, 32],
    [3, 32],
  ].map(([h, w]) => fwd(conv3x3(16, 16, 16, h, w)));
  return [...resnet, ...channels, ...sizes, fwd(conv3x3(16, 64, 64, 2)), fwd(conv3x3(16, 64, 64, 4))];
}

const argv = process.argv.slice(2);
const roundsAt = argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 15;
const quick = argv.includes('--quick');
const filterOnly = argv.includes('--filter');
const f43 = argv.includes('--f43');
const filter43 = argv.includes('--filter43');
// --match S: only the shapes whose label (e.g. "n1 64->64 @8x8") contains S.
const matchAt = argv.indexOf('--match');
const match = matchAt >= 0 ? argv[matchAt + 1] : '';
const targets = argv.includes('--plain') ? ['simd'] : argv.includes('--both') ? ['relaxed', 'simd'] : ['relaxed'];
if (targets.includes('relaxed') && !(await enableRelaxedSimd())) throw new Error('relaxed SIMD is not available');
const rows: Row[] = [];
for (const target of targets) {
  const direct = await compileVariant(target, [f43 || filter43 ? 'WINOGRAD_MODE=2' : 'WINOGRAD_MODE=0']);
  const wino = await compileVariant(target, [
    'WINOGRAD_MODE=2',
    ...(f43 ? ['WINOGRAD4_MODE=2'] : []),
    ...(filter43 ? ['WINOGRAD4_FILTER_MODE=2'] : []),
  ]);
  for (const { g, ops } of cases(quick, filterOnly, f43, filter43)) {
    if (!`n${g.n} ${g.c}->${g.oc} @${g.h}x${g.w}`.includes(match)) continue;
    for (const op of ops) {
      const row = await abShape(target, direct, wino, g, op, rounds);
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
}
const [nameA, nameB] = f43 ? ['F(2,3)', 'F(4,3)'] : filter43 ? ['F(3,2)', 'F(3,4)'] : ['direct', 'Winograd'];
console.log(
  `| build | shape | op | ${nameA} ms | ${nameB} ms | ${nameA} GFLOPS | ${nameB} GFLOPS (equiv.) | ${nameA} / ${nameB} | range |`,
);
console.log('|---|---|---|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(
    `| ${r.build} | ${r.shape} | ${r.op} | ${r.directMs} | ${r.winoMs} | ${r.directGflops} | ${r.winoGflops} | ${r.ratio.toFixed(2)} | ${r.range[0].toFixed(2)}-${r.range[1].toFixed(2)} |`,
  );
}
