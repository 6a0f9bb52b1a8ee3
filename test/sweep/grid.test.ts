// The grid: axes from comma lists, ignored axes, stable indices, readable
// folders, and the flags named when the input is wrong or the grid changed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expandGrid, gridDifferences, gridFromFlags } from '../../src/sweep/grid.js';
import { UsageError } from '../../src/cli/main.js';

describe('sweep grid', () => {
  it('the product of the axes, less what a cell ignores: CE × three λ is one CE cell per seed', () => {
    const cells = expandGrid(gridFromFlags({ dataset: 'fashion-mnist-lt', loss: 'ce,fbl', lambda: '10,30,60', 'model-seed': '1,2,3' }));
    assert.equal(cells.length, 3 + 3 * 3);
    assert.deepEqual(
      cells.map((c) => c.index),
      cells.map((_, i) => i),
    );
    assert.equal(cells[0].dir, '00-loss-ce_model-seed-1');
    assert.equal(cells[3].dir, '03-loss-fbl_lambda-10_model-seed-1');
    assert.equal(cells[11].id, 'loss-fbl_lambda-60_model-seed-3');
    assert.ok(cells.filter((c) => c.config.loss === 'ce').every((c) => !('lambda' in c.flags)));
    assert.equal(cells[3].config.lambda, 10);
    assert.equal(cells[3].config.dataset, 'fashion-mnist-lt');
    assert.equal(new Set(cells.map((c) => c.dir)).size, cells.length);
  });

  it('the same grid in any flag order gives the same cells in the same order', () => {
    const flags: [string, string][] = [
      ['loss', 'ce,fbl'],
      ['lambda', '10,30'],
      ['model-seed', '1,2'],
      ['epochs', '2,4'],
      ['dataset', 'fashion-mnist-lt'],
    ];
    const reference = JSON.stringify(expandGrid(gridFromFlags(Object.fromEntries(flags))));
    fc.assert(
      fc.property(fc.shuffledSubarray(flags, { minLength: flags.length, maxLength: flags.length }), (order) => {
        assert.equal(JSON.stringify(expandGrid(gridFromFlags(Object.fromEntries(order)))), reference);
      }),
      { numRuns: 30 },
    );
  });

  it('bad input names the flag: empty element, unknown value, a list where none is allowed, a repeated value', () => {
    const refuse = (values: Record<string, string>, pattern: RegExp) =>
      assert.throws(
        () => gridFromFlags(values),
        (e: Error) => e instanceof UsageError && pattern.test(e.message),
      );
    refuse({ loss: 'ce,' }, /--loss has an empty value in its list 'ce,'/);
    refuse({ loss: 'ce,hinge' }, /--loss must be one of .*got 'hinge'/);
    refuse({ lambda: '10,ten' }, /--lambda expects a number, got 'ten'/);
    refuse({ 'data-dir': 'a,b' }, /--data-dir cannot be a list/);
    refuse({ 'model-seed': '1,1' }, /--model-seed lists a value twice/);
  });

  it('image-folder flags: --image-size is an axis, --grey and --skip-bad go to every cell', () => {
    const cells = expandGrid(
      gridFromFlags({ dataset: 'folder', 'data-dir': 'imgs', 'image-size': '16,32', grey: true, 'skip-bad': true } as never),
    );
    assert.deepEqual(
      cells.map((c) => c.config.imageSize),
      [16, 32],
    );
    assert.ok(cells.every((c) => c.config.grey && c.config.skipBad && c.flags.grey === true && c.flags['skip-bad'] === true));
  });

  it('a different grid: each differing flag named with both values', () => {
    const a = gridFromFlags({ loss: 'ce,fbl', lambda: '10,30', epochs: '3' });
    const b = gridFromFlags({ loss: 'ce,fbl', lambda: '10', arch: 'resnet20' });
    assert.deepEqual(gridDifferences(a, b), [
      "--arch: not given there, 'resnet20' here",
      "--epochs: '3' there, not given here",
      "--lambda: '10,30' there, '10' here",
    ]);
    assert.deepEqual(gridDifferences(a, gridFromFlags({ epochs: '3', lambda: '10,30', loss: 'ce,fbl' })), []);
  });
});
