// The WASM kernel table (src/backend/wasm/kernels.ts) against the kernels'
// own signatures: asc compiles assembly/ with --bindings, whose .d.ts names
// every export's parameters in order with their AssemblyScript types; each
// table entry must match it name for name (usize <-> ptr, i32, f32), so a
// reordered or renamed parameter fails here, not as wrong numbers later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNELS, type Param } from '../../src/backend/wasm/kernels.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** export name -> [parameter name, AssemblyScript type][] from asc's .d.ts. */
function ascSignatures(): Map<string, [string, string][]> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmtail-dts-'));
  try {
    execFileSync(
      join(root, 'node_modules/.bin/asc'),
      [
        '--config',
        'assembly/asconfig.json',
        '--target',
        'simd',
        '--outFile',
        join(dir, 'k.wasm'),
        '--textFile',
        join(dir, 'k.wat'),
        '--bindings',
        'raw',
      ],
      { cwd: root, stdio: 'pipe' },
    );
    const dts = readFileSync(join(dir, 'k.d.ts'), 'utf8');
    const out = new Map<string, [string, string][]>();
    // Each export: a doc block with `@param name \`type\`` lines, then `export function name(`.
    for (const m of dts.matchAll(/\/\*\*([\s\S]*?)\*\/\s*export function (\w+)\(/g)) {
      out.set(
        m[2],
        [...m[1].matchAll(/@param (\w+) `(\w+)`/g)].map((p) => [p[1], p[2]]),
      );
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ASC_TYPE: Record<Param['type'], string> = { ptr: 'usize', i32: 'i32', f32: 'f32' };

test('every kernel in the table has the parameters, order and types of its AssemblyScript export', () => {
  const exports = ascSignatures();
  assert.ok(exports.size > 30, `parsed ${exports.size} exports from asc's .d.ts`);
  for (const [name, params] of Object.entries(KERNELS) as [string, Record<string, Param>][]) {
    const want = exports.get(name);
    assert.ok(want, `assembly/ exports no ${name}`);
    const got = Object.entries(params).map(([p, { type }]) => [p, ASC_TYPE[type]]);
    assert.deepEqual(got, want, `${name}: the table's parameters vs the export's`);
  }
});
