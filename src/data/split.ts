/**
 * The deterministic train/test split: a seeded shuffle of the indices, the first
 * `1 - testFraction` for training. Same (count, fraction, seed) -> same split on every machine.
 */

/** A small, fast, well-mixed 32-bit PRNG (mulberry32), for shuffles only. */
export function shuffleRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle of 0..n-1 (or of `items`), deterministic for a seed. */
export function shuffledIndices(n: number, seed: number): number[] {
  const rand = shuffleRandom(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface Split {
  train: number[];
  test: number[];
}

/** Splits indices 0..count-1 into train and test sets (test = round(count * testFraction)). */
export function splitIndices(count: number, testFraction: number, seed: number): Split {
  if (!Number.isInteger(count) || count < 2) throw new Error(`cannot split ${count} images; need at least 2`);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new Error(`test fraction ${testFraction} must be between 0 and 1 (e.g. 0.1 for 90/10)`);
  }
  const order = shuffledIndices(count, seed);
  const nTest = Math.min(count - 1, Math.max(1, Math.round(count * testFraction)));
  return { train: order.slice(nTest).sort((a, b) => a - b), test: order.slice(0, nTest).sort((a, b) => a - b) };
}
