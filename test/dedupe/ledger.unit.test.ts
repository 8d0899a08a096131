import { describe, expect, it } from 'vitest';
import { keysOf } from '../../src/dedupe/keys';
import {
  DedupeLedger,
  DUPLICATE,
  HELD,
  SEND,
  SEND_COPIED,
  type AttemptKeys,
  type SourceKeys,
} from '../../src/dedupe/ledger';

const WINDOW = 3_600_000;
const LEASE = 120_000;
const ledger = (): DedupeLedger => new DedupeLedger({ windowMs: WINDOW, leaseMs: LEASE });
const k = (...ids: string[]): SourceKeys => ({
  source: 'web',
  keys: keysOf(ids.map((id) => ['web', id] as const)),
});
/** The keys of `ids`, reserved or released by attempt `attempt` of delivery `token`. */
const by = (token: string, ids: string[], attempt = `${token}:1`): AttemptKeys => ({
  ...k(...ids),
  token,
  attempt,
});
const verdicts = (v: Uint8Array): number[] => Array.from(v);

describe('DedupeLedger', () => {
  it('sends a new key and drops every later copy once it is committed', () => {
    const l = ledger();
    expect(verdicts(l.reserve(by('m1', ['a', 'b']), 0))).toEqual([SEND, SEND]);
    l.commit(k('a', 'b'), 10);
    expect(verdicts(l.reserve(by('m2', ['a', 'b', 'c']), 20))).toEqual([
      DUPLICATE,
      DUPLICATE,
      SEND,
    ]);
  });

  it('drops a redelivery of the owner itself once its key is committed', () => {
    const l = ledger();
    l.reserve(by('m1', ['a']), 0);
    l.commit(k('a'), 10);
    expect(verdicts(l.reserve(by('m1', ['a'], 'm1:2'), 20))).toEqual([DUPLICATE]);
  });

  it("sends the owner's retry of a key it reserved but never committed", () => {
    const l = ledger();
    l.reserve(by('m1', ['a']), 0);
    expect(verdicts(l.reserve(by('m1', ['a'], 'm1:2'), 5_000))).toEqual([SEND]);
    // Even after the lease: its earlier attempt failed, its event must still land.
    expect(verdicts(l.reserve(by('m1', ['a'], 'm1:3'), LEASE * 10))).toEqual([SEND]);
  });

  it('holds back another copy while the reservation is fresh, drops it after the lease', () => {
    const l = ledger();
    l.reserve(by('m1', ['a']), 0);
    expect(verdicts(l.reserve(by('m2', ['a']), LEASE - 1))).toEqual([HELD]);
    expect(verdicts(l.reserve(by('m2', ['a']), LEASE + 1))).toEqual([DUPLICATE]);
  });

  it("lets the next copy through once the owner's delivery is released", () => {
    const l = ledger();
    l.reserve(by('m1', ['a']), 0);
    l.release(by('m1', ['a']));
    expect(verdicts(l.reserve(by('m2', ['a']), 10))).toEqual([SEND]);
    // The released owner, back from a replay, is now the copy held back.
    expect(verdicts(l.reserve(by('m1', ['a'], 'm1:2'), 20))).toEqual([HELD]);
  });

  it('ignores a release by a token that does not own the key, and of committed keys', () => {
    const l = ledger();
    l.reserve(by('m1', ['a', 'b']), 0);
    l.commit(k('b'), 1);
    l.release(by('other', ['a', 'b']));
    l.release(by('m1', ['b']));
    expect(verdicts(l.reserve(by('m2', ['a', 'b']), 2))).toEqual([HELD, DUPLICATE]);
  });

  it("ignores a late release from an earlier attempt: the later attempt's reservation stays", () => {
    const l = ledger();
    // Attempt 1 fails; its release waits in another isolate's outbox. Attempt 2 reserves again.
    l.reserve(by('m1', ['a'], 'm1:1'), 0);
    l.reserve(by('m1', ['a'], 'm1:2'), 1_000);
    l.release(by('m1', ['a'], 'm1:1'));
    // A client's second copy is still held back: attempt 2 may be landing it now.
    expect(verdicts(l.reserve(by('c2', ['a']), 2_000))).toEqual([HELD]);
    // Attempt 2's own release does free it.
    l.release(by('m1', ['a'], 'm1:2'));
    expect(verdicts(l.reserve(by('c2', ['a']), 3_000))).toEqual([SEND]);
  });

  it('applies commits, then releases, then reservations in one call', () => {
    const l = ledger();
    l.reserve(by('m1', ['a', 'b']), 0);
    const answer = l.apply(
      {
        commit: [k('a')],
        release: [by('m1', ['b'])],
        reserve: [by('m2', ['a', 'b']), by('m3', ['b', 'c'])],
      },
      5,
    );
    expect(verdicts(answer.verdicts)).toEqual([DUPLICATE, SEND, HELD, SEND]);
    expect(answer.keys).toBe(3);
  });

  it('forgets committed keys after the window (within 1.25 windows)', () => {
    const l = ledger();
    l.reserve(by('m1', ['a']), 0);
    l.commit(k('a'), 0);
    // Traffic on other keys keeps the generations turning over.
    for (let t = 60_000; t <= 1.3 * WINDOW; t += 60_000)
      l.apply({ commit: [k(`x${t}`)], release: [], reserve: [] }, t);
    expect(verdicts(l.reserve(by('m2', ['a']), 1.3 * WINDOW))).toEqual([SEND]);
  });

  it('hands over committed keys for storage once, by source, and restores them as committed', () => {
    const l = ledger();
    l.commit(k('a', 'b'), 0);
    const stored = l.takeUnpersisted();
    expect(stored.map((s) => [s.source, s.keys.length])).toEqual([['web', 4]]);
    expect(l.takeUnpersisted()).toEqual([]);
    const restarted = ledger();
    for (const s of stored) restarted.restore(s.keys, 0, s.source);
    expect(verdicts(restarted.reserve(by('m9', ['a', 'b', 'c']), 10))).toEqual([
      DUPLICATE,
      DUPLICATE,
      SEND,
    ]);
  });

  it('checks keys restored without a source (rows of earlier versions) for every source', () => {
    const l = ledger();
    l.restore(k('a').keys, 0);
    expect(verdicts(l.reserve(by('m1', ['a', 'b']), 10))).toEqual([DUPLICATE, SEND]);
  });

  it('forgets the oldest owners past its bound, letting their keys through rather than dropping', () => {
    const l = new DedupeLedger({ windowMs: WINDOW, leaseMs: LEASE, maxPendingOwners: 2 });
    l.reserve(by('m1', ['a']), 0);
    l.reserve(by('m2', ['b']), 0);
    l.reserve(by('m3', ['c']), 0);
    expect(l.pendingOwners).toBe(2);
    // c's owner is remembered; a's is forgotten, so another copy of a passes (a possible
    // duplicate, never a loss).
    expect(verdicts(l.reserve(by('m4', ['c', 'a']), 1))).toEqual([HELD, SEND]);
  });
});

describe('DedupeLedger forward copies', () => {
  it('tells a later attempt that the copy of a key is queued, after a failed attempt', () => {
    const l = ledger();
    l.reserve(by('m1', ['a', 'b']), 0);
    l.apply({ commit: [], copied: [k('a', 'b')], release: [by('m1', ['a', 'b'])], reserve: [] }, 1);
    expect(verdicts(l.reserve(by('m1', ['a', 'b', 'c'], 'm1:2'), 2))).toEqual([
      SEND_COPIED,
      SEND_COPIED,
      SEND,
    ]);
  });

  it('keeps the copy mark on a reservation kept after a lost answer', () => {
    const l = ledger();
    l.reserve(by('m1', ['a']), 0);
    l.markCopied(k('a'), 1);
    expect(verdicts(l.reserve(by('m1', ['a'], 'm1:2'), 2))).toEqual([SEND_COPIED]);
    // Another copy is still held back, then dropped once committed.
    expect(verdicts(l.reserve(by('c2', ['a']), 3))).toEqual([HELD]);
    l.commit(k('a'), 4);
    expect(verdicts(l.reserve(by('c2', ['a']), 5))).toEqual([DUPLICATE]);
  });
});

describe('DedupeLedger per-source budget', () => {
  const flood = (l: DedupeLedger, source: string, n: number, at: number): void => {
    const ids = Array.from({ length: n }, (_v, i) => `${source}-${at}-${i}`);
    l.apply(
      {
        commit: [{ source, keys: keysOf(ids.map((id) => [source, id] as const)) }],
        release: [],
        reserve: [],
      },
      at,
    );
  };

  it("shortens only the flooding source's window, counting what it forgot", () => {
    const l = new DedupeLedger({ windowMs: WINDOW, leaseMs: LEASE, maxKeys: 1_000 });
    const quiet: SourceKeys = { source: 'ios', keys: keysOf([['ios', 'kept']]) };
    l.apply({ commit: [quiet], release: [], reserve: [] }, 0);
    // `web` sends fresh messageIds far past the shard's budget, over several generations
    // (a generation is a quarter of the window), all within the window.
    for (let g = 0; g < 4; g++) flood(l, 'web', 400, g * (WINDOW / 4));
    expect(l.keys).toBeLessThanOrEqual(1_000);
    const evicted = l.takeEvictions();
    expect(evicted.map((e) => e.source)).toEqual(['web']);
    expect(evicted[0]?.keys).toBeGreaterThan(0);
    // The quiet source's key is still remembered, within its window.
    const again = l.reserve(
      { source: 'ios', keys: keysOf([['ios', 'kept']]), token: 'r', attempt: 'r:1' },
      WINDOW - 1,
    );
    expect(verdicts(again)).toEqual([DUPLICATE]);
  });

  it('forgets even the only generation of a source that floods within one generation', () => {
    const l = new DedupeLedger({ windowMs: WINDOW, leaseMs: LEASE, maxKeys: 500 });
    l.apply(
      { commit: [{ source: 'ios', keys: keysOf([['ios', 'x']]) }], release: [], reserve: [] },
      0,
    );
    flood(l, 'web', 800, 1);
    expect(l.keysOf('ios')).toBe(1);
    expect(l.keysOf('web')).toBe(0);
    expect(l.takeEvictions()).toEqual([{ source: 'web', keys: 800 }]);
  });
});
