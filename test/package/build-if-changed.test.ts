// scripts/build-if-changed.ts (npm run build, npm test's pretest): a step runs
// when an input changed, appeared or went, or an output is missing; the web
// page's inputs are the files its bundle holds, so a change to the CLI's
// trainer rebuilds the library and not the page.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STEPS, inputHashes, staleBecause } from '../../scripts/build-if-changed.js';

describe('build-if-changed', () => {
  const lib = inputHashes(STEPS.lib);
  const web = inputHashes(STEPS.web);

  it('the web page depends on the engine files its workers bundle, not on the CLI', () => {
    for (const f of ['src/train/trainer.ts', 'src/backend/wasm/wasmBackend.ts', 'web/train-worker.ts', 'dist/wasmtail.wasm']) {
      assert.ok(f in web, `web lacks ${f}`);
    }
    for (const f of ['src/train/run.ts', 'src/cli/main.ts']) assert.ok(!(f in web), `web holds ${f}`);
    assert.ok('src/train/run.ts' in lib && 'src/cli/main.ts' in lib);
  });

  it('up to date only when every input hash matches the record', () => {
    assert.equal(staleBecause(STEPS.lib, { ...lib }, lib), null);
    assert.match(staleBecause(STEPS.lib, { ...lib, 'src/train/run.ts': 'x' }, lib)!, /1 input\(s\) changed \(src\/train\/run\.ts\)/);
    const { 'src/tensor.ts': _gone, ...withoutOne } = lib;
    assert.match(staleBecause(STEPS.lib, withoutOne, lib)!, /changed \(src\/tensor\.ts\)/);
    assert.match(staleBecause(STEPS.lib, lib, withoutOne)!, /changed \(src\/tensor\.ts\)/);
    assert.equal(staleBecause(STEPS.lib, 'no record of a previous build', lib), 'no record of a previous build');
  });

  it('a missing output forces the step', () => {
    assert.match(staleBecause({ ...STEPS.lib, outputs: ['dist/no-such-file.js'] }, lib, lib)!, /dist\/no-such-file\.js is missing/);
  });
});
