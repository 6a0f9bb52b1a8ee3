// wasmtail/infer in Cloudflare's workerd (the npm package's binary): a worker
// that imports the .wasm as a compiled module answers HTTP requests on
// loopback with predictions; PyTorch's logits within 1e-4.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { encodePng } from '../util/png.js';
import { CHECKPOINT, X, PIXELS, SNEAKER, assertMatchesTorch, assertBuilt } from './fixture.js';

function workerdBinary(): string | null {
  try {
    const bin = createRequire(import.meta.url)('workerd').default as string;
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}
const BIN = workerdBinary();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      })
      .once('error', reject);
  });
}

describe('wasmtail/infer in workerd', { skip: BIN ? false : 'the workerd package (devDependency) is not installed: npm ci' }, () => {
  let dir = '';
  let child: ChildProcess | null = null;
  let url = '';
  let log = '';

  before(async () => {
    assertBuilt(['dist/wasmtail.wasm']);
    dir = mkdtempSync(join(tmpdir(), 'wasmtail-workerd-'));
    // What wrangler does: bundle the worker, leaving the .wasm and data imports to the runtime's module registry.
    await build({
      entryPoints: ['test/embed/workerd/worker.ts'],
      outfile: join(dir, 'worker.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      external: ['./wasmtail.wasm', './model.safetensors'],
      logLevel: 'silent',
    });
    copyFileSync('dist/wasmtail.wasm', join(dir, 'wasmtail.wasm'));
    copyFileSync(CHECKPOINT, join(dir, 'model.safetensors'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'config.capnp'),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "wasmtail.wasm", wasm = embed "wasmtail.wasm"),
    (name = "model.safetensors", data = embed "model.safetensors"),
  ],
  compatibilityDate = "2024-09-23",
);
`,
    );
    child = spawn(BIN!, ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) assert.fail(`workerd exited with ${child.exitCode}: ${log}`);
      try {
        await fetch(url, { signal: AbortSignal.timeout(2000) });
        break;
      } catch {
        if (Date.now() > deadline) assert.fail(`workerd did not answer on ${url} within 20 s: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  after(() => {
    child?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function post(
    body: Uint8Array<ArrayBuffer>,
    type: string,
  ): Promise<{ top1: number; name: string; probability: number; logits: number[] }[]> {
    const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': type }, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${log}`);
    return JSON.parse(text);
  }

  it('classifies a posted PNG (test image 9, a Sneaker)', async () => {
    const [p] = await post(
      encodePng(PIXELS.subarray(SNEAKER * 784, (SNEAKER + 1) * 784), 28, 28, 1) as Uint8Array<ArrayBuffer>,
      'image/png',
    );
    assert.equal(p.name, 'Sneaker');
    assert.ok(p.probability > 0.5, `probability ${p.probability}`);
  });

  it("gives PyTorch's top-1 and logits within 1e-4 for the fixture's 16 images", async () => {
    const out = await post(new Uint8Array(X.buffer as ArrayBuffer, X.byteOffset, X.byteLength), 'application/octet-stream');
    assertMatchesTorch(
      out.flatMap((p) => p.logits),
      'workerd',
    );
  });

  it('answers a bad request with 400 and the reason', async () => {
    const res = await fetch(url, {
      method: 'POST',
      body: new Uint8Array(12),
      headers: { 'content-type': 'image/png' },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /posted image: not a PNG/);
  });
});
