// TypeScript writes, PyTorch reads: the file goes through the hand-written
// reader in scripts/make-safetensors-fixture.py (torch.frombuffer on the
// offsets from the header). Skipped when no python3 with torch is found; set
// WASMTAIL_PYTHON to choose the interpreter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { saveSafetensors } from '../../src/io/index.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/make-safetensors-fixture.py', import.meta.url));
const candidates = [process.env.WASMTAIL_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[];
const python = candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);

test('PyTorch reads what we write (values bit-exact, names, shapes, metadata, order)', {
  skip: python ? false : `no python3 with torch among ${candidates.join(', ')}`,
}, () => {
  const specials = new Float32Array([0, -0, 1.5, -(2 ** -149), 3.4028234663852886e38, Infinity, -Infinity, NaN, Math.fround(0.1)]);
  const conv = Float32Array.from({ length: 2 * 3 * 3 * 3 }, (_, i) => Math.fround(Math.sin(i) * 0.1));
  const tensors = {
    'layer1.0.conv1.weight': { shape: [2, 3, 3, 3], data: conv },
    'bn1.num_batches_tracked': { shape: [], data: new Float32Array([78200]) },
    'linear.bias': { shape: [9], data: specials },
    empty: { shape: [0, 4], data: new Float32Array(0) },
  };
  const metadata = { epoch: '12', config: JSON.stringify({ loss: 'fbl', lambda: 60 }), ünïcode: '✓' };
  const dir = mkdtempSync(join(tmpdir(), 'wasmtail-interop-'));
  try {
    const path = join(dir, 'ours.safetensors');
    writeFileSync(path, saveSafetensors(tensors, metadata));
    const run = spawnSync(python!, [SCRIPT, 'read', path], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const read = JSON.parse(run.stdout) as {
      metadata: Record<string, string>;
      order: string[];
      tensors: Record<string, { dtype: string; shape: number[]; float32: (number | string)[] }>;
    };
    assert.deepEqual(read.metadata, metadata);
    assert.deepEqual(read.order, ['bn1.num_batches_tracked', 'empty', 'layer1.0.conv1.weight', 'linear.bias']);
    for (const [name, t] of Object.entries(tensors)) {
      const got = read.tensors[name];
      assert.equal(got.dtype, 'F32');
      assert.deepEqual(got.shape, t.shape);
      const values = got.float32.map((v) => (typeof v === 'string' ? Number(v) : v));
      assert.equal(values.length, t.data.length);
      values.forEach((v, i) => {
        assert.ok(Object.is(v, t.data[i]), `${name}[${i}]: torch read ${v}, wrote ${t.data[i]}`);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
