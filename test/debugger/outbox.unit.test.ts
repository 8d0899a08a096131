// Captured events on their way to the source's object: sampling to 100 events/s per source, and
// at most one send per second per source, a burst coalesced.
import { describe, expect, it } from 'vitest';
import { captureErrors } from '../support/console';
import type { CapturedEvent } from '../../src/debugger/capture';
import {
  DEBUGGER_FLUSH_INTERVAL_MS,
  DEBUGGER_SAMPLE_EVENTS_PER_SECOND,
} from '../../src/debugger/limits';
import {
  CaptureOutbox,
  RateSampler,
  type CaptureBatch,
  type OutboxIo,
} from '../../src/debugger/outbox';

const T = 1_800_000_000_000;

function event(n: number): CapturedEvent {
  return {
    receivedAt: '2026-11-29T10:00:00.000Z',
    status: 'accepted',
    source: 'web',
    type: 'track',
    event: 'E',
    messageId: `m-${n}`,
    error: null,
    payload: {},
    truncated: false,
    bytes: 2,
  };
}

/** A clock the test moves; sleeps advance it; sends are recorded with their time. */
function fakeIo(): OutboxIo & {
  clock: number;
  sent: Array<{ at: number; source: string; batch: CaptureBatch }>;
  sleeps: number[];
} {
  const io = {
    clock: T,
    sent: [] as Array<{ at: number; source: string; batch: CaptureBatch }>,
    sleeps: [] as number[],
    now: () => io.clock,
    sleep: async (ms: number) => {
      io.sleeps.push(ms);
      io.clock += ms;
    },
    send: async (source: string, batch: CaptureBatch) => {
      io.sent.push({ at: io.clock, source, batch });
    },
  };
  return io;
}

describe('RateSampler', () => {
  it(`admits the first ${DEBUGGER_SAMPLE_EVENTS_PER_SECOND} events of each second`, () => {
    const s = new RateSampler();
    expect(s.admit(60, T)).toBe(60);
    expect(s.admit(60, T + 500)).toBe(DEBUGGER_SAMPLE_EVENTS_PER_SECOND - 60);
    expect(s.admit(1, T + 999)).toBe(0);
    expect(s.admit(250, T + 1000)).toBe(DEBUGGER_SAMPLE_EVENTS_PER_SECOND);
  });
});

describe('CaptureOutbox', () => {
  it('sends the first capture at once and coalesces what follows within the second', async () => {
    const box = new CaptureOutbox();
    const io = fakeIo();
    box.add('web', [event(1)]);
    const first = box.schedule('web', io);
    expect(first).toBeDefined();
    await first;
    expect(io.sent.map((s) => s.batch.events.length)).toEqual([1]);
    expect(io.sleeps).toEqual([]);

    // Three more requests within the same second: one timer, one send of all three.
    io.clock += 100;
    box.add('web', [event(2)]);
    const second = box.schedule('web', io);
    box.add('web', [event(3)]);
    expect(box.schedule('web', io)).toBeUndefined();
    box.add('web', [event(4)]);
    expect(box.schedule('web', io)).toBeUndefined();
    await second;
    expect(io.sleeps).toEqual([DEBUGGER_FLUSH_INTERVAL_MS - 100]);
    expect(io.sent.map((s) => s.batch.events.map((e) => e.messageId))).toEqual([
      ['m-1'],
      ['m-2', 'm-3', 'm-4'],
    ]);
    expect(io.sent[1]!.at - io.sent[0]!.at).toBe(DEBUGGER_FLUSH_INTERVAL_MS);
    expect(box.sends).toBe(2);
  });

  it('keeps each source to its own batches and its own second', async () => {
    const box = new CaptureOutbox();
    const io = fakeIo();
    box.add('web', [event(1)]);
    box.add('ios', [event(2)]);
    await Promise.all([box.schedule('web', io), box.schedule('ios', io)]);
    expect(io.sent.map((s) => [s.source, s.batch.events.length])).toEqual([
      ['web', 1],
      ['ios', 1],
    ]);
  });

  it('counts what sampling leaves out and carries the count in the next batch', async () => {
    const box = new CaptureOutbox();
    const io = fakeIo();
    const take = box.admit('web', 250, io.now());
    expect(take).toBe(DEBUGGER_SAMPLE_EVENTS_PER_SECOND);
    box.add(
      'web',
      Array.from({ length: take }, (_, i) => event(i)),
    );
    await box.schedule('web', io);
    expect(io.sent[0]?.batch.events).toHaveLength(DEBUGGER_SAMPLE_EVENTS_PER_SECOND);
    expect(io.sent[0]?.batch.skipped).toBe(150);
    // The count is sent once.
    io.clock += DEBUGGER_FLUSH_INTERVAL_MS;
    expect(box.admit('web', 1, io.now())).toBe(1);
    box.add('web', [event(999)]);
    await box.schedule('web', io);
    expect(io.sent[1]?.batch.skipped).toBe(0);
  });

  it('drops a batch whose send fails, counts it, logs it, and goes on', async () => {
    const errors = captureErrors();
    const box = new CaptureOutbox();
    const io = fakeIo();
    io.send = async () => {
      throw new Error('object unreachable');
    };
    box.add('web', [event(1)]);
    await box.schedule('web', io);
    expect(box.failedSends).toBe(1);
    expect(errors).toHaveBeenCalledWith('debugger send failed', 'object unreachable');
    expect(box.schedule('web', io)).toBeUndefined(); // nothing left to send
  });

  it('arms nothing when nothing was captured', () => {
    expect(new CaptureOutbox().schedule('web', fakeIo())).toBeUndefined();
  });
});

describe('CaptureOutbox paced by its object', () => {
  it('waits the interval the object answers, capturing only the last second before the call', async () => {
    const box = new CaptureOutbox();
    const io = fakeIo();
    // The object answers: call again in 30 s (3,000 isolates call it).
    io.send = async (source, batch) => {
      io.sent.push({ at: io.clock, source, batch });
      return 30_000;
    };
    box.admit('web', 1, io.now());
    box.add('web', [event(1)]);
    await box.schedule('web', io);
    expect(io.sent[0]?.batch.sender).toBe(box.sender);
    // Within the next 29 s nothing is captured, only counted.
    io.clock += 10_000;
    expect(box.admit('web', 5, io.now())).toBe(0);
    const next = box.schedule('web', io);
    expect(io.sleeps).toEqual([20_000]);
    // The timer has run the clock to the call; the last second's events are captured.
    expect(box.admit('web', 3, io.now() - 500)).toBe(3);
    box.add('web', [event(2), event(3), event(4)]);
    await next;
    expect(io.sent).toHaveLength(2);
    expect(io.sent[1]?.at).toBe(T + 30_000);
    expect(io.sent[1]?.batch.events).toHaveLength(3);
    expect(io.sent[1]?.batch.skipped).toBe(5);
  });
});
