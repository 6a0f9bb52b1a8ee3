import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { classCounts, fnv1a64Int32, imbalanceCounts, indicesByClass, longTailIndices, subsetFingerprint } from '../../src/data/index.js';
import { fixtureLabels, numpyFixtures as fx } from './fixtures.js';

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

test('CIFAR-10-LT and CIFAR-100-LT counts at rho 100, 50, 10 (exp and step)', () => {
  assert.deepEqual(imbalanceCounts(5000, 10, 100, 'exp'), [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]);
  const totals: [number, number, number, 'exp' | 'step', number][] = [
    [5000, 10, 100, 'exp', 12406],
    [5000, 10, 50, 'exp', 13996],
    [5000, 10, 10, 'exp', 20431],
    [500, 100, 100, 'exp', 10847],
    [500, 100, 50, 'exp', 12608],
    [500, 100, 10, 'exp', 19573],
    [5000, 10, 100, 'step', 25250],
    [5000, 10, 50, 'step', 25500],
    [5000, 10, 10, 'step', 27500],
    [500, 100, 100, 'step', 25250],
    [500, 100, 50, 'step', 25500],
    [500, 100, 10, 'step', 27500],
  ];
  for (const [imgMax, c, rho, type, total] of totals) {
    const counts = imbalanceCounts(imgMax, c, rho, type);
    assert.equal(sum(counts), total, `${c} classes rho ${rho} ${type}`);
    assert.equal(counts[0], imgMax);
    assert.equal(counts[c - 1], Math.floor(imgMax / rho));
  }
  assert.deepEqual(imbalanceCounts(500, 100, 100, 'exp').slice(-3), [5, 5, 5]);
});

test('imbalanceCounts equals the reference Python for every fixture case', () => {
  for (const c of fx.imbalanceCounts) {
    assert.deepEqual(
      imbalanceCounts(c.imgMax, c.numClasses, c.imbalanceRatio, c.type),
      c.counts,
      JSON.stringify({ ...c, counts: undefined }),
    );
  }
});

test('imbalanceCounts refuses bad arguments', () => {
  assert.throws(() => imbalanceCounts(500, 11, 10, 'step'), /even number of classes/);
  assert.throws(() => imbalanceCounts(500, 10, 0.5, 'exp'), RangeError);
  assert.throws(() => imbalanceCounts(500, 0, 10, 'exp'), RangeError);
  assert.throws(() => imbalanceCounts(500, 10, 10, 'linear' as 'exp'), /unknown type/);
  assert.deepEqual(imbalanceCounts(7, 1, 10, 'exp'), [7]);
});

test('longTailIndices equals numpy (np.random.seed + one shuffle per class) on synthetic labels', () => {
  for (const c of fx.longTail) {
    const labels = fixtureLabels(c.name, c.numClasses);
    const kept = longTailIndices(labels, c);
    const fp = subsetFingerprint(kept, labels, c.numClasses);
    assert.equal(fp.hash, c.hash, c.name);
    const avail = classCounts(labels, c.numClasses);
    assert.deepEqual(
      fp.perClassCounts,
      c.counts.map((q, k) => Math.min(q, avail[k])),
      c.name,
    );
    let start = 0;
    for (let k = 0; k < c.numClasses; k++) {
      const part = Array.from(kept.subarray(start, start + fp.perClassCounts[k]));
      assert.deepEqual(part.slice(0, 5), c.headPerClass[k], `${c.name} class ${k}`);
      assert.deepEqual(part.slice(-5), c.tailPerClass[k], `${c.name} class ${k}`);
      start += part.length;
    }
    if (c.indices) assert.deepEqual(Array.from(kept), c.indices);
  }
  // CIFAR-shaped labels: exactly the reference counts.
  const cifar10 = fx.longTail[0];
  assert.deepEqual(
    subsetFingerprint(longTailIndices(fixtureLabels(cifar10.name, 10), cifar10), fixtureLabels(cifar10.name, 10), 10).perClassCounts,
    cifar10.counts,
  );
});

test('longTailIndices: class by class, distinct, each class min(quota, available)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 12 }).chain((c) =>
        fc.record({
          numClasses: fc.constant(c),
          labels: fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: 0, maxLength: 300 }),
          imbalanceRatio: fc.integer({ min: 1, max: 200 }),
          type: fc.constantFrom<'exp' | 'step'>('exp', 'step'),
          seed: fc.integer({ min: 0, max: 0xffffffff }),
        }),
      ),
      ({ numClasses, labels, imbalanceRatio, type, seed }) => {
        if (type === 'step' && numClasses % 2 === 1) return;
        const lab = Int32Array.from(labels);
        const opts = { numClasses, imbalanceRatio, type, seed };
        const kept = longTailIndices(lab, opts);
        const quota = imbalanceCounts(lab.length / numClasses, numClasses, imbalanceRatio, type);
        const avail = classCounts(lab, numClasses);
        const fp = subsetFingerprint(kept, lab, numClasses);
        assert.deepEqual(
          fp.perClassCounts,
          quota.map((q, k) => Math.min(q, avail[k])),
        );
        assert.equal(new Set(kept).size, kept.length);
        for (let i = 1; i < kept.length; i++) assert.ok(lab[kept[i - 1]] <= lab[kept[i]], 'class by class');
        assert.equal(fnv1a64Int32(longTailIndices(lab, opts)), fp.hash, 'deterministic');
      },
    ),
    { numRuns: 200 },
  );
});

test('indicesByClass is np.where per class; classCounts refuses out-of-range labels', () => {
  const labels = Int32Array.from([2, 0, 2, 1, 0]);
  assert.deepEqual(
    indicesByClass(labels, 3).map((a) => Array.from(a)),
    [[1, 4], [3], [0, 2]],
  );
  assert.throws(() => classCounts(Int32Array.from([0, 3]), 3), /label 3 at index 1/);
});

function fnv1a64BigInt(values: Int32Array): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) {
    h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  }
  return h.toString(16).padStart(16, '0');
}

test('fnv1a64Int32 (16-bit limbs) equals FNV-1a 64 computed with BigInt', () => {
  assert.equal(fnv1a64Int32(new Int32Array(0)), 'cbf29ce484222325');
  assert.equal(fnv1a64Int32(Int32Array.from([0x61])), fnv1a64BigInt(Int32Array.from([0x61])));
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 50 }), (a) => {
      const v = Int32Array.from(a);
      return fnv1a64Int32(v) === fnv1a64BigInt(v);
    }),
  );
});
