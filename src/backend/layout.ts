// How a primitive walks a broadcast operand: strides in elements, 0 along the
// dims it is broadcast over, so that no backend copies an operand to read it
// at another shape. Shared by the backends (which pass strides to their
// kernels) and the ops (which compute them from shapes).

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * The strides with which an operand of `shape` is read at `outShape` under
 * NumPy broadcasting: shapes are right-aligned; a missing or size-1 dim of
 * the operand gets stride 0.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((_, d) => (d < lead || shape[d - lead] === 1 ? 0 : own[d - lead]));
}

/** A walk over an output shape with one stride list per operand. */
export interface StridedLayout {
  shape: number[];
  strides: number[][];
}

/**
 * The same walk in fewer, longer loops: size-1 dims are dropped and a dim is
 * merged into the next one wherever every operand steps through both as one
 * (stride[d] = stride[d + 1] * shape[d + 1], broadcast pairs included).
 * Always at least rank 1, so that kernels have an innermost loop.
 */
export function collapseLayout(shape: readonly number[], strides: readonly (readonly number[])[]): StridedLayout {
  const out: StridedLayout = { shape: [], strides: strides.map(() => []) };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && strides.every((s, k) => out.strides[k][last] === s[d] * shape[d])) {
      out.shape[last] *= shape[d];
      strides.forEach((s, k) => {
        out.strides[k][last] = s[d];
      });
      continue;
    }
    out.shape.push(shape[d]);
    strides.forEach((s, k) => {
      out.strides[k].push(s[d]);
    });
  }
  if (out.shape.length === 0) {
    out.shape.push(1);
    for (const s of out.strides) s.push(0);
  }
  return out;
}
