import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MT19937, fnv1a64Int32 } from '../../src/data/index.js';
import { numpyFixtures as fx } from './fixtures.js';

test('seeding and raw 32-bit words equal numpy (np.random.seed + randint over uint32)', () => {
  for (const c of fx.rawUint32) {
    const rng = new MT19937(c.seed);
    const st = rng.getState();
    assert.deepEqual(st.key.slice(0, 4), c.key0to3);
    assert.equal(st.key[623], c.key623);
    const words = Array.from({ length: 1300 }, () => rng.nextUint32());
    assert.deepEqual(words.slice(0, 10), c.first, `seed ${c.seed}`);
    assert.deepEqual(words.slice(624, 628), c.at624to627, `seed ${c.seed}`);
    assert.deepEqual(words.slice(1290, 1300), c.at1290to1299, `seed ${c.seed}`);
  }
});

test('shuffle equals the legacy np.random.shuffle bit for bit, and consumes the same words', () => {
  for (const c of fx.shuffle) {
    const rng = new MT19937(c.seed);
    const a = rng.permutation(c.n);
    if (c.perm) assert.deepEqual(Array.from(a), c.perm, `seed ${c.seed} n ${c.n}`);
    assert.deepEqual(Array.from(a.subarray(0, 20)), c.head);
    assert.equal(fnv1a64Int32(a), c.hash, `seed ${c.seed} n ${c.n}`);
    assert.equal(rng.nextUint32(), c.nextUint32, `words consumed, seed ${c.seed} n ${c.n}`);
  }
  // Works on plain arrays too, same result.
  const plain = Array.from({ length: 10 }, (_, i) => i);
  new MT19937(0).shuffle(plain);
  assert.deepEqual(plain, fx.shuffle.find((c) => c.seed === 0 && c.n === 10)!.perm);
});

test('randomSample equals np.random.random_sample exactly', () => {
  for (const c of fx.randomSample) {
    const rng = new MT19937(c.seed);
    assert.deepEqual(
      Array.from({ length: c.values.length }, () => rng.randomSample()),
      c.values,
    );
  }
});

test('standardNormal equals np.random.standard_normal (cached pair included)', () => {
  for (const c of fx.standardNormal) {
    const rng = new MT19937(c.seed);
    const got = Array.from({ length: c.values.length }, () => rng.standardNormal());
    got.forEach((g, i) => {
      assert.ok(Math.abs(g - c.values[i]) <= 1e-15 * Math.abs(c.values[i]), `${g} vs ${c.values[i]}`);
    });
    // 7 normals = 4 pairs: one value is still cached, then the stream continues where numpy's does.
    assert.equal(rng.randomSample(), c.nextSample);
  }
});

test('randomInterval stays in [0, max] on both the 32- and 64-bit paths', () => {
  const rng = new MT19937(5);
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), (max) => {
      const v = rng.randomInterval(max);
      return Number.isInteger(v) && v >= 0 && v <= max;
    }),
  );
  assert.throws(() => rng.randomInterval(-1), RangeError);
  assert.throws(() => rng.randomInterval(1.5), RangeError);
});

test('seed range is checked', () => {
  assert.throws(() => new MT19937(-1), RangeError);
  assert.throws(() => new MT19937(2 ** 32), RangeError);
  assert.throws(() => new MT19937(0.5), RangeError);
});

test('getState / setState round-trip through JSON and resume the identical stream', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 1500 }), (seed, skip) => {
      const a = new MT19937(seed);
      for (let i = 0; i < skip; i++) a.nextUint32();
      a.standardNormal(); // leaves a cached Gaussian in the state
      const b = new MT19937(0);
      b.setState(JSON.parse(JSON.stringify(a.getState())));
      for (let i = 0; i < 5; i++) assert.equal(b.standardNormal(), a.standardNormal());
      for (let i = 0; i < 700; i++) assert.equal(b.nextUint32(), a.nextUint32());
      const c = a.clone();
      assert.equal(c.randomInterval(1000), a.randomInterval(1000));
    }),
    { numRuns: 30 },
  );
  const rng = new MT19937(0);
  assert.throws(() => rng.setState({ ...rng.getState(), key: [1, 2, 3] }), TypeError);
  assert.throws(() => rng.setState({ ...rng.getState(), pos: 625 }), TypeError);
});
