// The ring buffer of a source's last events: capacity, order, filters.
import { describe, expect, it } from 'vitest';
import type { CapturedEvent } from '../../src/debugger/capture';
import { DEBUGGER_RING_EVENTS } from '../../src/debugger/limits';
import { EventRing } from '../../src/debugger/ring';

function event(n: number, status: CapturedEvent['status'] = 'accepted'): CapturedEvent {
  return {
    receivedAt: '2026-11-29T10:00:00.000Z',
    status,
    source: 'web',
    type: 'track',
    event: `E${n}`,
    messageId: `m-${n}`,
    error: status === 'rejected' ? { code: 'missing_field', message: 'x', field: '.event' } : null,
    payload: { n },
    truncated: false,
    bytes: 8,
  };
}

const ids = (events: Array<{ messageId: string | null }>): Array<string | null> =>
  events.map((e) => e.messageId);

describe('EventRing', () => {
  it('numbers events in arrival order and lists them newest first', () => {
    const ring = new EventRing();
    const added = ring.push([event(1), event(2)]);
    ring.push([event(3)]);
    expect(added.map((e) => e.seq)).toEqual([1, 2]);
    expect(ids(ring.newest())).toEqual(['m-3', 'm-2', 'm-1']);
    expect(ring.newest().map((e) => e.seq)).toEqual([3, 2, 1]);
  });

  it(`keeps the last ${DEBUGGER_RING_EVENTS} events, dropping the oldest`, () => {
    const ring = new EventRing();
    for (let i = 1; i <= DEBUGGER_RING_EVENTS + 37; i++) ring.push([event(i)]);
    const newest = ring.newest();
    expect(ring.size).toBe(DEBUGGER_RING_EVENTS);
    expect(newest).toHaveLength(DEBUGGER_RING_EVENTS);
    expect(newest[0]?.messageId).toBe(`m-${DEBUGGER_RING_EVENTS + 37}`);
    expect(newest.at(-1)?.messageId).toBe('m-38');
    // Strictly newest first all the way round the ring.
    const seqs = newest.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
  });

  it('filters by status and stops at the limit', () => {
    const ring = new EventRing(10);
    ring.push([event(1), event(2, 'rejected'), event(3), event(4, 'rejected'), event(5)]);
    expect(ids(ring.newest('rejected'))).toEqual(['m-4', 'm-2']);
    expect(ids(ring.newest('accepted', 2))).toEqual(['m-5', 'm-3']);
    expect(ids(ring.newest('all', 1))).toEqual(['m-5']);
  });

  it('restores what it stored, oldest first, and numbers on after the newest', () => {
    const ring = new EventRing(3);
    ring.push([event(1), event(2), event(3), event(4)]);
    const stored = ring.oldestFirst();
    expect(ids(stored)).toEqual(['m-2', 'm-3', 'm-4']);
    const again = new EventRing(3);
    again.restore(stored);
    expect(ids(again.newest())).toEqual(['m-4', 'm-3', 'm-2']);
    expect(again.push([event(5)])[0]?.seq).toBe(5);
    expect(ids(again.newest())).toEqual(['m-5', 'm-4', 'm-3']);
  });
});
