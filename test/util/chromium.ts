// Debian's Chromium driven by playwright-core, as the browser tests use it:
// where it is, the flags that keep it off the (closed) network and runnable
// as root, and why it cannot run here (null when it can).
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.WASMTAIL_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

type Playwright = typeof import('playwright-core');
let loaded: Playwright | null = null;
try {
  loaded = await import('playwright-core');
} catch {
  /* reported by chromiumMissing */
}
export const playwright = loaded;

/**
 * Why the browser tests of `suite` cannot run, or null. Under CI a missing
 * browser or driver is an error (.ci/run installs both), not a skip.
 */
export function chromiumMissing(suite: string): string | null {
  const missing = !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`
    : !playwright
      ? 'playwright-core is not installed (npm ci)'
      : null;
  if (missing && process.env.CI) throw new Error(`${suite}: ${missing}; .ci/run installs both`);
  return missing;
}
