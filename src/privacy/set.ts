// The compact set of a source's suppressed ids: 64-bit HMAC prefixes, split by their top bits
// into 2^bits shards, each a sorted run of 8-byte big-endian values (one KV value). Pure.
//
// In an isolate a shard is a Uint32Array of (hi, lo) word pairs, searched by bisection: 8 bytes
// an id, so 1,000,000 suppressed ids take 8,000,000 bytes, and a lookup is ~20 comparisons.

import type { Hash64 } from './hash';
import { SUPPRESSION_HASH_BYTES, SUPPRESSION_SHARD_MAX_IDS } from './limits';

// Ours: 2^16 shards of 32,768 ids hold 2 billion ids; the bound keeps shard keys few.
export const SHARD_BITS_MAX = 16;

/** How many top bits pick a shard for a set of `count` ids: every shard ≤ the cap on average. */
export function shardBits(count: number): number {
  let bits = 0;
  while (bits < SHARD_BITS_MAX && count > SUPPRESSION_SHARD_MAX_IDS * 2 ** bits) bits += 1;
  return bits;
}

export function shardOf(hi: number, bits: number): number {
  return bits === 0 ? 0 : hi >>> (32 - bits);
}

/**
 * The hex bounds of shard `shard` of 2^bits, [from, to) in the 16-hex-digit order the registry
 * keeps ids in (`to` undefined for the last shard).
 */
export function shardRange(shard: number, bits: number): { from: string; to: string | undefined } {
  const start = (n: number): string =>
    ((n * 2 ** (32 - bits)) >>> 0).toString(16).padStart(8, '0') + '00000000';
  const last = shard === 2 ** bits - 1;
  return { from: start(shard), to: last ? undefined : start(shard + 1) };
}

/** A shard's KV value: each hash as 8 bytes, big-endian, in ascending order. */
export function encodeShard(sorted: readonly Hash64[]): Uint8Array {
  const out = new Uint8Array(sorted.length * SUPPRESSION_HASH_BYTES);
  const view = new DataView(out.buffer);
  sorted.forEach((h, i) => {
    view.setUint32(i * 8, h.hi);
    view.setUint32(i * 8 + 4, h.lo);
  });
  return out;
}

/** A shard as read from KV, as (hi, lo) word pairs; undefined when it is not a whole number. */
export function decodeShard(buffer: ArrayBuffer): Uint32Array | undefined {
  if (buffer.byteLength % SUPPRESSION_HASH_BYTES !== 0) return undefined;
  const view = new DataView(buffer);
  const words = new Uint32Array(buffer.byteLength / 4);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4);
  return words;
}

/** Whether the sorted pairs in `words` hold (hi, lo). */
export function shardHas(words: Uint32Array, hi: number, lo: number): boolean {
  let low = 0;
  let high = words.length / 2;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const h = words[mid * 2] as number;
    const l = words[mid * 2 + 1] as number;
    if (h < hi || (h === hi && l < lo)) low = mid + 1;
    else if (h === hi && l === lo) return true;
    else high = mid;
  }
  return false;
}

/** One source's suppressed ids as an isolate holds them. */
export interface SuppressionSet {
  bits: number;
  /** Per shard, its pairs; an empty shard is an empty array. */
  shards: readonly Uint32Array[];
}

export function setHas(set: SuppressionSet, h: Hash64): boolean {
  const shard = set.shards[shardOf(h.hi, set.bits)];
  return shard !== undefined && shardHas(shard, h.hi, h.lo);
}

/** Bytes the set's shards take in memory. */
export function setBytes(set: SuppressionSet): number {
  return set.shards.reduce((n, s) => n + s.byteLength, 0);
}
