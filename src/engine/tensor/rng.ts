/**
 * Seeded random streams. Nothing in the engine draws from an ambient RNG: every consumer is handed
 * an {@link Rng}, and independent consumers use named streams forked from one seed, so adding a
 * draw in one place never shifts the numbers another place sees.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/** A stream of pseudo-random numbers. */
export interface Rng {
  /** The seed and stream path this generator was made from (for reports). */
  readonly origin: string;
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1) (Box–Muller). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** out[i] ← mean + std·N(0,1). */
  fillNormal(out: Float32Array, std?: number, mean?: number): Float32Array;
  /** a[i], b[i] ← N(0,1): the numbers of `a[i] = normal(); b[i] = normal()` for i = 0, 1, … (equal lengths). */
  fillNormalPairs(a: Float32Array | Float64Array, b: Float32Array | Float64Array): void;
  /** An independent stream named `name`, determined by (seed, stream path, name) only. */
  fork(name: string): Rng;
}

/** 32-bit FNV-1a of a string, then a splitmix-style finaliser. */
function hash32(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

class StreamRng implements Rng {
  private readonly gen: JumpableRandomGenerator;
  private spare: number | null = null;

  constructor(
    private readonly seed: number,
    private readonly path: string,
  ) {
    this.gen = xoroshiro128plus(hash32(path, hash32(String(seed))));
  }

  get origin(): string {
    return this.path ? `${this.seed}/${this.path}` : String(this.seed);
  }

  uniform(): number {
    return uniformFloat64(this.gen);
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  fillNormal(out: Float32Array, std = 1, mean = 0): Float32Array {
    // The same numbers as calling normal() per entry, drawn a Box–Muller pair at a time (no
    // spare bookkeeping per entry): this is the hot loop of every noising step.
    const n = out.length;
    let i = 0;
    if (this.spare !== null && n > 0) out[i++] = mean + std * this.normal();
    const gen = this.gen;
    for (; i + 1 < n; i += 2) {
      let u = 0;
      while (u === 0) u = uniformFloat64(gen);
      const a = 2 * Math.PI * uniformFloat64(gen);
      const r = Math.sqrt(-2 * Math.log(u));
      out[i] = mean + std * (r * Math.cos(a));
      out[i + 1] = mean + std * (r * Math.sin(a));
    }
    if (i < n) out[i] = mean + std * this.normal();
    return out;
  }

  fillNormalPairs(a: Float32Array | Float64Array, b: Float32Array | Float64Array): void {
    if (a.length !== b.length) throw new RangeError(`fillNormalPairs: lengths ${a.length} and ${b.length} differ`);
    // A pending spare shifts the pairing by one for good: draw entry by entry then.
    if (this.spare !== null) {
      for (let i = 0; i < a.length; i++) {
        a[i] = this.normal();
        b[i] = this.normal();
      }
      return;
    }
    const gen = this.gen;
    for (let i = 0; i < a.length; i++) {
      let u = 0;
      while (u === 0) u = uniformFloat64(gen);
      const t = 2 * Math.PI * uniformFloat64(gen);
      const r = Math.sqrt(-2 * Math.log(u));
      a[i] = r * Math.cos(t);
      b[i] = r * Math.sin(t);
    }
  }

  fork(name: string): Rng {
    return new StreamRng(this.seed, this.path ? `${this.path}/${name}` : name);
  }
}

/**
 * A random stream for `seed` (any safe integer).
 * @param stream - optional stream name; `createRng(s, 'a')` equals `createRng(s).fork('a')`
 */
export function createRng(seed: number, stream = ''): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  return new StreamRng(seed, stream);
}
