// A seeded xorshift32 generator (Marsaglia, "Xorshift RNGs", 2003): the same pseudo-random
// 32-bit values on every run, for stand-in hashes in the bench and the tests. Pure.

/** The generator's next unsigned 32-bit value each call, from `seed` (non-zero). */
export function xorshift32(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
