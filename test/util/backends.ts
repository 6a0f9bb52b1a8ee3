// The backends the conformance suite runs on: every backend that can start
// here. WebGPU joins this list when its adapter is available.
import type { Backend } from '../../src/backend/backend.js';
import { init } from '../../src/init.js';

export interface NamedBackend {
  name: string;
  backend: Backend;
}

export async function conformanceBackends(): Promise<NamedBackend[]> {
  const list: NamedBackend[] = [];
  list.push({ name: 'reference', backend: await init({ backend: 'reference' }) });
  list.push({ name: 'wasm', backend: await init({ backend: 'wasm' }) });
  return list;
}

/** Deterministic values from a seed (mulberry32), so fast-check shrinks shapes, not noise. */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}
