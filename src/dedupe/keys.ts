// Dedupe keys: a (source, messageId) pair hashed to 64 bits, and the shard that keeps it. Pure.
//
// The hash is a two-lane multiply-rotate over the UTF-16 code units with murmur3's 32-bit
// finaliser on each lane. It is not cryptographic: a source could only collide with keys whose
// messageIds it knows, and those are random UUIDs in every official SDK. With 64 bits and
// 3,000,000 keys in a shard, the chance that one new key matches a remembered one by accident is
// 3e6 / 2^64 ≈ 1.6e-13: at 10,000 events/s, one false duplicate every ~20,000 years.

const MULTIPLIER_A = 0x9e3779b1;
const MULTIPLIER_B = 0x85ebca77;

function finalise(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Writes the 64-bit key of (source, messageId) into `out` at `offset` (hi, then lo). */
export function writeKey(
  source: string,
  messageId: string,
  out: Uint32Array,
  offset: number,
): void {
  let a = 0x2545f491;
  let b = 0x6c8e9cf5;
  const mix = (c: number): void => {
    a = Math.imul(a ^ c, MULTIPLIER_A);
    a = (a << 13) | (a >>> 19);
    b = Math.imul(b ^ c, MULTIPLIER_B);
    b = (b << 17) | (b >>> 15);
  };
  for (let i = 0; i < source.length; i++) mix(source.charCodeAt(i));
  // A separator no source name holds, so ("ab", "c") and ("a", "bc") differ.
  mix(0xffff);
  for (let i = 0; i < messageId.length; i++) mix(messageId.charCodeAt(i));
  a ^= source.length;
  b ^= messageId.length;
  const hi = finalise((a + Math.imul(b, 5)) | 0);
  const lo = finalise(b ^ Math.imul(hi, 0x27d4eb2f));
  out[offset] = hi;
  out[offset + 1] = lo;
}

/** The shard of a key, from its high word (tables inside a shard index by the low word). */
export function shardOf(hi: number, shards: number): number {
  return (hi >>> 0) % shards;
}

const scratch = new Uint32Array(2);

/** The shard that keeps the key of (source, messageId). */
export function shardOfEvent(source: string, messageId: string, shards: number): number {
  writeKey(source, messageId, scratch, 0);
  return shardOf(scratch[0] ?? 0, shards);
}

/** Keys as a flat array [hi0, lo0, hi1, lo1, …]: cheap to build, send over RPC and store. */
export function keysOf(pairs: ReadonlyArray<readonly [string, string]>): Uint32Array {
  const out = new Uint32Array(pairs.length * 2);
  pairs.forEach(([source, id], i) => writeKey(source, id, out, i * 2));
  return out;
}
