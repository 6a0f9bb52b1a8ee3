// Reference elementwise kernels: plain loops, computed in the arrays'
// precision (JS numbers, rounded once when stored). The WASM kernels of
// assembly/elementwise.ts are tested against these; op codes there are the
// indices into UNARY_OPS / BINARY_OPS.
import type { FArray } from './types.js';
import type { BinaryOp, UnaryOp } from '../../backend.js';

export const UNARY_OPS = ['relu', 'neg', 'exp', 'log', 'sqrt', 'abs'] as const satisfies readonly UnaryOp[];
export const BINARY_OPS = ['add', 'sub', 'mul', 'div'] as const satisfies readonly BinaryOp[];

const unaryFns: Record<UnaryOp, (v: number) => number> = {
  relu: (v) => Math.max(v, 0), // NaN stays NaN, as in PyTorch
  neg: (v) => -v,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
};

export const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

export function fillRef(y: FArray, value: number, n: number): void {
  y.fill(value, 0, n);
}

export function copyRef(x: FArray, y: FArray, n: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i];
}

export function unaryRef(op: UnaryOp, x: FArray, y: FArray, n: number): void {
  const f = unaryFns[op];
  if (!f) throw new Error(`unknown unary op ${op}`);
  for (let i = 0; i < n; i++) y[i] = f(x[i]);
}

export function binaryRef(op: BinaryOp, a: FArray, b: FArray, y: FArray, n: number): void {
  const f = binaryFns[op];
  if (!f) throw new Error(`unknown binary op ${op}`);
  for (let i = 0; i < n; i++) y[i] = f(a[i], b[i]);
}

/** y = alpha * x + beta * y; beta = 0 never reads y. */
export function axpbyRef(alpha: number, x: FArray, beta: number, y: FArray, n: number): void {
  for (let i = 0; i < n; i++) y[i] = beta === 0 ? alpha * x[i] : alpha * x[i] + beta * y[i];
}

export function reluBackwardRef(x: FArray, dy: FArray, dx: FArray, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}
