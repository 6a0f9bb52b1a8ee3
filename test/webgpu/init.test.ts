// Choosing the WebGPU backend: init() and the CLI's --backend, info() naming
// the adapter, shutdown() destroying the device, and the error that names
// the cause when no adapter is found.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as wt from '../../src/index.js';
import { webgpuBackend } from '../util/backends.js';

// Sets VK_ADD_DRIVER_FILES to .lavapipe/ when needed (and fails under CI without an adapter).
const available = (await webgpuBackend()) !== null;

describe('the WebGPU backend through init() and the CLI', { skip: available ? false : 'no WebGPU adapter' }, () => {
  it('init({ backend: "webgpu" }): info() names the adapter; shutdown() destroys the device', async () => {
    await wt.init({ backend: 'webgpu' });
    const info = wt.info() as { backend: string; adapter: { vendor: string; description: string } };
    assert.equal(info.backend, 'webgpu');
    assert.ok(info.adapter.vendor || info.adapter.description, JSON.stringify(info));
    const t = wt.add(wt.tensor([1, 2, 3]), wt.tensor([10, 20, 30]));
    assert.deepEqual(Array.from(await t.data()), [11, 22, 33]);
    assert.throws(() => t.toFloat32Array(), /the webgpu backend reads asynchronously: use `await t.data\(\)`/);
    wt.shutdown();
    assert.throws(() => wt.add(wt.tensor([1]), wt.tensor([2])), /disposed/);
  });

  it('wasmtail info --backend webgpu reports the adapter; without a driver the error names the cause', () => {
    const cli = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'info', '--backend', 'webgpu'], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
    const ok = cli({});
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).backend, 'webgpu');
    const none = cli({ VK_ADD_DRIVER_FILES: '', VK_DRIVER_FILES: '/nonexistent/icd.json' });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no WebGPU adapter: on Linux without a GPU install Mesa's lavapipe \(scripts\/setup-lavapipe\.sh\)/);
    const usage = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'info', '--backend', 'cuda'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--backend must be one of wasm, webgpu, reference; got 'cuda'/);
  });
});
