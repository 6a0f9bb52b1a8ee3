// The demo page (web/, built into dist/web/) in headless Chromium (Debian's
// chromium, driven by playwright-core): it loads the PyTorch-made checkpoint
// and classifies a dropped test image; the page and a Web Worker give
// PyTorch's logits; the training demo runs CE and FBL a few steps in two
// workers with the loss falling; a screenshot is saved. The page is served
// cross-origin isolated (COOP/COEP), so a training worker may run its kernels
// on a thread pool of nested Web Workers: two threads give one thread's bits;
// served without those headers, the page falls back to one thread and says why.
//
// WASMTAIL_SCREENSHOT=docs/screenshot.png WASMTAIL_DEMO_STEPS=240 makes the README's picture.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { serveStatic } from '../../scripts/serve-web.js';
import { X, assertMatchesTorch, assertBuilt } from './fixture.js';
import { type Demo, type Training, dropPng, sneakerPng } from './demo.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumMissing, playwright } from '../util/chromium.js';

const missing = chromiumMissing('browser tests');

const STEPS = Number(process.env.WASMTAIL_DEMO_STEPS ?? 20);

/** A few CE steps in one training worker with `threads` kernel threads: what the worker posted, and what the page says. */
async function trainCe(page: import('playwright-core').Page, threads: number): Promise<{ run: Training; says: string }> {
  await page.evaluate(
    (n) => wasmtailDemo.startTraining({ steps: 4, batch: 32, evalEvery: 4, evalPerClass: 10, threads: n, losses: ['ce'] }),
    threads,
  );
  await page.waitForFunction(() => wasmtailDemo.training().ce.done, null, { timeout: 60_000, polling: 100 });
  const run = await page.evaluate(() => wasmtailDemo.training().ce);
  assert.equal(run.error, undefined, run.error);
  return { run, says: (await page.textContent('#threads')) ?? '' };
}
declare const wasmtailDemo: Demo;

describe('the demo page in headless Chromium', { skip: missing ?? false }, () => {
  let server: Server;
  let browser: import('playwright-core').Browser;
  let page: Awaited<ReturnType<typeof browser.newPage>>;
  const errors: string[] = [];

  before(async () => {
    assertBuilt(['dist/web/index.html', 'dist/web/app.js', 'dist/web/wasmtail.wasm', 'dist/web/model.safetensors']);
    const served = await serveStatic('dist/web');
    server = served.server;
    browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(served.url);
    await page.waitForFunction(() => 'wasmtailDemo' in window);
    await page.evaluate(() => wasmtailDemo.ready);
  });

  after(async () => {
    await browser?.close();
    server?.close();
    server?.closeAllConnections();
  });

  it('classifies a dropped test image (a Sneaker, a tail class) and shows the probabilities as bars', async () => {
    await page.evaluate(dropPng, sneakerPng());
    await page.waitForSelector('#result[data-name]');
    assert.equal(await page.getAttribute('#result', 'data-name'), 'Sneaker');
    assert.equal(await page.locator('#result .bar').count(), 10);
    assert.match((await page.textContent('#result .bar.top')) ?? '', /Sneaker\s*9\d\.\d%/);
  });

  it("gives PyTorch's top-1 and logits within 1e-4 on the page and in a Web Worker", async () => {
    const x = Array.from(X);
    const onPage = await page.evaluate((v) => wasmtailDemo.predict(v), x);
    const inWorker = await page.evaluate((v) => wasmtailDemo.predictInWorker(v), x);
    assertMatchesTorch(
      onPage.flatMap((p) => p.logits),
      'Chromium page',
    );
    assertMatchesTorch(
      inWorker.flatMap((p) => p.logits),
      'Chromium Web Worker',
    );
  });

  it(`trains CE and FBL side by side in two workers for ${STEPS} steps, the loss falling, and takes a screenshot`, async (t) => {
    await page.evaluate(
      (steps) =>
        wasmtailDemo.startTraining({
          steps,
          batch: steps > 50 ? 64 : 32,
          evalEvery: Math.max(10, steps / 4),
          evalPerClass: steps > 50 ? 100 : 20,
        }),
      STEPS,
    );
    await page.waitForFunction(
      () => {
        const r = wasmtailDemo.training();
        return r.ce.done && r.fbl.done;
      },
      null,
      { timeout: 60_000 + STEPS * 2000, polling: 250 },
    );
    const runs = await page.evaluate(() => wasmtailDemo.training());
    for (const [loss, r] of Object.entries(runs)) {
      assert.equal(r.error, undefined, `${loss}: ${r.error}`);
      assert.equal(r.losses.length, STEPS, `${loss}: steps`);
      const mean = (v: [number, number][]) => v.reduce((s, [, y]) => s + y, 0) / v.length;
      const first = mean(r.losses.slice(0, 3)),
        last = mean(r.losses.slice(-3));
      assert.ok(last < first, `${loss}: the loss did not fall (${first.toFixed(3)} -> ${last.toFixed(3)})`);
      assert.ok(r.evals.length >= 2 && r.evals.every((e) => e.accuracy.length === 10 && e.featureNorm.every((v) => v > 0)));
      t.diagnostic(
        `${loss}: loss ${first.toFixed(3)} -> ${last.toFixed(3)} over ${STEPS} steps; per-class accuracy ${r.evals
          .at(-1)!
          .accuracy.map((a) => a.toFixed(2))
          .join(' ')}`,
      );
    }
    assert.equal(await page.locator('#chart-accuracy svg').count(), 1);
    const shot = process.env.WASMTAIL_SCREENSHOT ?? join(mkdtempSync(join(tmpdir(), 'wasmtail-page-')), 'screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    assert.deepEqual(errors, [], 'errors on the page');
  });

  it('trains on the browser thread pool (cross-origin isolated): two threads bit-identical to one, and says so', async () => {
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the page is not cross-origin isolated');
    const one = await trainCe(page, 1);
    const two = await trainCe(page, 2);
    assert.equal(one.run.threads, 1);
    assert.equal(two.run.threads, 2, 'the training worker did not start its thread pool');
    assert.match(two.says, /2 threads per run \(cross-origin isolated/);
    assert.deepEqual(two.run.losses, one.run.losses, 'losses, 2 threads vs 1');
    assert.deepEqual(two.run.evals, one.run.evals, 'per-class accuracy and feature norms, 2 threads vs 1');
    assert.deepEqual(errors, [], 'errors on the page');
  });

  it('falls back to one thread, and says why, when the page is not cross-origin isolated', async () => {
    const plain = await serveStatic('dist/web', 0, { isolated: false });
    const other = await browser.newPage();
    try {
      await other.goto(plain.url);
      await other.waitForFunction(() => 'wasmtailDemo' in window);
      await other.evaluate(() => wasmtailDemo.ready);
      assert.equal(await other.evaluate(() => crossOriginIsolated), false);
      const { run, says } = await trainCe(other, 2);
      assert.equal(run.threads, 1);
      assert.match(says, /1 thread per run \(this page is not cross-origin isolated/);
    } finally {
      await other.close();
      plain.server.close();
      plain.server.closeAllConnections();
    }
  });
});
