// /usr/bin/python3 with Pillow (Debian's python3-pil) for reference images; tests skip without it, except under CI.
import { spawnSync } from 'node:child_process';

const candidates = [process.env.WASMTAIL_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[];
const found = candidates.find((p) => spawnSync(p, ['-c', 'import PIL, numpy'], { stdio: 'ignore' }).status === 0);
if (!found && process.env.CI === 'true')
  throw new Error(`CI: no python3 with Pillow and numpy among ${candidates.join(', ')} (Debian python3-pil)`);

/** The python3 to run, or undefined. */
export const pillowPython: string | undefined = found;
/** `skip` for node:test: false, or why the test is skipped. */
export const skipWithoutPillow: false | string = found ? false : `no python3 with Pillow and numpy among ${candidates.join(', ')}`;

/** Runs a Python script (stdin) with arguments; throws with its stderr when it fails. */
export function runPython(script: string, ...args: string[]): string {
  const r = spawnSync(found!, ['-', ...args], { input: script, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}
