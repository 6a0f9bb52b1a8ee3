// NormedLinear: LDAM-DRW's cosine classifier, its parameter layout and init.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as wt from '../../src/index.js';
import { randomValues } from '../util/backends.js';

describe('nn.NormedLinear', () => {
  before(() => wt.init({ backend: 'wasm' }));

  it("has one parameter 'weight' of shape [in, out] (the reference's layout), columns of unit norm", () => {
    const layer = new wt.nn.NormedLinear(64, 10, new wt.nn.InitRng(123));
    const state = layer.stateDict();
    assert.deepEqual([...state.keys()], ['weight']);
    assert.deepEqual(state.get('weight')!.shape, [64, 10]);
    const w = layer.weight.toFloat32Array();
    for (let j = 0; j < 10; j++) {
      let sq = 0;
      for (let i = 0; i < 64; i++) sq += w[i * 10 + j] ** 2;
      assert.ok(Math.abs(Math.sqrt(sq) - 1) < 1e-6, `column ${j} has norm ${Math.sqrt(sq)}`);
    }
    assert.ok(w.some((v) => v < 0) && w.some((v) => v > 0));
  });

  it('outputs the cosine between each feature and each class column; zero features give 0, not NaN', () => {
    const n = 3,
      d = 5,
      c = 4;
    const layer = new wt.nn.NormedLinear(d, c, new wt.nn.InitRng(7));
    const xv = randomValues(n * d, 9, -2, 2);
    xv.fill(0, 2 * d);
    const out = layer.forward(wt.tensor(xv, [n, d])).toFloat32Array();
    const w = layer.weight.toFloat32Array();
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < c; j++) {
        let dot = 0,
          xx = 0,
          ww = 0;
        for (let k = 0; k < d; k++) {
          dot += xv[i * d + k] * w[k * c + j];
          xx += xv[i * d + k] ** 2;
          ww += w[k * c + j] ** 2;
        }
        const cos = dot / Math.sqrt(xx * ww);
        assert.ok(Math.abs(out[i * c + j] - cos) < 1e-5, `(${i}, ${j}): ${out[i * c + j]} vs ${cos}`);
      }
    }
    assert.deepEqual(Array.from(out.subarray(2 * c)), [0, 0, 0, 0]);
  });

  it('rejects a mismatched input', () => {
    const layer = new wt.nn.NormedLinear(5, 3, new wt.nn.InitRng(1));
    assert.throws(() => layer.forward(wt.tensor(new Float32Array(8), [2, 4])), /4 features but weight \[5, 3\] expects 5/);
  });
});
