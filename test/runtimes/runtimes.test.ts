// The built package under Bun and Deno (the npm packages `bun` and `deno`,
// devDependencies, carry their binaries) beside Node: the kernel-vs-reference
// conformance suite run by each runtime's own test runner; two ResNet-20 SGD
// steps bit-identical to Node's for the same kernel build, on one thread and
// two; wasmtail/infer's logits for the PyTorch fixture; a threaded pool shut
// down eight times with nothing thrown (probe.mjs); the CLI's info and a
// one-epoch train on two threads.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHECKPOINT, X, assertMatchesTorch, assertBuilt } from '../embed/fixture.js';
import { tinyArgs } from '../util/cli.js';

const BIN = resolve('node_modules', '.bin');
const runtimes = { bun: join(BIN, 'bun'), deno: join(BIN, 'deno') };
const missing = Object.entries(runtimes)
  .filter(([, bin]) => !existsSync(bin))
  .map(([name]) => name);
const skip = missing.length ? `${missing.join(' and ')} not installed (devDependencies: npm ci)` : false;
if (skip && process.env.CI) throw new Error(`runtime tests: ${skip}`);

/** How each runtime runs a plain JavaScript file with every permission. */
const RUN: Record<string, string[]> = { node: [process.execPath], bun: [runtimes.bun], deno: [runtimes.deno, 'run', '-A'] };

interface Steps {
  threadsInUse: number;
  losses: number[];
  hash: string;
}
interface Probe {
  runtime: string;
  info: Record<string, unknown>;
  relaxedValidates: boolean;
  steps: Record<string, Steps>;
  logits: number[];
}

function spawn(argv: string[], env: Record<string, string> = {}) {
  // Deno's WebGPU probes Wayland and complains on stderr without XDG_RUNTIME_DIR; neither runtime may look for updates or phone home.
  const quiet = { XDG_RUNTIME_DIR: tmpdir(), NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1' };
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...quiet, ...env } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, error: r.error?.message };
}

/** Each runner's closing line when every test passed. */
const ALL_PASSED: Record<string, RegExp> = { bun: /^ 0 fail$/m, deno: /^ok \| \d+ passed .*\| 0 failed/m };

describe('Bun and Deno beside Node', { skip }, () => {
  let dir = '';
  const probes: Record<string, Probe> = {};

  before(() => {
    assertBuilt(['dist/index.js', 'dist/infer.js', 'dist/cli.js', 'dist/wasmtail.wasm', 'dist/wasmtail-relaxed-threads.wasm']);
    dir = mkdtempSync(join(tmpdir(), 'wasmtail-runtimes-'));
    writeFileSync(join(dir, 'x.f32'), new Uint8Array(X.buffer, X.byteOffset, X.byteLength));
    for (const [name, argv] of Object.entries(RUN)) {
      const r = spawn([...argv, 'test/runtimes/probe.mjs', CHECKPOINT, join(dir, 'x.f32')]);
      // Exit 0 with an empty stderr: no worker threw after shutdown(), and the process ended by itself.
      assert.equal(r.code, 0, `${name}: exit ${r.code} ${r.error ?? ''}\n${r.stderr}`);
      assert.equal(r.stderr, '', `${name} wrote to stderr`);
      probes[name] = JSON.parse(r.stdout);
    }
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const name of ['bun', 'deno']) {
    it(`${name}: the conformance suite (every op's forward vs the float64 reference, gradients vs finite differences)`, (t) => {
      const argv =
        name === 'bun'
          ? [runtimes.bun, 'test', './test/conformance/ops.test.ts']
          : // Deno resolves the sources' '.js' imports to their .ts files with --sloppy-imports.
            [runtimes.deno, 'test', '-A', '--no-check', '--sloppy-imports', 'test/conformance/ops.test.ts'];
      const run = () => spawn(argv, { WT_GRAD_RUNS: '3' });
      let r = run();
      // Deno 2.9.6 once aborted at exit (glibc's 'corrupted size vs. prev_size',
      // SIGABRT) after its runner had reported every test passed (CI, 2026-12-08;
      // not reproduced in 90 runs here, loaded or not). A crash after a clean
      // summary is reported and run once more; a second one, or any failed test,
      // fails here.
      if (r.code === null && ALL_PASSED[name].test(r.stdout + r.stderr)) {
        t.diagnostic(`${name} died by ${r.signal} after all tests passed; once more. stderr: ${r.stderr.trim().slice(-300)}`);
        r = run();
      }
      assert.equal(r.code, 0, `${name} test: exit ${r.code} ${r.error ?? ''}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, /wasm backend/, `${name} ran no wasm conformance tests`);
    });
  }

  it("two ResNet-20 steps: the plain-SIMD build bit-identical to Node's in Bun and Deno, on one thread and two", (t) => {
    const node = probes.node.steps['plain/1'];
    for (const [name, p] of Object.entries(probes)) {
      assert.equal(p.steps['plain/1'].hash, node.hash, `${name}: plain SIMD, one thread`);
      assert.equal(p.steps['plain/2'].threadsInUse, 2, `${name}: the pool did not start`);
      assert.equal(p.steps['plain/2'].hash, node.hash, `${name}: plain SIMD, two threads`);
      t.diagnostic(`${p.runtime}: plain ${p.steps['plain/1'].hash.slice(0, 16)}, losses ${p.steps['plain/1'].losses.join(', ')}`);
    }
  });

  it('relaxed SIMD where the runtime validates it, as info() reports: V8 (Node, Deno) fuses, JavaScriptCore (Bun) may not', (t) => {
    const node = probes.node.steps['relaxed/1'];
    assert.ok(node, 'Node runs the relaxed build');
    for (const [name, p] of Object.entries(probes)) {
      assert.equal(p.info.build, p.relaxedValidates ? 'relaxed-simd' : 'simd128', `${name}: info() after a default init`);
      if (!p.relaxedValidates) {
        t.diagnostic(`${p.runtime}: no relaxed SIMD; the plain build`);
        continue;
      }
      assert.equal(p.info.sharedMemory, true, `${name}: shared memory`);
      assert.equal(p.info.inferKernels, 'wasmtail.wasm', `${name}: wasmtail/infer loads the plain build`);
      const relaxed = p.steps['relaxed/1'];
      assert.equal(p.steps['relaxed/2'].hash, relaxed.hash, `${name}: relaxed SIMD, two threads vs one`);
      // f32x4.relaxed_madd may round once (fused) or twice: the two results the spec allows.
      const fused = relaxed.hash === node.hash,
        unfused = relaxed.hash === p.steps['plain/1'].hash;
      assert.ok(fused || unfused, `${name}: the relaxed build gives neither Node's fused bits nor the plain build's`);
      if (name !== 'bun') assert.ok(fused, `${name} (V8) should fuse as Node does`);
      t.diagnostic(`${p.runtime}: relaxed_madd ${fused ? "fused (Node's bits)" : "unfused (the plain build's bits)"}`);
    }
  });

  it("wasmtail/infer gives PyTorch's logits within 1e-4, bit-identical to Node's", () => {
    for (const [name, p] of Object.entries(probes)) {
      assertMatchesTorch(p.logits, name);
      assert.deepEqual(p.logits, probes.node.logits, `${name} vs Node`);
    }
  });

  for (const name of ['bun', 'deno']) {
    it(`${name}: the CLI's info, and a one-epoch train on two threads`, () => {
      const info = spawn([...RUN[name], 'dist/cli.js', 'info']);
      assert.equal(info.code, 0, info.stderr);
      assert.equal(JSON.parse(info.stdout).backend, 'wasm');
      const out = join(dir, `${name}-run`);
      const r = spawn([
        ...RUN[name],
        'dist/cli.js',
        'train',
        ...tinyArgs({ '--epochs': 1, '--limit-train': 64, '--limit-test': 20, '--loss': 'ce', '--threads': 2, '--out': out }),
      ]);
      assert.equal(r.code, 0, `${name} train: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /error/i);
      const result = JSON.parse(r.stdout.split('\n').find((line) => line.startsWith('{')) ?? 'null');
      assert.equal(result?.bestEpoch, 1, `${name} train printed no result: ${r.stdout}`);
      assert.equal(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).config.threads, 2);
      assert.ok(existsSync(join(out, 'last.safetensors')));
    });
  }
});
