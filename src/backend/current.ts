import type { Backend } from './backend.js';

let active: Backend | null = null;

/** The backend every op runs on; set by `init()`. */
export function backend(): Backend {
  if (!active) throw new Error('wasmtail: not initialised: call `await wt.init()` before creating tensors');
  return active;
}

export function setBackend(b: Backend): void {
  active = b;
}

export function hasBackend(): boolean {
  return active !== null;
}
