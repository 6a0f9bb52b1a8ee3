// report.html in headless Chromium (Debian's chromium, driven by
// playwright-core, as test/embed/browser.test.ts): the tables and both plots
// render, error bars and class names drawn, and a screenshot shows them
// (pixels of the series colours in the page, not a blank one).
//
// WASMTAIL_REPORT_SCREENSHOT=docs/report.png keeps the picture.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { decodePng } from '../../src/data/png.js';
import { DEFAULTS } from '../../src/train/config.js';
import { findRuns } from '../../src/report/runs.js';
import { groupRuns } from '../../src/report/groups.js';
import { reportPlots } from '../../src/report/plots.js';
import { reportHtml } from '../../src/report/tables.js';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumMissing, playwright } from '../util/chromium.js';

const missing = chromiumMissing('report browser test');

const root = mkdtempSync(join(tmpdir(), 'wasmtail-report-page-'));
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const COUNTS = [6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60];

function fakeRuns(): string {
  const runs = join(root, 'runs');
  for (const [loss, base] of [
    ['ce', 0.8],
    ['fbl', 0.86],
  ] as const) {
    for (const seed of [1, 2, 3]) {
      const dir = join(runs, `${loss}-${seed}`);
      mkdirSync(dir, { recursive: true });
      const perClass = COUNTS.map((_, c) => Math.min(1, base + 0.1 - 0.04 * c * (loss === 'ce' ? 1 : 0.6) + 0.01 * seed));
      const last = { epoch: 8, top1: base + 0.01 * seed, many: base + 0.02, medium: base - 0.1, few: null, perClass };
      writeFileSync(
        join(dir, 'summary.json'),
        JSON.stringify({
          config: { ...DEFAULTS, loss, lambda: 10, modelSeed: seed },
          classNames: CLASSES,
          trainCounts: COUNTS,
          last,
          best: last,
        }),
      );
    }
  }
  return runs;
}

describe('report.html in headless Chromium', { skip: missing ?? false }, () => {
  it('shows the tables and the plots with error bars and class names; a screenshot has them in colour', async (t) => {
    const groups = groupRuns(findRuns([fakeRuns()]).runs);
    const file = join(root, 'report.html');
    writeFileSync(file, reportHtml(groups, [], reportPlots(groups)));
    const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href);
      // Groups, paired differences (the seeds pair up), per class, runs.
      assert.equal(await page.locator('table').count(), 4);
      assert.match((await page.locator('table').nth(1).textContent()) ?? '', /loss fbl, lambda 10\s*3\s*\+6\.00 ± 0\.00 \(3\)/);
      assert.match(await page.locator('table').first().innerText(), /loss fbl, lambda 10\s+3\s+88\.00 ± 1\.00 \(3\)/);
      const figures = await page.locator('figure svg').evaluateAll((svgs) =>
        svgs.map((s) => {
          const box = s.getBoundingClientRect();
          const bars = Array.from(s.querySelectorAll('path')).filter((p) => /V.*H.*H/.test(p.getAttribute('d') ?? ''));
          return {
            width: box.width,
            height: box.height,
            errorBars: bars.filter((p) => p.getBBox().height > 0).length,
            labels: Array.from(s.querySelectorAll('text')).map((x) => x.textContent),
          };
        }),
      );
      assert.equal(figures.length, 2);
      for (const f of figures) assert.ok(f.width > 300 && f.height > 200, JSON.stringify(f));
      assert.equal(figures[0].errorBars, 2, 'top-1: one error bar per group');
      assert.ok(figures[1].errorBars >= 10, 'per class: error bars drawn');
      for (const name of ['Ankle boot', 'Bag', 'T-shirt/top']) assert.ok(figures[1].labels.includes(name), `${name} labelled`);
      const shot = process.env.WASMTAIL_REPORT_SCREENSHOT ?? join(root, 'report.png');
      const png = await page.screenshot({ path: shot, fullPage: true });
      t.diagnostic(`screenshot: ${shot}`);
      const img = decodePng(new Uint8Array(png), (d) => new Uint8Array(inflateSync(d)));
      // The first two series colours (Okabe–Ito blue #0072B2, vermillion #D55E00) appear in the picture.
      const seen = new Set<string>();
      for (let i = 0; i < img.width * img.height; i++) {
        const [r, g, b] = [img.rgba[4 * i], img.rgba[4 * i + 1], img.rgba[4 * i + 2]];
        if (Math.abs(r - 0x00) < 12 && Math.abs(g - 0x72) < 12 && Math.abs(b - 0xb2) < 12) seen.add('blue');
        if (Math.abs(r - 0xd5) < 12 && Math.abs(g - 0x5e) < 12 && Math.abs(b - 0x00) < 12) seen.add('vermillion');
      }
      assert.deepEqual([...seen].sort(), ['blue', 'vermillion']);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
