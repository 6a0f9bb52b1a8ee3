// Tiled GEMM (reference: ../../reference/kernels/gemm.ts) and the three
// convolutions as implicit GEMMs (reference: conv.ts) over one template:
// a 16x16 workgroup computes a BM x 64 tile of C, each invocation a
// (BM / 16) x 4 block held in registers, staging BM x 16 and 16 x 64 slices
// of A and B in workgroup memory. BM is 16, 32 or 64, the smallest that
// covers M: a ResNet's 16-channel layers would waste 3/4 of a 64-row tile.
// The variants differ only in how they load A (m, k), load B (k, n) and
// store C (m, n): convolutions gather their im2col operand on the fly, so
// no column buffer is ever written. workgroup_id.z splits K (split-K): each
// slice writes its partial tile to scratch and `splitKSum` adds them.
import { type WgslKernel, elementwise, f32, kernel, u32 } from './common.js';

/** Columns of C per workgroup; rows are one of TILE_ROWS. */
export const TILE = 64;
export const TILE_ROWS = [16, 32, 64] as const;
const BK = 16;

/** Every variant's uniforms: the product's shape and K slice, the convolution geometry (zeros for a plain GEMM), alpha and beta. */
export const GEMM_UNIFORMS = [
  ...u32('M', 'N', 'K', 'kChunk', 'nb', 'c', 'h', 'w', 'oc', 'kh', 'kw', 'stride', 'pad', 'oh', 'ow'),
  ...f32('alpha', 'beta'),
];

interface Variant {
  buffers: string[];
  /** true when consecutive k are adjacent in memory for A (tile loads walk k fastest). */
  aKFast: boolean;
  /** true when consecutive n are adjacent in memory for B. */
  bNFast: boolean;
  loadA: string; // body of fn loadA(m: u32, k: u32) -> f32, called with m < M, k < K
  loadB: string; // body of fn loadB(k: u32, n: u32) -> f32, called with k < K, n < N
  store: string; // body of fn store(m: u32, n: u32, v: f32, z: u32)
}

const GEMM_STORE = `let i = m * p.N + n;
  if (p.beta == 0.0) { c[i] = p.alpha * v; } else { c[i] = p.alpha * v + p.beta * c[i]; }`;

// The input pixel read by output position col = (b, oy, ox) through kernel tap k = (ci, ky, kx); 0 in the padding.
const GATHER_X = `fn gatherX(k: u32, col: u32) -> f32 {
  let taps = p.kh * p.kw;
  let ci = k / taps;
  let ky = (k % taps) / p.kw;
  let kx = k % p.kw;
  let ohw = p.oh * p.ow;
  let b = col / ohw;
  let q = col % ohw;
  let iy = i32((q / p.ow) * p.stride + ky) - i32(p.pad);
  let ix = i32((q % p.ow) * p.stride + kx) - i32(p.pad);
  if (iy < 0 || ix < 0 || iy >= i32(p.h) || ix >= i32(p.w)) { return 0.0; }
  return x[((b * p.c + ci) * p.h + u32(iy)) * p.w + u32(ix)];
}
`;

const VARIANTS: Record<string, Variant & { extra?: string }> = {
  gemm_nn: {
    buffers: ['a', 'b', 'c'],
    aKFast: true,
    bNFast: true,
    loadA: 'return a[m * p.K + k];',
    loadB: 'return b[k * p.N + n];',
    store: GEMM_STORE,
  },
  gemm_tn: {
    buffers: ['a', 'b', 'c'],
    aKFast: false,
    bNFast: true,
    loadA: 'return a[k * p.M + m];',
    loadB: 'return b[k * p.N + n];',
    store: GEMM_STORE,
  },
  gemm_nt: {
    buffers: ['a', 'b', 'c'],
    aKFast: true,
    bNFast: false,
    loadA: 'return a[m * p.K + k];',
    loadB: 'return b[n * p.K + k];',
    store: GEMM_STORE,
  },
  gemm_tt: {
    buffers: ['a', 'b', 'c'],
    aKFast: false,
    bNFast: false,
    loadA: 'return a[k * p.M + m];',
    loadB: 'return b[n * p.K + k];',
    store: GEMM_STORE,
  },
  // y[b, o, oy, ox] = sum_k w[o, k] * im2col(x)[k, (b, oy, ox)]: M = oc, N = nb * oh * ow, K = c * kh * kw.
  conv2dForward: {
    buffers: ['x', 'w', 'y'],
    aKFast: true,
    bNFast: true,
    extra: GATHER_X,
    loadA: 'return w[m * p.K + k];',
    loadB: 'return gatherX(k, n);',
    store: 'let ohw = p.oh * p.ow; y[((n / ohw) * p.oc + m) * ohw + n % ohw] = v;',
  },
  // dx[b, ci, iy, ix] = sum over (o, ky, kx) of w[o, ci, ky, kx] * dy[b, o, oy, ox] with
  // iy = oy * stride - pad + ky: M = c, N = nb * h * w, K = oc * kh * kw.
  conv2dBackwardInput: {
    buffers: ['dy', 'w', 'dx'],
    aKFast: true,
    bNFast: true,
    loadA: 'let taps = p.kh * p.kw; return w[((k / taps) * p.c + m) * taps + k % taps];',
    loadB: `let taps = p.kh * p.kw;
  let o = k / taps;
  let ky = (k % taps) / p.kw;
  let kx = k % p.kw;
  let hw = p.h * p.w;
  let b = n / hw;
  let ty = i32((n % hw) / p.w + p.pad) - i32(ky);
  let tx = i32(n % p.w + p.pad) - i32(kx);
  if (ty < 0 || tx < 0) { return 0.0; }
  let oy = u32(ty) / p.stride;
  let ox = u32(tx) / p.stride;
  if (u32(ty) % p.stride != 0u || u32(tx) % p.stride != 0u || oy >= p.oh || ox >= p.ow) { return 0.0; }
  return dy[((b * p.oc + o) * p.oh + oy) * p.ow + ox];`,
    store: 'let hw = p.h * p.w; dx[((n / hw) * p.c + m) * hw + n % hw] = v;',
  },
  // dw[o, k] = sum over positions col of dy[o, col] * im2col(x)[k, col]: M = oc, N = c * kh * kw, K = nb * oh * ow.
  conv2dBackwardFilter: {
    buffers: ['x', 'dy', 'dw'],
    aKFast: true,
    bNFast: false,
    extra: GATHER_X,
    loadA: 'let ohw = p.oh * p.ow; return dy[((k / ohw) * p.oc + m) * ohw + k % ohw];',
    loadB: 'return gatherX(n, k);',
    store: 'dw[z * p.M * p.N + m * p.N + n] = v;',
  },
};

function gemmKernel(v: Variant & { extra?: string }, bm: number): WgslKernel {
  // Tile loads per K step: bm x 16 elements of A (bm / 16 per invocation), 16 x 64 of B (4 per invocation).
  const tm = bm / 16;
  const aIndex = v.aKFast ? 'let mm = e / BK; let kk = e % BK;' : 'let kk = e / BM; let mm = e % BM;';
  const bIndex = v.bNFast ? 'let kk = e / TILE; let nn = e % TILE;' : 'let nn = e / BK; let kk = e % BK;';
  return kernel(
    GEMM_UNIFORMS,
    v.buffers,
    `const TILE = ${TILE}u;
const BM = ${bm}u;
const BK = ${BK}u;
var<workgroup> As: array<f32, ${bm * BK}>;
var<workgroup> Bs: array<f32, ${TILE * BK}>;
${v.extra ?? ''}
fn loadA(m: u32, k: u32) -> f32 { ${v.loadA} }
fn loadB(k: u32, n: u32) -> f32 { ${v.loadB} }
fn store(m: u32, n: u32, v: f32, z: u32) { ${v.store} }

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * BM;
  let n0 = wid.x * TILE;
  let kBegin = wid.z * p.kChunk;
  let kEnd = min(p.K, kBegin + p.kChunk);
  var acc: array<vec4<f32>, ${tm}>;
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    for (var r = 0u; r < ${tm}u; r++) {
      let e = lid + r * 256u;
      ${aIndex}
      let m = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (m < p.M && k < kEnd) { v = loadA(m, k); }
      As[kk * BM + mm] = v;
    }
    for (var r = 0u; r < 4u; r++) {
      let e = lid + r * 256u;
      {
        ${bIndex}
        let n = n0 + nn;
        let k = k0 + kk;
        var v = 0.0;
        if (n < p.N && k < kEnd) { v = loadB(k, n); }
        Bs[kk * TILE + nn] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let ar = kk * BM + lid3.y * ${tm}u;
      let br = kk * TILE + lid3.x * 4u;
      let bv = vec4<f32>(Bs[br], Bs[br + 1u], Bs[br + 2u], Bs[br + 3u]);
${Array.from({ length: tm }, (_, i) => `      acc[${i}] = fma(vec4<f32>(As[ar + ${i}u]), bv, acc[${i}]);`).join('\n')}
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${tm}u; i++) {
    let m = m0 + lid3.y * ${tm}u + i;
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid3.x * 4u + j;
      if (m < p.M && n < p.N) { store(m, n, acc[i][j], wid.z); }
    }
  }
}`,
  );
}

export const GEMM_KERNELS: Record<string, WgslKernel> = {
  ...Object.fromEntries(Object.entries(VARIANTS).flatMap(([name, v]) => TILE_ROWS.map((bm) => [`${name}_m${bm}`, gemmKernel(v, bm)]))),
  // y[i] = sum over the `splits` partial results of split-K.
  splitKSum: elementwise(
    ['splits'],
    [],
    ['partial', 'y'],
    `
  var s = 0.0;
  for (var z = 0u; z < p.splits; z++) { s += partial[z * p.n + i]; }
  y[i] = s;`,
  ),
};
