// The backends the conformance suite runs on: every backend that can start
// here. WebGPU joins this list when its adapter is available: on machines
// without a GPU, through Mesa's lavapipe (scripts/setup-lavapipe.sh), found
// via VK_ADD_DRIVER_FILES or in .lavapipe/. Under CI it must be available.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../src/backend/backend.js';
import { init } from '../../src/init.js';
import { boundsCheckRequested, withBoundsChecks } from '../../src/backend/boundsCheck.js';

export interface NamedBackend {
  name: string;
  backend: Backend;
}

export async function conformanceBackends(): Promise<NamedBackend[]> {
  const list: NamedBackend[] = [];
  list.push({ name: 'reference', backend: await init({ backend: 'reference' }) });
  list.push({ name: 'wasm', backend: await init({ backend: 'wasm' }) });
  const gpu = await webgpuBackend();
  if (gpu) list.push({ name: 'webgpu', backend: gpu });
  return list;
}

const lavapipeIcd = fileURLToPath(new URL('../../.lavapipe/lvp_icd.json', import.meta.url));
let webgpu: Promise<Backend | null> | null = null;

/**
 * The WebGPU backend (one device per test process), or null with a message
 * when no adapter is found; under CI (process.env.CI) a missing adapter is
 * an error, so that the WebGPU suite cannot be skipped silently.
 */
export function webgpuBackend(): Promise<Backend | null> {
  webgpu ??= (async () => {
    if (!process.env.VK_ADD_DRIVER_FILES && existsSync(lavapipeIcd)) process.env.VK_ADD_DRIVER_FILES = lavapipeIcd;
    try {
      const { WebGpuBackend } = await import('../../src/backend/webgpu/webgpuBackend.js');
      const b = await WebGpuBackend.create();
      return boundsCheckRequested() ? withBoundsChecks(b) : b;
    } catch (e) {
      if (process.env.CI) throw new Error(`the WebGPU backend must run under CI: ${(e as Error).message}`);
      process.stderr.write(`# skipping the WebGPU backend: ${(e as Error).message}\n`);
      return null;
    }
  })();
  return webgpu;
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
