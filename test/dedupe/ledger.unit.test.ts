import { describe, expect, it } from 'vitest';
import { keysOf } from '../../src/dedupe/keys';
import { DedupeLedger, DUPLICATE, HELD, SEND } from '../../src/dedupe/ledger';

const WINDOW = 3_600_000;
const LEASE = 120_000;
const ledger = (): DedupeLedger => new DedupeLedger({ windowMs: WINDOW, leaseMs: LEASE });
const k = (...ids: string[]): Uint32Array => keysOf(ids.map((id) => ['web', id] as const));
const verdicts = (v: Uint8Array): number[] => Array.from(v);

describe('DedupeLedger', () => {
  it('sends a new key and drops every later copy once it is committed', () => {
    const l = ledger();
    expect(verdicts(l.reserve(k('a', 'b'), 'm1', 0))).toEqual([SEND, SEND]);
    l.commit(k('a', 'b'), 10);
    expect(verdicts(l.reserve(k('a', 'b', 'c'), 'm2', 20))).toEqual([DUPLICATE, DUPLICATE, SEND]);
  });

  it('drops a redelivery of the owner itself once its key is committed', () => {
    const l = ledger();
    l.reserve(k('a'), 'm1', 0);
    l.commit(k('a'), 10);
    expect(verdicts(l.reserve(k('a'), 'm1', 20))).toEqual([DUPLICATE]);
  });

  it("sends the owner's retry of a key it reserved but never committed", () => {
    const l = ledger();
    l.reserve(k('a'), 'm1', 0);
    expect(verdicts(l.reserve(k('a'), 'm1', 5_000))).toEqual([SEND]);
    // Even after the lease: its earlier attempt failed, its event must still land.
    expect(verdicts(l.reserve(k('a'), 'm1', LEASE * 10))).toEqual([SEND]);
  });

  it('holds back another copy while the reservation is fresh, drops it after the lease', () => {
    const l = ledger();
    l.reserve(k('a'), 'm1', 0);
    expect(verdicts(l.reserve(k('a'), 'm2', LEASE - 1))).toEqual([HELD]);
    expect(verdicts(l.reserve(k('a'), 'm2', LEASE + 1))).toEqual([DUPLICATE]);
  });

  it("lets the next copy through once the owner's delivery is released", () => {
    const l = ledger();
    l.reserve(k('a'), 'm1', 0);
    l.release(k('a'), 'm1');
    expect(verdicts(l.reserve(k('a'), 'm2', 10))).toEqual([SEND]);
    // The released owner, back from a replay, is now the copy held back.
    expect(verdicts(l.reserve(k('a'), 'm1', 20))).toEqual([HELD]);
  });

  it('ignores a release by a token that does not own the key, and of committed keys', () => {
    const l = ledger();
    l.reserve(k('a', 'b'), 'm1', 0);
    l.commit(k('b'), 1);
    l.release(k('a', 'b'), 'other');
    l.release(k('b'), 'm1');
    expect(verdicts(l.reserve(k('a', 'b'), 'm2', 2))).toEqual([HELD, DUPLICATE]);
  });

  it('applies commits, then releases, then reservations in one call', () => {
    const l = ledger();
    l.reserve(k('a', 'b'), 'm1', 0);
    const answer = l.apply(
      {
        commit: [k('a')],
        release: [{ token: 'm1', keys: k('b') }],
        reserve: [
          { token: 'm2', keys: k('a', 'b') },
          { token: 'm3', keys: k('b', 'c') },
        ],
      },
      5,
    );
    expect(verdicts(answer.verdicts)).toEqual([DUPLICATE, SEND, HELD, SEND]);
    expect(answer.keys).toBe(3);
  });

  it('forgets committed keys after the window (within 1.25 windows)', () => {
    const l = ledger();
    l.reserve(k('a'), 'm1', 0);
    l.commit(k('a'), 0);
    // Traffic on other keys keeps the generations turning over.
    for (let t = 60_000; t <= 1.3 * WINDOW; t += 60_000)
      l.apply({ commit: [k(`x${t}`)], release: [], reserve: [] }, t);
    expect(verdicts(l.reserve(k('a'), 'm2', 1.3 * WINDOW))).toEqual([SEND]);
  });

  it('hands over committed keys for storage once, and restores them as committed', () => {
    const l = ledger();
    l.commit(k('a', 'b'), 0);
    const stored = l.takeUnpersisted();
    expect(stored.length).toBe(4);
    expect(l.takeUnpersisted().length).toBe(0);
    const restarted = ledger();
    restarted.restore(stored, 0);
    expect(verdicts(restarted.reserve(k('a', 'b', 'c'), 'm9', 10))).toEqual([
      DUPLICATE,
      DUPLICATE,
      SEND,
    ]);
  });

  it('forgets the oldest owners past its bound, letting their keys through rather than dropping', () => {
    const l = new DedupeLedger({ windowMs: WINDOW, leaseMs: LEASE, maxPendingOwners: 2 });
    l.reserve(k('a'), 'm1', 0);
    l.reserve(k('b'), 'm2', 0);
    l.reserve(k('c'), 'm3', 0);
    expect(l.pendingOwners).toBe(2);
    // c's owner is remembered; a's is forgotten, so another copy of a passes (a possible
    // duplicate, never a loss).
    expect(verdicts(l.reserve(k('c', 'a'), 'm4', 1))).toEqual([HELD, SEND]);
  });
});
