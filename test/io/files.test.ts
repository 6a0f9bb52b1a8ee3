import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSafetensorsFile, saveSafetensorsFile, writeFileAtomic } from '../../src/io/files.js';
import { SafetensorsError } from '../../src/io/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wasmtail-io-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = fileURLToPath(new URL('./atomic-writer.child.ts', import.meta.url));
const strays = (d: string) => readdirSync(d).filter((f) => f.includes('.tmp-'));

test('saveSafetensorsFile / loadSafetensorsFile round trip', async () => {
  const path = join(dir, 'model.safetensors');
  await saveSafetensorsFile(path, { 'linear.bias': { shape: [2], data: new Float32Array([0.5, -1]) } }, { epoch: '3' });
  const loaded = await loadSafetensorsFile(path);
  assert.deepEqual([...loaded.tensors.get('linear.bias')!.data], [0.5, -1]);
  assert.deepEqual(loaded.metadata, { epoch: '3' });
  assert.deepEqual(strays(dir), []);
});

test('loadSafetensorsFile errors name the path', async () => {
  const path = join(dir, 'garbage.safetensors');
  writeFileSync(path, 'not a checkpoint at all');
  await assert.rejects(loadSafetensorsFile(path), (err: unknown) => {
    assert.ok(err instanceof SafetensorsError);
    assert.ok(err.message.startsWith(`${path}: header length`), err.message);
    return true;
  });
  await assert.rejects(loadSafetensorsFile(join(dir, 'missing.safetensors')), /missing\.safetensors: cannot be read \(no such file\)/);
});

test('writeFileAtomic replaces a file and writes strings as UTF-8', async () => {
  const path = join(dir, 'summary.json');
  await writeFileAtomic(path, '{"old":true}');
  await writeFileAtomic(path, '{"top1":0.5,"name":"é"}');
  assert.equal(readFileSync(path, 'utf8'), '{"top1":0.5,"name":"é"}');
  assert.deepEqual(strays(dir), []);
});

test('a failed rename leaves the target intact and no temporary file', async () => {
  const sub = join(dir, 'rename-fails');
  const target = join(sub, 'best.safetensors');
  mkdirSync(join(target, 'occupied'), { recursive: true });
  await assert.rejects(writeFileAtomic(target, new Uint8Array(1024)), (err: unknown) => {
    assert.match((err as Error).message, /^writing .*best\.safetensors failed: /);
    return true;
  });
  assert.deepEqual(readdirSync(sub), ['best.safetensors']);
  assert.deepEqual(readdirSync(target), ['occupied']);
});

test('a write that fails half-way (file size limit) leaves the old file and no temporary file', {
  skip: process.platform === 'win32' && 'needs bash and ulimit',
}, () => {
  const sub = join(dir, 'disk-full');
  mkdirSync(sub);
  const target = join(sub, 'last.safetensors');
  const old = spawnSync(process.execPath, ['--import', 'tsx', CHILD, target, 'once', '16', '7'], { encoding: 'utf8' });
  assert.equal(old.status, 0, old.stderr);
  const before = readFileSync(target);

  // 64 KiB limit, 400 KB checkpoint: the write into the temporary file fails
  // with EFBIG after a partial write (Node ignores SIGXFSZ).
  const limited = spawnSync(
    'bash',
    ['-c', `ulimit -f 64 && exec "$0" "$@"`, process.execPath, '--import', 'tsx', CHILD, target, 'once', '100000', '9'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(limited.status, 3, `expected a reported failure, got ${limited.status}: ${limited.stderr}`);
  assert.match(limited.stderr, /writing .*last\.safetensors failed: .*EFBIG/);
  assert.deepEqual(readFileSync(target), before);
  assert.deepEqual(readdirSync(sub), ['last.safetensors']);
});

const KILLS = 6;
test(`SIGKILL at random moments never leaves a partial checkpoint (${KILLS} kills)`, async () => {
  const sub = join(dir, 'killed');
  mkdirSync(sub);
  const target = join(sub, 'last.safetensors');
  const count = 200_000;
  for (let k = 0; k < KILLS; k++) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, target, 'loop', String(count)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 150));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    if (k === 0 && !readdirSync(sub).includes('last.safetensors')) continue;
    const { tensors } = await loadSafetensorsFile(target);
    const w = tensors.get('w')!.data;
    assert.equal(w.length, count);
    assert.ok(w.every((v) => v === w[0]) && (w[0] === 1 || w[0] === 2), 'one whole version, never a mix');
    // A killed writer may leave its temporary file; it never replaced the target.
    for (const stray of strays(sub)) rmSync(join(sub, stray));
  }
});
