// The demo page (dist/web/) in headless Firefox: Debian's firefox-esr, driven
// by puppeteer-core over WebDriver BiDi (no download, no network). As in
// Chromium (browser.test.ts): a dropped test image classified; PyTorch's
// logits on the page and in a Web Worker; CE and FBL training side by side
// with the loss falling; and on the cross-origin-isolated page, training on
// the browser thread pool, two threads bit-identical to one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { serveStatic } from '../../scripts/serve-web.js';
import { X, assertMatchesTorch, assertBuilt } from './fixture.js';
import { type Demo, type Training, dropPng, sneakerPng } from './demo.js';

const FIREFOX = process.env.WASMTAIL_FIREFOX ?? '/usr/bin/firefox-esr';

type Launch = typeof import('puppeteer-core').launch;
let launch: Launch | null = null;
try {
  ({ launch } = await import('puppeteer-core'));
} catch {
  /* reported below */
}
const missing = !existsSync(FIREFOX)
  ? `no Firefox at ${FIREFOX} (Debian: apt-get install firefox-esr)`
  : !launch
    ? 'puppeteer-core is not installed (npm ci)'
    : null;
if (missing && process.env.CI) throw new Error(`Firefox tests: ${missing}; .ci/run installs both`);

declare const wasmtailDemo: Demo;

describe('the demo page in headless Firefox', { skip: missing ?? false }, () => {
  let server: Server;
  let browser: Awaited<ReturnType<Launch>>;
  let page: Awaited<ReturnType<typeof browser.newPage>>;
  const errors: string[] = [];

  /** Starts runs with these options and resolves to what they posted once all are done. */
  async function train(opts: object): Promise<Record<string, Training>> {
    await page.evaluate((o) => wasmtailDemo.startTraining(o), opts);
    await page.waitForFunction(() => Object.values(wasmtailDemo.training()).every((r) => r.done), { timeout: 90_000, polling: 200 });
    const runs = await page.evaluate(() => wasmtailDemo.training());
    for (const [loss, r] of Object.entries(runs)) assert.equal(r.error, undefined, `${loss}: ${r.error}`);
    return runs;
  }

  before(async () => {
    assertBuilt([
      'dist/web/index.html',
      'dist/web/app.js',
      'dist/web/wasmtail.wasm',
      'dist/web/wasmtail-threads.wasm',
      'dist/web/model.safetensors',
    ]);
    const served = await serveStatic('dist/web');
    server = served.server;
    browser = await launch!({ browser: 'firefox', executablePath: FIREFOX, headless: true, timeout: 60_000 });
    page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(served.url);
    await page.waitForFunction(() => 'wasmtailDemo' in window);
    await page.evaluate(() => wasmtailDemo.ready);
  });

  after(async () => {
    await browser?.close();
    server?.close();
    server?.closeAllConnections();
  });

  it('classifies a dropped test image (a Sneaker) and shows the probabilities as bars', async () => {
    await page.evaluate(dropPng, sneakerPng());
    await page.waitForSelector('#result[data-name]');
    assert.equal(await page.$eval('#result', (e) => e.getAttribute('data-name')), 'Sneaker');
    assert.equal((await page.$$('#result .bar')).length, 10);
    assert.match(await page.$eval('#result .bar.top', (e) => e.textContent ?? ''), /Sneaker\s*9\d\.\d%/);
  });

  it("gives PyTorch's top-1 and logits within 1e-4 on the page and in a Web Worker", async () => {
    const x = Array.from(X);
    assertMatchesTorch(
      (await page.evaluate((v) => wasmtailDemo.predict(v), x)).flatMap((p) => p.logits),
      'Firefox page',
    );
    assertMatchesTorch(
      (await page.evaluate((v) => wasmtailDemo.predictInWorker(v), x)).flatMap((p) => p.logits),
      'Firefox Web Worker',
    );
  });

  it('trains CE and FBL side by side in two workers, the loss falling', async (t) => {
    const steps = 20;
    const runs = await train({ steps, batch: 32, evalEvery: 10, evalPerClass: 20, threads: 1 });
    for (const [loss, r] of Object.entries(runs)) {
      assert.equal(r.losses.length, steps, `${loss}: steps`);
      const mean = (v: [number, number][]) => v.reduce((s, [, y]) => s + y, 0) / v.length;
      const first = mean(r.losses.slice(0, 3)),
        last = mean(r.losses.slice(-3));
      assert.ok(last < first, `${loss}: the loss did not fall (${first.toFixed(3)} -> ${last.toFixed(3)})`);
      assert.ok(r.evals.length === 2 && r.evals.every((e) => e.accuracy.length === 10 && e.featureNorm.every((v) => v > 0)));
      t.diagnostic(`${loss}: loss ${first.toFixed(3)} -> ${last.toFixed(3)} over ${steps} steps`);
    }
    assert.equal((await page.$$('#chart-accuracy svg')).length, 1);
  });

  it('trains on the browser thread pool (cross-origin isolated): two threads bit-identical to one', async () => {
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the page is not cross-origin isolated');
    const opts = { steps: 4, batch: 32, evalEvery: 4, evalPerClass: 10, losses: ['ce'] };
    const one = (await train({ ...opts, threads: 1 })).ce;
    const two = (await train({ ...opts, threads: 2 })).ce;
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2, 'the training worker did not start its thread pool');
    assert.match(await page.$eval('#threads', (e) => e.textContent ?? ''), /2 threads per run \(cross-origin isolated/);
    assert.deepEqual(two.losses, one.losses, 'losses, 2 threads vs 1');
    assert.deepEqual(two.evals, one.evals, 'per-class accuracy and feature norms, 2 threads vs 1');
    assert.deepEqual(errors, [], 'errors on the page');
  });
});
