/**
 * MT19937 with numpy's legacy `RandomState` semantics, bit for bit.
 *
 * - `new MT19937(s)` equals `np.random.seed(s)` for an integer seed
 *   0 <= s < 2^32 (Matsumoto & Nishimura's `init_genrand`, numpy's
 *   `mt19937_seed`), including the reset of the cached Gaussian.
 * - `shuffle(a)` equals the legacy `np.random.shuffle` of a 1-D array:
 *   Fisher-Yates from the end, `j = randomInterval(i)` for i = n-1 .. 1.
 * - `randomInterval(max)` is numpy's `random_interval`: rejection sampling
 *   under the smallest all-ones mask >= max, with one 32-bit word a try when
 *   max <= 0xffffffff and two (high word first) otherwise.
 * - `randomSample()` is `np.random.random_sample()` (53-bit double from two words).
 * - `standardNormal()` is `np.random.standard_normal()` (legacy polar method
 *   with one cached value), to the last bit or two: V8's `Math.log` is not
 *   glibc's, and about 3 % of values differ by <= 4e-16 relative (measured on
 *   100,000 draws). The words consumed, hence the stream after it, are identical.
 *
 * Pure TypeScript, no Node imports: runs in browsers. The state is plain JSON
 * (`getState()` / `setState()`), shaped like numpy's `get_state()` tuple, so a
 * training run can checkpoint it and resume the identical stream.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** JSON-able generator state: numpy's `('MT19937', key, pos, has_gauss, cached_gaussian)`. */
export interface MT19937State {
  kind: 'MT19937';
  /** 624 words of the state vector, each an integer in [0, 2^32). */
  key: number[];
  /** Index of the next word to temper, 0..624 (624: regenerate first). */
  pos: number;
  /** Whether `gauss` holds the second value of the last polar-method pair. */
  hasGauss: boolean;
  gauss: number;
}

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private pos = N;
  private hasGauss = false;
  private gauss = 0;

  /** Seeds like `np.random.seed(seed)`; `seed` must be an integer in [0, 2^32). */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Re-seeds in place, exactly as `np.random.seed(seed)` does. */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1];
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.pos = N;
    this.hasGauss = false;
    this.gauss = 0;
  }

  private generate(): void {
    const mt = this.mt;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** Next raw 32-bit output, an integer in [0, 2^32). */
  nextUint32(): number {
    if (this.pos >= N) this.generate();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform integer in [0, max] (inclusive), numpy's `random_interval`. `max` <= 2^53 - 1. */
  randomInterval(max: number): number {
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`randomInterval: max must be a safe non-negative integer, got ${max}`);
    }
    if (max === 0) return 0;
    if (max <= 0xffffffff) {
      let mask = max;
      mask |= mask >>> 1;
      mask |= mask >>> 2;
      mask |= mask >>> 4;
      mask |= mask >>> 8;
      mask |= mask >>> 16;
      mask >>>= 0;
      let value: number;
      do value = (this.nextUint32() & mask) >>> 0;
      while (value > max);
      return value;
    }
    // 64-bit path: value = (hi << 32 | lo) & mask; the mask's low word is all ones.
    let maskHi = Math.floor(max / 0x100000000);
    maskHi |= maskHi >>> 1;
    maskHi |= maskHi >>> 2;
    maskHi |= maskHi >>> 4;
    maskHi |= maskHi >>> 8;
    maskHi |= maskHi >>> 16;
    let value: number;
    do {
      const hi = this.nextUint32() & maskHi;
      const lo = this.nextUint32();
      value = hi * 0x100000000 + lo;
    } while (value > max);
    return value;
  }

  /** Uniform double in [0, 1) with 53 random bits, `np.random.random_sample()`. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal deviate, numpy's legacy `standard_normal()` (polar method, one cached value). */
  standardNormal(): number {
    if (this.hasGauss) {
      const g = this.gauss;
      this.hasGauss = false;
      this.gauss = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.randomSample() - 1;
      x2 = 2 * this.randomSample() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** In-place legacy `np.random.shuffle` of a 1-D array (any indexable, mutable sequence). */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.randomInterval(i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** `np.random.permutation(n)`: a shuffled `0..n-1`. */
  permutation(n: number): Int32Array {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.shuffle(a);
  }

  /** A deep copy of the state, plain JSON. */
  getState(): MT19937State {
    return { kind: 'MT19937', key: Array.from(this.mt), pos: this.pos, hasGauss: this.hasGauss, gauss: this.gauss };
  }

  /** Restores a state from `getState()` (or numpy's `get_state()` fields); validates it. */
  setState(state: MT19937State): void {
    if (
      state === null ||
      typeof state !== 'object' ||
      state.kind !== 'MT19937' ||
      !Array.isArray(state.key) ||
      state.key.length !== N ||
      !Number.isInteger(state.pos) ||
      state.pos < 0 ||
      state.pos > N ||
      typeof state.hasGauss !== 'boolean' ||
      typeof state.gauss !== 'number'
    ) {
      throw new TypeError('MT19937.setState: expected { kind: "MT19937", key: 624 uint32, pos: 0..624, hasGauss, gauss }');
    }
    for (let i = 0; i < N; i++) {
      const w = state.key[i];
      if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) {
        throw new TypeError(`MT19937.setState: key[${i}] = ${w} is not a uint32`);
      }
      this.mt[i] = w;
    }
    this.pos = state.pos;
    this.hasGauss = state.hasGauss;
    this.gauss = state.gauss;
  }

  /** An independent generator with the same state. */
  clone(): MT19937 {
    const r = new MT19937(0);
    r.setState(this.getState());
    return r;
  }
}
