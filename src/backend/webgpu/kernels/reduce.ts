// Reductions and broadcasting (references: ../../reference/kernels/{reduce,pool,broadcast}.ts).
// broadcastTo / sumTo take shapes of rank <= 8 as two vec4 rows per array.
import { FLAT_MAIN, WG, WORKGROUP_SUM, buffers, elementwise, paramsStruct } from './common.js';

export const MAX_RANK = 8;

const SHAPES = `struct P { rank: u32, total: u32, nRed: u32, nRedDims: u32,
  shape: array<vec4<u32>, 2>, stride: array<vec4<u32>, 2>, redSize: array<vec4<u32>, 2>, redStride: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> p: P;
`;

export const REDUCE_KERNELS: Record<string, string> = {
  // One workgroup: strided partial sums, then a tree.
  sum: `${paramsStruct(['n'])}${buffers(['x', 'y'])}${WORKGROUP_SUM}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.n; i += ${WG}u) { s += x[i]; }
  let t = workgroupSum(s, lid);
  if (lid == 0u) { y[0] = t; }
}`,
  // One invocation per column.
  sumRows: elementwise(['rows'], [], ['x', 'y'], `
  var s = 0.0;
  for (var r = 0u; r < p.rows; r++) { s += x[r * p.n + i]; }
  y[i] = s;`),
  globalAvgPoolForward: elementwise(['hw'], [], ['x', 'y'], `
  var s = 0.0;
  for (var k = 0u; k < p.hw; k++) { s += x[i * p.hw + k]; }
  y[i] = s / f32(p.hw);`),
  // y (shape) = x expanded: stride holds x's strides, 0 along broadcast dims.
  broadcastTo: `${SHAPES}${buffers(['x', 'y'])}${FLAT_MAIN}
  if (i >= p.total) { return; }
  var rest = i;
  var xi = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    xi += (rest % size) * p.stride[d / 4][d % 4];
    rest = rest / size;
  }
  y[i] = x[xi];
}`,
  // One invocation per y element (shape = x's small shape, stride = the big
  // tensor's strides): sums the nRed elements over the broadcast dims.
  sumTo: `${SHAPES}${buffers(['x', 'y'])}${FLAT_MAIN}
  if (i >= p.total) { return; }
  var rest = i;
  var base = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    base += (rest % size) * p.stride[d / 4][d % 4];
    rest = rest / size;
  }
  var s = 0.0;
  for (var r = 0u; r < p.nRed; r++) {
    var rr = r;
    var off = base;
    for (var k = i32(p.nRedDims) - 1; k >= 0; k--) {
      let size = p.redSize[k / 4][k % 4];
      off += (rr % size) * p.redStride[k / 4][k % 4];
      rr = rr / size;
    }
    s += x[off];
  }
  y[i] = s;
}`,
};
