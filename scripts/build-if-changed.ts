// `npm run build`: the three build steps (kernels, library, web page), each run
// only when its inputs changed since it last built, so that `npm test` (whose
// pretest is this) after a change to the training code rebuilds the library
// and not the kernels, and the web page only when a file its bundle holds
// changed.
//
// Each step records, after it succeeds, the SHA-256 of every input file in
// dist/.build/<step>.json; the next build compares them with the files on disk
// (added and removed files count) and checks that its outputs exist. A clean
// clone has no records, so every step runs. The web page's inputs include the
// exact source files esbuild bundled (scripts/build-web.mjs writes them to
// dist/.build/web-bundle-inputs.json from its metafile): an engine file the
// page does not bundle (the CLI's trainer, say) does not rebuild it.
//
// Run: npm run build [-- --force] (--force: every step, records ignored).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const records = join(root, 'dist', '.build');

export interface Step {
  /** The npm script that builds it. */
  script: string;
  /** Files and folders (every file under them) it reads. */
  inputs: string[];
  /** Files it writes: a missing one forces the step. */
  outputs: string[];
  /** A JSON list of more input files, written by the step itself. */
  moreInputs?: string;
}

const WASM = ['wasmtail.wasm', 'wasmtail-relaxed.wasm', 'wasmtail-threads.wasm', 'wasmtail-relaxed-threads.wasm'].map((f) => `dist/${f}`);

// In order: the web page copies the kernels.
export const STEPS: Record<string, Step> = {
  wasm: { script: 'build:wasm', inputs: ['assembly', 'package-lock.json'], outputs: WASM },
  lib: {
    script: 'build:lib',
    inputs: ['src', 'tsup.config.ts', 'tsconfig.json', 'package.json', 'package-lock.json'],
    outputs: ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/infer.js', 'dist/infer.cjs', 'dist/infer.d.ts', 'dist/cli.js'],
  },
  web: {
    script: 'build:web',
    inputs: [
      'web',
      'scripts/build-web.mjs',
      'dist/wasmtail.wasm',
      'dist/wasmtail-threads.wasm',
      'test/embed/fixtures/torch-resnet32-fashion.safetensors',
      'data/fashion-mnist-lt',
      'package-lock.json',
    ],
    outputs: ['dist/web/index.html', 'dist/web/app.js', 'dist/web/train-worker.js', 'dist/web/infer-worker.js'],
    moreInputs: 'dist/.build/web-bundle-inputs.json',
  },
};

function filesUnder(path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true }).flatMap((e) => filesUnder(join(path, e.name)));
}

/** SHA-256 of every input file of the step, by path from the repository root. */
export function inputHashes(step: Step): Record<string, string> {
  const listed =
    step.moreInputs && existsSync(join(root, step.moreInputs))
      ? (JSON.parse(readFileSync(join(root, step.moreInputs), 'utf8')) as string[])
      : [];
  const files = [...new Set([...step.inputs.flatMap(filesUnder), ...listed])].sort();
  return Object.fromEntries(
    files.map((f) => {
      const full = join(root, f);
      return [relative(root, full), existsSync(full) ? createHash('sha256').update(readFileSync(full)).digest('hex') : 'missing'];
    }),
  );
}

/** The input hashes recorded by the step's last build, or why there are none. */
function readRecord(name: string): Record<string, string> | string {
  const recordPath = join(records, `${name}.json`);
  if (!existsSync(recordPath)) return 'no record of a previous build';
  try {
    return JSON.parse(readFileSync(recordPath, 'utf8'));
  } catch {
    return `${relative(root, recordPath)} is unreadable`;
  }
}

/** Why the step must run (an output missing, an input added, removed or changed), or null when nothing changed. */
export function staleBecause(step: Step, recorded: Record<string, string> | string, hashes: Record<string, string>): string | null {
  const missing = step.outputs.find((f) => !existsSync(join(root, f)));
  if (missing) return `${missing} is missing`;
  if (typeof recorded === 'string') return recorded;
  const changed = Object.keys({ ...recorded, ...hashes }).filter((f) => recorded[f] !== hashes[f]);
  return changed.length === 0
    ? null
    : `${changed.length} input(s) changed (${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', ...' : ''})`;
}

function buildChanged(force: boolean): void {
  mkdirSync(records, { recursive: true });
  for (const [name, step] of Object.entries(STEPS)) {
    const before = inputHashes(step);
    const why = force ? '--force' : staleBecause(step, readRecord(name), before);
    if (why === null) {
      console.log(`build ${name}: up to date`);
      continue;
    }
    console.log(`build ${name}: ${why}`);
    // Gone while the step runs: one stopped half-way leaves outputs that no record vouches for.
    rmSync(join(records, `${name}.json`), { force: true });
    const r = spawnSync('npm', ['run', '--silent', step.script], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
    writeRecord(name, step, before);
  }
}

function writeRecord(name: string, step: Step, before: Record<string, string>): void {
  // The files as they were when the step started (one edited during the build stays stale), and the
  // files of the step's own fresh list of bundled inputs. Written whole, then renamed.
  const after = inputHashes(step);
  const record = Object.fromEntries(Object.entries(after).map(([f, hash]) => [f, before[f] ?? hash]));
  const recordPath = join(records, `${name}.json`);
  writeFileSync(`${recordPath}.tmp`, JSON.stringify(record, null, 1));
  renameSync(`${recordPath}.tmp`, recordPath);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) buildChanged(process.argv.includes('--force'));
