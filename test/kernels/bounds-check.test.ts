// The bounds-checking debug mode (WASMTAIL_CHECK_BOUNDS=1, src/backend/boundsCheck.ts):
// deliberately out-of-range, freed and forged calls are refused before any
// kernel runs, on the WASM backend (down to the allocator's live blocks) and
// on the reference backend; in-range calls run as before.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, Storage } from '../../src/backend/backend.js';
import { init, shutdown } from '../../src/init.js';

process.env.WASMTAIL_CHECK_BOUNDS = '1';

for (const kind of ['wasm', 'reference'] as const) {
  describe(`bounds-checking debug mode (${kind})`, () => {
    let b: Backend;
    const filled = (n: number, v = 1): Storage => {
      const s = b.alloc(n);
      b.fill(s, v, n);
      return s;
    };

    it('an in-range call runs', async () => {
      b = await init({ backend: kind, threads: 1 });
      const [x, y, out] = [filled(8, 2), filled(8, 3), b.alloc(8)];
      b.binary('add', x, y, out, 8);
      assert.deepEqual(Array.from(await b.read(out)), new Array(8).fill(5));
    });

    it('a call that reads one element past a storage is refused, naming the primitive and argument', () => {
      const [x, y, out] = [filled(8), filled(9), b.alloc(9)];
      assert.throws(
        () => b.binary('add', x, y, out, 9),
        new RegExp(`bounds check: ${kind}\\.binary\\(\\): argument a is touched at 9 elements but holds 8`),
      );
      assert.throws(() => b.gemm(false, false, 3, 3, 3, 1, x, y, 0, out), /gemm\(\): argument a is touched at 9 elements but holds 8/);
      assert.throws(() => b.reduceAxis('sum', y, x, 3, 3, 3), /reduceAxis\(\): argument x is touched at 27/);
    });

    it('a freed storage is refused, for use and for a second free', () => {
      const x = filled(4);
      b.free(x);
      assert.throws(() => b.fill(x, 0, 4), /argument y is not a live storage/);
      assert.throws(() => b.free(x), /not a live storage/);
    });

    it('labels outside [0, classes) are refused', () => {
      const [z, loss, dz] = [filled(6), b.alloc(1), b.alloc(6)];
      assert.throws(() => b.softmaxCrossEntropy(z, Int32Array.from([0, 3]), null, 2, 3, loss, dz), /label 3 at row 1 outside \[0, 3\)/);
    });

    if (kind === 'wasm') {
      it('a storage whose length claims more than its block in linear memory is refused by the allocator check', () => {
        const x = filled(16);
        (x as { length: number }).length = 1000;
        assert.throws(() => b.fill(x, 0, 1000), /4000 bytes at byte offset \d+ run past its block of 64 bytes/);
        shutdown();
      });
    }
  });
}
