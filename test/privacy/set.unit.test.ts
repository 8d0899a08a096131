import { describe, expect, it } from 'vitest';
import type { Hash64 } from '../../src/privacy/hash';
import { SUPPRESSION_SHARD_MAX_IDS } from '../../src/privacy/limits';
import {
  decodeShard,
  encodeShard,
  setBytes,
  setHas,
  shardBits,
  shardOf,
  shardRange,
  type SuppressionSet,
} from '../../src/privacy/set';
import { xorshift32 } from '../../bench/xorshift';

function compare(a: Hash64, b: Hash64): number {
  return a.hi - b.hi || a.lo - b.lo;
}

/** `n` pseudo-random 64-bit hashes (xorshift32, seeded): stand-ins for HMAC prefixes. */
function hashes(n: number, seed = 1): Hash64[] {
  const next = xorshift32(seed);
  return Array.from({ length: n }, () => ({ hi: next(), lo: next() }));
}

/** The set the registry would publish for `all`, as an isolate decodes it. */
function buildSet(all: Hash64[]): SuppressionSet {
  const bits = shardBits(all.length);
  const byShard: Hash64[][] = Array.from({ length: 2 ** bits }, () => []);
  for (const h of all) byShard[shardOf(h.hi, bits)]?.push(h);
  const shards = byShard.map((list) => {
    const words = decodeShard(encodeShard(list.sort(compare)).buffer);
    if (words === undefined) throw new Error('a shard did not decode');
    return words;
  });
  return { bits, shards };
}

describe('shardBits', () => {
  it('is the fewest top bits keeping shards within the cap', () => {
    expect(shardBits(0)).toBe(0);
    expect(shardBits(SUPPRESSION_SHARD_MAX_IDS)).toBe(0);
    expect(shardBits(SUPPRESSION_SHARD_MAX_IDS + 1)).toBe(1);
    expect(shardBits(1_000_000)).toBe(5);
  });
});

describe('shardRange', () => {
  it('bounds each shard in the hex order the registry keeps ids in', () => {
    expect(shardRange(0, 0)).toEqual({ from: '0000000000000000', to: undefined });
    expect(shardRange(0, 1)).toEqual({ from: '0000000000000000', to: '8000000000000000' });
    expect(shardRange(1, 1)).toEqual({ from: '8000000000000000', to: undefined });
    expect(shardRange(3, 5)).toEqual({ from: '1800000000000000', to: '2000000000000000' });
  });
});

describe('encodeShard / decodeShard', () => {
  it('round-trips big-endian pairs and refuses a torn value', () => {
    const list = [
      { hi: 1, lo: 2 },
      { hi: 0xffffffff, lo: 0xfffffffe },
    ];
    const bytes = encodeShard(list);
    expect([...bytes.slice(0, 8)]).toEqual([0, 0, 0, 1, 0, 0, 0, 2]);
    expect([...(decodeShard(bytes.buffer) ?? [])]).toEqual([1, 2, 0xffffffff, 0xfffffffe]);
    expect(decodeShard(new ArrayBuffer(7))).toBeUndefined();
  });
});

describe('setHas', () => {
  it('finds every member and no other, at 1,000,000 ids in 8,000,000 bytes', () => {
    const members = hashes(1_000_000, 7);
    const set = buildSet(members);
    expect(set.bits).toBe(5);
    expect(set.shards).toHaveLength(32);
    expect(setBytes(set)).toBe(8_000_000);
    for (let i = 0; i < members.length; i += 997) {
      expect(setHas(set, members[i] as Hash64)).toBe(true);
    }
    // Another seed's hashes: a 64-bit collision with a member has odds of ~1e-9 in all.
    const strangers = hashes(10_000, 99);
    expect(strangers.filter((h) => setHas(set, h))).toEqual([]);
  }, 60_000);

  it('finds nothing in an empty set', () => {
    expect(setHas(buildSet([]), { hi: 0, lo: 0 })).toBe(false);
  });
});
