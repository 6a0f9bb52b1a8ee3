// Reductions and broadcasting (references: ../../reference/kernels/{reduce,pool,broadcast}.ts).
// broadcastTo and the strided binaries take walks of rank <= 8 (layout.ts).
import type { BinaryOp } from '../../backend.js';
import { FLAT_MAIN, WG, WORKGROUP_SUM, type WgslKernel, elementwise, kernel, u32 } from './common.js';

export const MAX_RANK = 8;

// A strided walk of rank <= 8: the output's shape and up to two operands'
// strides (0 along broadcast dims), each as two vec4 rows.
export const WALK_UNIFORMS = [
  ...u32('rank', 'total'),
  ...['shape', 'sa', 'sb'].map((name) => ({ name, type: 'u32' as const, count: MAX_RANK })),
];

/** Offsets of output element i in operands a and b (let ai, bi). */
const WALK_OFFSETS = `
  var rest = i;
  var ai = 0u;
  var bi = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    let k = rest % size;
    ai += k * p.sa[d / 4][d % 4];
    bi += k * p.sb[d / 4][d % 4];
    rest = rest / size;
  }`;

const BINARY: Record<BinaryOp, string> = { add: 'a[ai] + b[bi]', sub: 'a[ai] - b[bi]', mul: 'a[ai] * b[bi]', div: 'a[ai] / b[bi]' };

export const REDUCE_KERNELS: Record<string, WgslKernel> = {
  // The sum of a whole array (reduceAxis with outer = inner = 1): one workgroup, strided partial sums, then a tree.
  sumAll: kernel(
    u32('n'),
    ['x', 'y'],
    `${WORKGROUP_SUM}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.n; i += ${WG}u) { s += x[i]; }
  let t = workgroupSum(s, lid);
  if (lid == 0u) { y[0] = t; }
}`,
  ),
  // One invocation per output element (o, i) of x [outer, axis, inner]: n = outer * inner.
  reduceAxis_sum: elementwise(
    ['axis', 'inner'],
    [],
    ['x', 'y'],
    `
  let base = (i / p.inner) * p.axis * p.inner + i % p.inner;
  var s = 0.0;
  for (var k = 0u; k < p.axis; k++) { s += x[base + k * p.inner]; }
  y[i] = s;`,
  ),
  // Starts at -Infinity, built from a uniform at run time (a constant -inf or
  // NaN is not valid WGSL). NaN is found by its bits: WGSL lets a compiler
  // assume no NaN, so `v != v` may fold to false (lavapipe's does); once met,
  // the result is NaN, as in PyTorch.
  reduceAxis_max: elementwise(
    ['axis', 'inner'],
    [],
    ['x', 'y'],
    `
  let base = (i / p.inner) * p.axis * p.inner + i % p.inner;
  var m = bitcast<f32>(0xff800000u | (p.axis & 0u));
  var nan = false;
  for (var k = 0u; k < p.axis; k++) {
    let v = x[base + k * p.inner];
    let bits = bitcast<u32>(v);
    if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0u) { nan = true; }
    else if (v > m) { m = v; }
  }
  y[i] = select(m, bitcast<f32>(0x7fc00000u | (p.axis & 0u)), nan);`,
  ),
  globalAvgPoolForward: elementwise(
    ['hw'],
    [],
    ['x', 'y'],
    `
  var s = 0.0;
  for (var k = 0u; k < p.hw; k++) { s += x[i * p.hw + k]; }
  y[i] = s / f32(p.hw);`,
  ),
  // y = x read at the walk's strides sa.
  broadcastTo: kernel(
    WALK_UNIFORMS,
    ['x', 'y'],
    `${FLAT_MAIN}
  if (i >= p.total) { return; }${WALK_OFFSETS}
  y[i] = x[ai];
}`,
  ),
  ...Object.fromEntries(
    Object.entries(BINARY).map(([op, e]) => [
      `binaryStrided_${op}`,
      kernel(
        WALK_UNIFORMS,
        ['a', 'b', 'y'],
        `${FLAT_MAIN}
  if (i >= p.total) { return; }${WALK_OFFSETS}
  y[i] = ${e};
}`,
      ),
    ]),
  ),
};
