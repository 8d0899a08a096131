// Which sources an isolate considers watched: arming, expiry, and at most one lookup per 10 s.
import { describe, expect, it } from 'vitest';
import { DEBUGGER_ARM_DEFAULT_SECONDS, DEBUGGER_WATCH_REFRESH_MS } from '../../src/debugger/limits';
import { armSeconds } from '../../src/debugger/settings';
import { armWatch, parseWatchList, WatchState } from '../../src/debugger/watch';

const T = 1_800_000_000_000;

describe('WatchState', () => {
  it('watches an armed source until its expiry, not after', () => {
    const w = new WatchState();
    expect(w.isWatched('web', T)).toBe(false);
    w.arm('web', T + 600_000);
    expect(w.isWatched('web', T)).toBe(true);
    expect(w.isWatched('web', T + 599_999)).toBe(true);
    expect(w.isWatched('web', T + 600_000)).toBe(false);
    expect(w.isWatched('other', T)).toBe(false);
    expect(w.until('web')).toBe(T + 600_000);
    expect(w.until('other')).toBe(0);
  });

  it('lets one request look the list up per refresh interval, and none while one is under way', () => {
    const w = new WatchState();
    expect(w.claimLookup(T)).toBe(true);
    expect(w.claimLookup(T + 1)).toBe(false); // under way
    w.looked({}, T + 5);
    expect(w.claimLookup(T + DEBUGGER_WATCH_REFRESH_MS - 1)).toBe(false); // too soon
    expect(w.claimLookup(T + DEBUGGER_WATCH_REFRESH_MS)).toBe(true);
    w.looked(undefined, T + DEBUGGER_WATCH_REFRESH_MS); // failed: retried after the interval
    expect(w.claimLookup(T + DEBUGGER_WATCH_REFRESH_MS + 1)).toBe(false);
    expect(w.claimLookup(T + 2 * DEBUGGER_WATCH_REFRESH_MS)).toBe(true);
  });

  it('takes armings from a lookup and keeps its own that the shared copy lacks', () => {
    const w = new WatchState();
    w.arm('local', T + 60_000);
    w.claimLookup(T);
    w.looked({ remote: T + 30_000, stale: T - 1 }, T);
    expect(w.watched(T).sort()).toEqual(['local', 'remote']);
    // A later lookup that no longer lists `remote` does not cut it short: armings only expire.
    w.claimLookup(T + DEBUGGER_WATCH_REFRESH_MS);
    w.looked({}, T + DEBUGGER_WATCH_REFRESH_MS);
    expect(w.isWatched('remote', T + 20_000)).toBe(true);
    expect(w.isWatched('remote', T + 30_000)).toBe(false);
  });
});

describe('armWatch', () => {
  it('extends, never shortens, and drops what expired', () => {
    const list = { web: T + 100, old: T - 1 };
    expect(armWatch(list, 'web', T + 50, T)).toEqual({ web: T + 100 });
    expect(armWatch(list, 'web', T + 500, T)).toEqual({ web: T + 500 });
    expect(armWatch(list, 'ios', T + 10, T)).toEqual({ web: T + 100, ios: T + 10 });
  });
});

describe('parseWatchList', () => {
  it.each([
    [null, {}],
    [[1], {}],
    [{ web: 5, 'bad name': 5, ios: 'soon', android: Infinity }, { web: 5 }],
  ])('keeps source names with finite times from %j', (input, expected) => {
    expect(parseWatchList(input)).toEqual(expected);
  });
});

describe('armSeconds', () => {
  it.each([
    [undefined, DEBUGGER_ARM_DEFAULT_SECONDS],
    ['', DEBUGGER_ARM_DEFAULT_SECONDS],
    ['120', 120],
    ['59', DEBUGGER_ARM_DEFAULT_SECONDS],
    ['1.5', DEBUGGER_ARM_DEFAULT_SECONDS],
    ['86400', 86_400],
    ['86401', DEBUGGER_ARM_DEFAULT_SECONDS],
  ])('reads DEBUGGER_ARM_SECONDS=%j as %d', (value, seconds) => {
    expect(armSeconds(value)).toBe(seconds);
  });
});
