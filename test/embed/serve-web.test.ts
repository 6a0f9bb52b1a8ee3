// The demo page's server (npm run web): COOP same-origin and COEP
// require-corp on every response, which make the page cross-origin isolated
// (the browser tests check that the page then is); none with isolated: false;
// nothing outside dist/web/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { serveStatic } from '../../scripts/serve-web.js';
import { assertBuilt } from './fixture.js';

describe('scripts/serve-web.ts', () => {
  const servers: Server[] = [];
  let isolated = '',
    plain = '';

  before(async () => {
    assertBuilt(['dist/web/index.html', 'dist/web/wasmtail-threads.wasm']);
    for (const opts of [{ isolated: true }, { isolated: false }]) {
      const s = await serveStatic('dist/web', 0, opts);
      servers.push(s.server);
      if (opts.isolated) isolated = s.url;
      else plain = s.url;
    }
  });

  after(() => {
    for (const s of servers) {
      s.close();
      s.closeAllConnections();
    }
  });

  it('sends COOP same-origin and COEP require-corp with the page, its scripts and the kernels', async () => {
    for (const path of ['', 'app.js', 'train-worker.js', 'wasmtail-threads.wasm']) {
      const res = await fetch(isolated + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp', path);
      await res.arrayBuffer();
    }
    assert.equal((await fetch(isolated + 'wasmtail-threads.wasm')).headers.get('content-type'), 'application/wasm');
  });

  it('leaves them out when asked (isolated: false), and serves nothing outside dist/web/', async () => {
    const res = await fetch(plain);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cross-origin-opener-policy'), null);
    assert.equal(res.headers.get('cross-origin-embedder-policy'), null);
    await res.arrayBuffer();
    const outside = await fetch(isolated + '..%2f..%2fpackage.json');
    assert.equal(outside.status, 404);
    await outside.arrayBuffer();
  });
});
