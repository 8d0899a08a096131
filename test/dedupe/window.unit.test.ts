import { describe, expect, it } from 'vitest';
import { ABSENT, COMMITTED, KeyTable, KeyWindow, PENDING } from '../../src/dedupe/window';

// A deterministic stream of well-spread 32-bit words.
function words(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

describe('KeyTable', () => {
  it('finds every key it holds and none it does not, across growth', () => {
    const next = words(1);
    const table = new KeyTable();
    const keys: Array<[number, number]> = Array.from({ length: 20_000 }, () => [next(), next()]);
    for (const [hi, lo] of keys) table.set(hi, lo, COMMITTED);
    expect(table.size).toBe(20_000);
    expect(keys.every(([hi, lo]) => table.get(hi, lo) === COMMITTED)).toBe(true);
    const other = words(2);
    for (let i = 0; i < 1000; i++) expect(table.get(other(), other())).toBe(ABSENT);
  });

  it('changes a key state in place without adding a key', () => {
    const table = new KeyTable();
    table.set(1, 2, PENDING);
    table.set(1, 2, COMMITTED);
    expect([table.size, table.get(1, 2)]).toEqual([1, COMMITTED]);
  });

  it('keeps every other key findable after deletions inside probe runs', () => {
    const next = words(3);
    const table = new KeyTable(64);
    // Keys crowded into few home slots: low words in a narrow range collide.
    const keys: Array<[number, number]> = Array.from({ length: 40 }, (_v, i) => [next(), i * 1000]);
    for (const [hi, lo] of keys) table.set(hi, lo, COMMITTED);
    const removed = keys.filter((_k, i) => i % 3 === 0);
    for (const [hi, lo] of removed) expect(table.delete(hi, lo)).toBe(true);
    for (const [i, [hi, lo]] of keys.entries()) {
      expect(table.get(hi, lo)).toBe(i % 3 === 0 ? ABSENT : COMMITTED);
    }
    expect(table.size).toBe(keys.length - removed.length);
    expect(table.delete(removed[0]?.[0] ?? 0, removed[0]?.[1] ?? 0)).toBe(false);
  });

  it('costs at most 15 bytes a key once compacted', () => {
    const next = words(4);
    const table = new KeyTable();
    for (let i = 0; i < 100_000; i++) table.set(next(), next(), COMMITTED);
    table.compact();
    expect(table.bytes / table.size).toBeLessThanOrEqual(15);
  });
});

describe('KeyWindow', () => {
  const HOUR = 3_600_000;

  it('remembers a key for at least the window and forgets it by 1.25 windows', () => {
    const w = new KeyWindow(HOUR, 5, 1e9);
    w.set(7, 9, COMMITTED, 0);
    // Other keys keep generations rolling as time passes.
    for (let t = 0; t <= 1.3 * HOUR; t += 60_000) {
      w.set(t, 1, COMMITTED, t);
      w.expire(t);
      const state = w.find(7, 9).state;
      if (t <= HOUR) expect(state).toBe(COMMITTED);
      if (t >= 1.25 * HOUR + 60_000) expect(state).toBe(ABSENT);
    }
  });

  it('drops the oldest generation early rather than growing past maxKeys', () => {
    const w = new KeyWindow(HOUR, 5, 1000);
    for (let i = 0; i < 3000; i++) w.set(i, i, COMMITTED, i * 1000);
    expect(w.size).toBeLessThanOrEqual(1000);
    expect(w.droppedEarly).toBeGreaterThan(0);
    expect(w.find(2999, 2999).state).toBe(COMMITTED);
  });
});
