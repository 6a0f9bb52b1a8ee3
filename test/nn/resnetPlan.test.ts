// Planned inference (src/nn/resnetPlan.ts): the same logits as model.forward()
// in eval mode for both classifiers, bit for bit from 4 images on (within
// rounding at 1 and 3, where plans keep Winograd F(2,3) on small images);
// close to the float64 reference backend; and once built, runs that allocate
// and free nothing in backend memory, through wasmtail/infer's predict() too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as wt from '../../src/index.js';
import * as inference from '../../src/infer.js';
import { backend, setBackend } from '../../src/backend/current.js';
import type { Backend } from '../../src/backend/backend.js';
import { ReferenceBackend } from '../../src/backend/reference/referenceBackend.js';
import { ResNetInferencePlan } from '../../src/nn/resnetPlan.js';
import { mulberry32, randomFrom } from '../util/close.js';
import { withTrainedBatchNorm } from '../util/batchnorm.js';

type State = Map<string, { shape: readonly number[]; data: Float32Array }>;

function model20(classifier: 'linear' | 'normed', state?: State) {
  const model = wt.nn.resnet20({ numClasses: 7, seed: 3, classifier });
  model.loadStateDict(state ?? withTrainedBatchNorm(model, mulberry32(11)));
  return model.eval();
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/**
 * Counts the backend's alloc() and free() calls while fn runs. The counters
 * call the class's own methods on `this`: under the bounds-checking proxy,
 * which wraps whatever it finds, that is the proxied backend, so the proxy's
 * bookkeeping runs once per call.
 */
function countStorageCalls(fn: () => void): { allocs: number; frees: number } {
  const be = backend();
  assert.ok(!Object.hasOwn(be, 'alloc') && !Object.hasOwn(be, 'free'), 'alloc and free are methods of the backend, not own properties');
  const methods = Object.getPrototypeOf(be) as Backend;
  const counts = { allocs: 0, frees: 0 };
  be.alloc = function (this: Backend, length) {
    counts.allocs++;
    return methods.alloc.call(this, length);
  };
  be.free = function (this: Backend, s) {
    counts.frees++;
    methods.free.call(this, s);
  };
  try {
    fn();
  } finally {
    // The methods live on the prototype (or behind the bounds-checking proxy): drop the own properties set above.
    delete (be as Partial<typeof be>).alloc;
    delete (be as Partial<typeof be>).free;
  }
  return counts;
}

/** predict() and the storage calls it made: it is async only in its signature, so its work runs before it returns the promise. */
async function predictCounted(
  model: inference.LoadedModel,
  x: Float32Array,
): Promise<[inference.Prediction[], { allocs: number; frees: number }]> {
  let result: Promise<inference.Prediction[]> = Promise.resolve([]);
  const calls = countStorageCalls(() => {
    result = inference.predict(model, x);
  });
  return [await result, calls];
}

before(() => wt.init({ threads: 1 }));

describe('ResNet inference plan', () => {
  for (const classifier of ['linear', 'normed'] as const) {
    it(`${classifier} classifier: model.forward()'s logits in eval mode, bit for bit from 4 images on, within rounding at 1 and 3`, () => {
      const model = model20(classifier);
      const rng = mulberry32(5);
      for (const n of [1, 3, 4, 5]) {
        const x = randomFrom(n * 3 * 17 * 17, rng);
        const plan = new ResNetInferencePlan(model, [n, 3, 17, 17]);
        const planned = plan.run(x);
        const forward = wt.noGrad(() => model.forward(wt.tensor(x, [n, 3, 17, 17])).logits.toFloat32Array());
        if (n >= 4) {
          assert.deepEqual(bits(planned), bits(forward), `batch ${n}`);
        } else {
          // Plans of fewer than 4 images keep Winograd F(2,3) on the 9x9 stage, where model.forward() takes F(4,3).
          const scale = Math.max(...Array.from(forward, Math.abs));
          const diff = Math.max(...Array.from(planned, (v, i) => Math.abs(v - forward[i])));
          assert.ok(diff <= 1e-5 * scale, `batch ${n}: logits differ by ${diff} (max |logit| ${scale})`);
        }
        assert.deepEqual(bits(plan.run(x)), bits(planned), `batch ${n}, second run`);
        plan.dispose();
      }
      model.dispose();
    });
  }

  it('agrees with the plan on the float64 reference backend', () => {
    const rng = mulberry32(8);
    const x = randomFrom(2 * 3 * 12 * 12, rng);
    const wasmModel = model20('linear');
    const state = new Map([...wasmModel.stateDict()].map(([name, t]) => [name, { shape: t.shape, data: t.toFloat32Array() }] as const));
    const wasmPlan = new ResNetInferencePlan(wasmModel, [2, 3, 12, 12]);
    const got = wasmPlan.run(x);
    const wasm = backend();
    setBackend(new ReferenceBackend('float64'));
    let want: Float32Array;
    try {
      const refModel = model20('linear', state);
      want = new ResNetInferencePlan(refModel, [2, 3, 12, 12]).run(x);
    } finally {
      setBackend(wasm);
    }
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(got[i] - want[i]) <= 1e-3 + 1e-3 * Math.abs(want[i]), `logit ${i}: ${got[i]} vs ${want[i]}`);
    }
    wasmPlan.dispose();
    wasmModel.dispose();
  });

  it('runs without allocating or freeing backend memory once built, and frees its buffers on dispose', () => {
    const model = model20('normed');
    const x = randomFrom(2 * 3 * 16 * 16, mulberry32(1));
    const inUse = () => backend().describe().heapBytesInUse as number;
    const before = inUse();
    const plan = new ResNetInferencePlan(model, [2, 3, 16, 16]);
    plan.run(x);
    const built = inUse();
    const memory = backend().memoryBytes?.();
    assert.deepEqual(
      countStorageCalls(() => {
        for (let i = 0; i < 5; i++) plan.run(x);
      }),
      { allocs: 0, frees: 0 },
    );
    assert.equal(inUse(), built);
    assert.equal(backend().memoryBytes?.(), memory);
    plan.dispose();
    assert.equal(inUse(), before);
    assert.throws(() => plan.run(x), /disposed/);
    model.dispose();
  });

  it('refuses an input of the wrong size or channel count', () => {
    const model = model20('linear');
    assert.throws(() => new ResNetInferencePlan(model, [1, 1, 8, 8]), /not NCHW with 3 channels/);
    const plan = new ResNetInferencePlan(model, [1, 3, 8, 8]);
    assert.throws(() => plan.run(new Float32Array(10)), /given 10 values, not 192/);
    plan.dispose();
    model.dispose();
  });
});

describe('wasmtail/infer predict() with plans', () => {
  let model: inference.LoadedModel;
  before(async () => {
    const network = model20('linear');
    const state = new Map([...network.stateDict()].map(([name, t]) => [name, { shape: t.shape, data: t.toFloat32Array() }] as const));
    network.dispose();
    model = await inference.loadModel(state, { name: 'plan test' });
  });
  after(() => model.dispose());

  it("gives model.forward()'s logits and, after the first call at a shape, allocates nothing in WASM memory", async () => {
    const x = randomFrom(4 * 3 * 32 * 32, mulberry32(4));
    const first = await inference.predict(model, x);
    const forward = wt.noGrad(() => model.network.forward(wt.tensor(x, [4, 3, 32, 32])).logits.toFloat32Array());
    assert.deepEqual(bits(Float32Array.from(first.flatMap((p) => [...p.logits]))), bits(forward));
    const [again, calls] = await predictCounted(model, x);
    assert.deepEqual(calls, { allocs: 0, frees: 0 });
    assert.deepEqual(
      again.map((p) => p.top1),
      first.map((p) => p.top1),
    );
  });

  it('keeps the plans of the last two shapes and frees them with the model', async () => {
    const inUse = () => backend().describe().heapBytesInUse as number;
    const before = inUse();
    const network = model20('normed');
    const state = new Map([...network.stateDict()].map(([name, t]) => [name, { shape: t.shape, data: t.toFloat32Array() }] as const));
    network.dispose();
    const other = await inference.loadModel(state);
    const images = (n: number) => randomFrom(n * 3 * 32 * 32, mulberry32(n));
    const predictCalls = async (n: number) => (await predictCounted(other, images(n)))[1];
    for (const n of [1, 2, 3]) await predictCalls(n);
    assert.deepEqual(await predictCalls(2), { allocs: 0, frees: 0 }, 'batch 2 kept');
    assert.deepEqual(await predictCalls(3), { allocs: 0, frees: 0 }, 'batch 3 kept');
    assert.ok((await predictCalls(1)).allocs > 0, 'batch 1 was dropped and is planned again');
    other.dispose();
    assert.equal(inUse(), before);
  });
});
