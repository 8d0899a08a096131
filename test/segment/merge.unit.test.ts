import { describe, expect, it } from 'vitest';
import { mergeUnder } from '../../src/segment/merge';

describe('mergeUnder', () => {
  it('keeps the item value where both set a key', () => {
    expect(mergeUnder({ a: 1, b: 2 }, { b: 3 })).toEqual({ a: 1, b: 3 });
  });

  it('merges nested objects so batch-level fields survive beside the item', () => {
    const batch = { library: { name: 'analytics-node', version: '3.1.0' }, locale: 'en' };
    const item = { library: { version: '3.2.0' }, page: { path: '/' } };
    expect(mergeUnder(batch, item)).toEqual({
      library: { name: 'analytics-node', version: '3.2.0' },
      locale: 'en',
      page: { path: '/' },
    });
  });

  it('lets an item replace an object with a scalar, and never mutates inputs', () => {
    const batch = { library: { name: 'x' } };
    const item = { library: 'custom' };
    expect(mergeUnder(batch, item)).toEqual({ library: 'custom' });
    expect(batch).toEqual({ library: { name: 'x' } });
    expect(item).toEqual({ library: 'custom' });
  });

  it('treats a __proto__ key from JSON as data, not as a prototype', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<
      string,
      unknown
    >;
    const merged = mergeUnder({ b: 2 }, hostile);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.stringify(merged)).toBe('{"b":2,"__proto__":{"polluted":true},"a":1}');
  });

  it('stops merging below the depth limit instead of recursing without bound', () => {
    let deepA: Record<string, unknown> = { leaf: 'a' };
    let deepB: Record<string, unknown> = { leaf: 'b' };
    for (let i = 0; i < 100; i++) {
      deepA = { n: deepA };
      deepB = { n: deepB };
    }
    const merged = mergeUnder(deepA, deepB);
    expect(JSON.stringify(merged)).toContain('"leaf":"b"');
  });
});
