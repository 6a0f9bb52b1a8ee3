import type { Tensor } from '../tensor.js';

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function assertTensor(x: unknown, op: string, name: string): asserts x is Tensor {
  if (!x || (x as { isTensor?: boolean }).isTensor !== true) {
    throw new TypeError(`wasmtail: ${op}(): ${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  }
}

export function assertRank(x: Tensor, rank: number, op: string, name: string, layout = ''): void {
  if (x.ndim !== rank) {
    throw new Error(
      `wasmtail: ${op}(): ${name} must have ${rank} dimensions${layout ? ` (${layout})` : ''}, got shape ${shapeStr(x.shape)}`,
    );
  }
}

export function assertShape(x: Tensor, shape: readonly number[], op: string, name: string): void {
  if (x.ndim !== shape.length || x.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`wasmtail: ${op}(): ${name} has shape ${shapeStr(x.shape)}, expected ${shapeStr(shape)}`);
  }
}

/** Validates integer class labels for a batch of n over c classes. */
export function toLabels(labels: Int32Array | ArrayLike<number>, n: number, c: number, op: string): Int32Array {
  const out = labels instanceof Int32Array ? labels : Int32Array.from(labels as ArrayLike<number>);
  if (out.length !== n) throw new Error(`wasmtail: ${op}(): ${out.length} labels for a batch of ${n}`);
  for (let i = 0; i < n; i++) {
    const v = (labels as ArrayLike<number>)[i];
    if (!Number.isInteger(v) || v < 0 || v >= c) {
      throw new Error(`wasmtail: ${op}(): label ${v} at index ${i} is out of range [0, ${c})`);
    }
  }
  return out;
}
