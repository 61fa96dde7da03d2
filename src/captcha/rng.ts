/**
 * Seeded randomness for the generator. lepture/captcha 0.7.1 draws from `secrets` (OS entropy,
 * not seedable); we keep its three primitives and call order but draw them from sfc32, a small,
 * fast, well-tested 128-bit PRNG, seeded through the cyrb128 string hash. The same seed therefore
 * gives the same images on every machine and in every worker.
 */

/** A seed: any integer or string. Strings and numbers are hashed, so `1` and `'1'` are the same seed. */
export type Seed = number | string;

/** The three primitives the generator draws from (lepture's `secrets` calls). */
export interface RandomSource {
  /** Uniform integer in `[0, n)`, `1 <= n <= 2^32` (Python `secrets.randbelow`). */
  randbelow(n: number): number;
  /** Uniform float in `[0, 1)` with 32-bit resolution: `randbits(32) / 2**32`. */
  random(): number;
  /** `seq[randbelow(seq.length)]` (Python `secrets.choice`). */
  choice<T>(seq: readonly T[]): T;
}

/** A seeded source; also gives the raw 32-bit draws. */
export interface Rng extends RandomSource {
  /** 32 uniform bits as an unsigned integer (Python `secrets.randbits(32)`). */
  randbits32(): number;
}

const TWO_POW_32 = 4294967296;

/** cyrb128: 128 bits of well-mixed state from a string (public-domain hash by bryc). */
function cyrb128(str: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

function checkSeed(seed: Seed): string {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) {
      throw new Error(`seed must be a safe integer or a string, got ${seed}; pass e.g. 42 or 'my-run'`);
    }
    return String(seed);
  }
  if (typeof seed === 'string') return seed;
  throw new Error(`seed must be a number or a string, got ${typeof seed}`);
}

class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: Seed) {
    [this.a, this.b, this.c, this.d] = cyrb128(checkSeed(seed));
    // The usual sfc32 warm-up: mixes the hashed state before the first output is used.
    for (let i = 0; i < 15; i++) this.randbits32();
  }

  randbits32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  random(): number {
    return this.randbits32() / TWO_POW_32;
  }

  randbelow(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= TWO_POW_32)) {
      throw new Error(`randbelow(n) needs an integer 1 <= n <= 2^32, got ${n}`);
    }
    // Rejection keeps the result exactly uniform (like Python's _randbelow): draws at or above
    // the largest multiple of n are discarded; at most half are, and for n <= 256 almost none.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const r = this.randbits32();
      if (r < limit) return r % n;
    }
  }

  choice<T>(seq: readonly T[]): T {
    if (seq.length === 0) throw new Error('choice() needs a non-empty sequence');
    return seq[this.randbelow(seq.length)];
  }
}

/** A seeded random source: same seed, same sequence, on every platform. */
export function createRng(seed: Seed): Rng {
  return new Sfc32(seed);
}

/**
 * The seed of item `index` of a run seeded with `seed`: image i of a dataset, or of a stream, is
 * drawn from `createRng(deriveSeed(seed, i))`, so it can be regenerated alone and does not depend
 * on how many workers made the others.
 */
export function deriveSeed(seed: Seed, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new Error(`index must be a non-negative integer, got ${index}`);
  }
  return `${checkSeed(seed)}#${index}`;
}
