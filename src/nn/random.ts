/**
 * A small seeded RNG for weight initialisation (mulberry32 + Box-Muller).
 * Weight init needs reproducibility from a seed, not numpy's exact stream.
 */
export class InitRng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** He et al. 2015, fan-in mode, gain sqrt(2): torch.nn.init.kaiming_normal_'s default. */
export function kaimingNormal(shape: readonly number[], rng: InitRng): Float32Array {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * std);
}

/** torch.nn.Linear's default bias init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function uniformFanIn(length: number, fanIn: number, rng: InitRng): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length }, () => (rng.uniform() * 2 - 1) * bound);
}
