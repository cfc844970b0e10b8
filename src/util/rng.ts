/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna, 2018), seeded through
 * splitmix32. Every random choice dlt makes (initial weights, validation split,
 * shuffling, dropout masks, generated datasets) draws from an Rng derived from the
 * config's seed and a stream name, so the streams do not disturb each other: adding
 * dropout does not change the initial weights, and the same seed gives the same run.
 *
 * The state is four 32-bit words, exposed by toState()/fromState() for snapshots.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: readonly number[]) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v >>> 0) as [number, number, number, number];
  }

  /** A generator for `stream` (e.g. "init", "shuffle") under `seed`. */
  static derive(seed: number, stream: string): Rng {
    // Fold the seed (up to 2^53) and the stream name into one 32-bit word, then expand
    // it with splitmix32 so that nearby seeds give unrelated states.
    let h = 0x811c9dc5 ^ (seed >>> 0);
    h = Math.imul(h ^ Math.floor(seed / 0x100000000), 0x01000193) >>> 0;
    for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
    const state: number[] = [];
    let x = h;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      state.push((z ^ (z >>> 16)) >>> 0);
    }
    if (!state.some((v) => v !== 0)) state[0] = 1; // the all-zero state is a fixed point
    return new Rng(state);
  }

  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new Error(`bad RNG state ${JSON.stringify(state)}: expected four 32-bit unsigned integers`);
    }
    return new Rng(state);
  }

  toState(): number[] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Restore a state in place, so that every holder of this generator sees it (resume). */
  setState(state: readonly number[]): void {
    const restored = Rng.fromState(state);
    [this.s0, this.s1, this.s2, this.s3] = restored.toState() as [number, number, number, number];
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!(n > 0 && n <= 0x100000000)) throw new Error(`nextInt: n must be in (0, 2^32], got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n); // largest multiple of n that fits
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /** Standard normal sample (Box–Muller; one pair of uniforms per sample, so no hidden cache). */
  normal(): number {
    const u1 = 1 - this.nextFloat(); // (0, 1]: log is finite
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle(a: Uint32Array | Int32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
