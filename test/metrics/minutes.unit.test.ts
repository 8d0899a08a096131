// The status page's per-minute ring: bounded in minutes and sources, merged exactly (counts add,
// the longest lag wins), read from RPC and storage as untrusted, and framed as the last hour.
import { describe, expect, it } from 'vitest';
import {
  addMinute,
  mergeMinutes,
  MINUTE_MS,
  minuteOf,
  STATUS_FIELDS,
  STATUS_MAX_SOURCES,
  STATUS_MINUTES,
  statusSeries,
  type MinuteCounts,
} from '../../src/metrics/minutes';

const NOW = Date.parse('2026-11-29T10:30:20.000Z');
const M = minuteOf(NOW);

describe('addMinute', () => {
  it('adds counts and lag sums, and keeps the longest lag', () => {
    const ring: MinuteCounts = {};
    addMinute(ring, M, 'web', { received: 3, delivered: 2, lagSumSeconds: 4, lagMaxSeconds: 3 });
    addMinute(ring, M, 'web', { received: 1, rejected: 2, lagSumSeconds: 1, lagMaxSeconds: 1 });
    addMinute(ring, M, 'web', { deadLettered: 5 });
    expect(ring[String(M)]?.['web']).toEqual([4, 2, 2, 5, 5, 3]);
  });

  it(`keeps the newest ${STATUS_MINUTES} minutes`, () => {
    const ring: MinuteCounts = {};
    for (let m = 0; m < STATUS_MINUTES + 15; m++) addMinute(ring, M - m, 'web', { received: 1 });
    const minutes = Object.keys(ring).map(Number);
    expect(minutes).toHaveLength(STATUS_MINUTES);
    expect(Math.min(...minutes)).toBe(M - STATUS_MINUTES + 1);
  });

  it(`keeps at most ${STATUS_MAX_SOURCES} sources a minute; those it has keep counting`, () => {
    const ring: MinuteCounts = {};
    for (let s = 0; s < STATUS_MAX_SOURCES + 5; s++) addMinute(ring, M, `s${s}`, { received: 1 });
    addMinute(ring, M, 's0', { received: 1 });
    const sources = ring[String(M)] ?? {};
    expect(Object.keys(sources)).toHaveLength(STATUS_MAX_SOURCES);
    expect(sources['s0']?.[0]).toBe(2);
    expect(sources[`s${STATUS_MAX_SOURCES}`]).toBeUndefined();
  });

  it('ignores negative, non-finite counts and a minute that is not one', () => {
    const ring: MinuteCounts = {};
    addMinute(ring, M, 'web', { received: -1 });
    addMinute(ring, M, 'web', { delivered: Number.NaN });
    addMinute(ring, 1.5, 'web', { received: 1 });
    expect(ring).toEqual({});
  });

  it('reads a source named like an inherited property as a source, and drops __proto__', () => {
    const ring: MinuteCounts = {};
    addMinute(ring, M, 'constructor', { received: 2 });
    addMinute(ring, M, '__proto__', { received: 3 });
    expect(Object.keys(ring[String(M)] ?? {})).toEqual(['constructor']);
    expect(Object.getPrototypeOf(ring[String(M)])).toBe(Object.prototype);
    const { sources } = statusSeries(ring, NOW, ['toString', '__proto__']);
    expect(Object.keys(sources)).toEqual(['constructor', 'toString']);
    expect(sources['constructor']?.received.at(-1)).toBe(2);
    expect(sources['toString']?.received.at(-1)).toBe(0);
  });
});

describe('mergeMinutes', () => {
  it('sums rings of several shards exactly', () => {
    const a: MinuteCounts = {};
    const b: MinuteCounts = {};
    addMinute(a, M, 'web', { received: 10, lagMaxSeconds: 2 });
    addMinute(b, M, 'web', { received: 5, lagMaxSeconds: 7 });
    addMinute(b, M - 1, 'ios', { delivered: 1 });
    const merged = mergeMinutes(mergeMinutes({}, a), structuredClone(b));
    expect(merged[String(M)]?.['web']).toEqual([15, 0, 0, 0, 0, 7]);
    expect(merged[String(M - 1)]?.['ios']).toEqual([0, 1, 0, 0, 0, 0]);
  });

  it.each<[string, unknown]>([
    ['not an object', 'ring'],
    ['a minute that is not a number', { soon: { web: [1, 0, 0, 0, 0, 0] } }],
    ['a row of the wrong length', { [M]: { web: [1, 0] } }],
    ['a negative count', { [M]: { web: [-1, 0, 0, 0, 0, 0] } }],
    ['a count that is not a number', { [M]: { web: ['1', 0, 0, 0, 0, 0] } }],
    ['a source name longer than a label value', { [M]: { ['w'.repeat(200)]: [1, 0, 0, 0, 0, 0] } }],
  ])('skips %s', (_what, from) => {
    expect(mergeMinutes({}, from)).toEqual({});
  });
});

describe('statusSeries', () => {
  const ring: MinuteCounts = {};
  addMinute(ring, M, 'web', { received: 7, delivered: 4, lagSumSeconds: 10, lagMaxSeconds: 4 });
  addMinute(ring, M - 59, 'web', { rejected: 2 });
  addMinute(ring, M - 60, 'web', { received: 1000 });
  addMinute(ring, M - 3, 'gone', { deadLettered: 1 });
  const series = statusSeries(ring, NOW, ['web', 'ios']);

  it('frames the last 60 minutes, oldest first, ending with the current one', () => {
    expect(series.minutes).toHaveLength(STATUS_MINUTES);
    expect(series.minutes.at(-1)).toBe('2026-11-29T10:30:00.000Z');
    expect(series.minutes[0]).toBe(new Date((M - 59) * MINUTE_MS).toISOString());
  });

  it('gives every configured source and any other counted in the hour, sorted', () => {
    expect(Object.keys(series.sources)).toEqual(['gone', 'ios', 'web']);
    expect(series.sources['ios']?.received).toEqual(new Array(STATUS_MINUTES).fill(0));
    expect(series.sources['gone']?.deadLettered.at(-4)).toBe(1);
  });

  it('places counts at their minute and leaves out the minute before the hour', () => {
    const web = series.sources['web'];
    expect(web?.received.at(-1)).toBe(7);
    expect(web?.received.reduce((a, b) => a + b, 0)).toBe(7);
    expect(web?.rejected[0]).toBe(2);
  });

  it('gives the mean and the longest lag of delivered events, null where none landed', () => {
    const web = series.sources['web'];
    expect(web?.lagSeconds.at(-1)).toBe(2.5);
    expect(web?.lagMaxSeconds.at(-1)).toBe(4);
    expect(web?.lagSeconds[0]).toBeNull();
  });

  it('holds one number per field for each source and minute', () => {
    expect(STATUS_FIELDS).toHaveLength(6);
    for (const s of Object.values(series.sources)) {
      for (const values of Object.values(s)) expect(values).toHaveLength(STATUS_MINUTES);
    }
  });
});
