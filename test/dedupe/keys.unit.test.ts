import { describe, expect, it } from 'vitest';
import { planGate } from '../../src/dedupe/gate';
import { keysOf, shardOf, shardOfEvent, writeKey } from '../../src/dedupe/keys';

const uuid = (i: number): string =>
  `${i.toString(16).padStart(8, '0')}-7d2e-4c1a-9b3f-${(i * 2654435761).toString(16).padStart(12, '0').slice(-12)}`;

describe('writeKey', () => {
  it('gives the same key for the same source and messageId, every time', () => {
    const a = keysOf([['web', 'm-1']]);
    const b = keysOf([['web', 'm-1']]);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('scopes a messageId by its source', () => {
    const k = keysOf([
      ['web', 'm-1'],
      ['ios', 'm-1'],
    ]);
    expect([k[0], k[1]]).not.toEqual([k[2], k[3]]);
  });

  it('tells apart pairs whose concatenation is the same', () => {
    const k = keysOf([
      ['ab', 'c'],
      ['a', 'bc'],
    ]);
    expect([k[0], k[1]]).not.toEqual([k[2], k[3]]);
  });

  it('has no collision among 200,000 UUID-like ids of one source', () => {
    const out = new Uint32Array(2);
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      writeKey('web', uuid(i), out, 0);
      seen.add(`${out[0]}:${out[1]}`);
    }
    expect(seen.size).toBe(200_000);
  });
});

describe('shardOf', () => {
  it('spreads keys evenly over the shards (each within 5% of its share)', () => {
    const shards = 12;
    const counts = new Array<number>(shards).fill(0);
    const out = new Uint32Array(2);
    const n = 120_000;
    for (let i = 0; i < n; i++) {
      writeKey('web', uuid(i), out, 0);
      const s = shardOf(out[0] ?? 0, shards);
      counts[s] = (counts[s] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c - n / shards)).toBeLessThan((n / shards) * 0.05);
  });
});

describe('shardOfEvent', () => {
  it("is the shard the consumer's gate asks for the same key, which picks the ingest queue", () => {
    for (let i = 0; i < 200; i++) {
      const id = uuid(i);
      const plan = planGate(
        [{ index: 0, token: 't', attempt: 't:1', source: 'web', ids: [id] }],
        12,
      );
      expect([...plan.requests.keys()]).toEqual([shardOfEvent('web', id, 12)]);
    }
  });
});
