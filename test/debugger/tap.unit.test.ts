// The debugger's tap on the ingest path, with its I/O faked: what an unwatched source costs
// (nothing but one lookup per 10 s), arming and expiry, batching and sampling.
import { describe, expect, it } from 'vitest';
import { newTrace, type IngestTrace } from '../../src/debugger/capture';
import {
  DEBUGGER_FLUSH_INTERVAL_MS,
  DEBUGGER_SAMPLE_EVENTS_PER_SECOND,
  DEBUGGER_WATCH_REFRESH_MS,
} from '../../src/debugger/limits';
import type { CaptureBatch } from '../../src/debugger/outbox';
import { DebuggerTap, type Invocation, type TapIo } from '../../src/debugger/tap';
import type { WatchList } from '../../src/debugger/watch';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { ingestSingle } from '../../src/segment/ingest';
import { VALID_CALLS } from '../fixtures/calls';

const T = 1_800_000_000_000;

interface Fake {
  clock: number;
  shared: WatchList;
  /** Calls of the io factory: a request that does no I/O never makes one. */
  ioMade: number;
  lookups: number;
  sent: Array<{ source: string; batch: CaptureBatch }>;
  pending: Array<Promise<unknown>>;
  invocation: Invocation;
  io: () => TapIo;
  settle(): Promise<void>;
}

function fake(): Fake {
  const f: Fake = {
    clock: T,
    shared: {},
    ioMade: 0,
    lookups: 0,
    sent: [],
    pending: [],
    invocation: { waitUntil: (p) => void f.pending.push(p) },
    io: () => {
      f.ioMade += 1;
      return {
        now: () => f.clock,
        // The time passes after whatever runs synchronously now (the rest of a burst).
        sleep: (ms) =>
          new Promise((resolve) =>
            setTimeout(() => {
              f.clock += ms;
              resolve();
            }, 0),
          ),
        lookup: async () => {
          f.lookups += 1;
          return { ...f.shared };
        },
        send: async (source, batch) => {
          f.sent.push({ source, batch });
        },
      };
    },
    async settle() {
      while (f.pending.length > 0) await Promise.all(f.pending.splice(0));
    },
  };
  return f;
}

function tapOf(f: Fake, metrics?: MetricsBuffer): DebuggerTap {
  return new DebuggerTap(() => f.clock, metrics);
}

/** A track call accepted and queued for `source`. */
function accepted(source: string, id: string): IngestTrace {
  const raw = { ...VALID_CALLS.track, messageId: id };
  const queued = ingestSingle(
    raw,
    'track',
    { receivedAt: T },
    {
      source,
      anonymizeIp: false,
      newId: () => 'x',
    },
  );
  if (!queued.ok) throw new Error(queued.error.message);
  return {
    ...newTrace(T),
    source,
    single: { raw, pathType: 'track' },
    outcome: { accepted: [queued.value], rejected: [] },
    queued: true,
  };
}

describe('DebuggerTap', () => {
  it('captures nothing of an unwatched source and does no I/O beyond one lookup per 10 s', async () => {
    const f = fake();
    const tap = tapOf(f);
    // 1,000 requests over 25 s: one lookup at the start, then one each 10 s; nothing sent.
    for (let i = 0; i < 1000; i++) {
      f.clock = T + i * 25;
      tap.capture(accepted('web', `m-${i}`), f.invocation, f.io);
      await f.settle();
    }
    await f.settle();
    expect(f.lookups).toBe(3);
    expect(f.ioMade).toBe(3);
    expect(f.sent).toEqual([]);
    expect(tap.outbox.sends).toBe(0);
  });

  it('captures nothing of a request that never got a source (a bad write key)', async () => {
    const f = fake();
    const tap = tapOf(f);
    tap.arm('web', T + 60_000);
    const trace = accepted('web', 'm-1');
    delete trace.source;
    tap.capture(trace, f.invocation, f.io);
    await f.settle();
    expect(f.ioMade).toBe(0);
  });

  it('captures a source armed in this isolate at once', async () => {
    const f = fake();
    const tap = tapOf(f);
    tap.capture(accepted('web', 'before'), f.invocation, f.io); // the first lookup: nothing watched
    await f.settle();
    tap.arm('web', T + 60_000);
    tap.capture(accepted('web', 'after'), f.invocation, f.io);
    tap.capture(accepted('ios', 'other source'), f.invocation, f.io);
    await f.settle();
    expect(f.sent.map((s) => [s.source, s.batch.events.map((e) => e.messageId)])).toEqual([
      ['web', ['after']],
    ]);
  });

  it('learns an arming made elsewhere at its next lookup, and decides that request after it', async () => {
    const f = fake();
    const tap = tapOf(f);
    tap.capture(accepted('web', 'unwatched'), f.invocation, f.io);
    await f.settle();
    f.shared = { web: T + 120_000 }; // armed by a page served by another isolate
    f.clock = T + DEBUGGER_WATCH_REFRESH_MS - 1;
    tap.capture(accepted('web', 'not yet known'), f.invocation, f.io);
    f.clock = T + DEBUGGER_WATCH_REFRESH_MS;
    tap.capture(accepted('web', 'learnt'), f.invocation, f.io); // this one looks up
    await f.settle();
    expect(f.lookups).toBe(2);
    expect(f.sent.flatMap((s) => s.batch.events.map((e) => e.messageId))).toEqual(['learnt']);
  });

  it('stops capturing when the arming expires', async () => {
    const f = fake();
    const tap = tapOf(f);
    tap.capture(accepted('web', 'lookup'), f.invocation, f.io);
    await f.settle();
    tap.arm('web', T + 5_000);
    f.clock = T + 4_999;
    tap.capture(accepted('web', 'in time'), f.invocation, f.io);
    f.clock = T + 5_000;
    tap.capture(accepted('web', 'too late'), f.invocation, f.io);
    await f.settle();
    expect(f.sent.flatMap((s) => s.batch.events.map((e) => e.messageId))).toEqual(['in time']);
  });

  it('sends a watched burst in one call per second, sampled to 100 events/s', async () => {
    const f = fake();
    const metrics = new MetricsBuffer();
    const tap = tapOf(f, metrics);
    tap.capture(accepted('web', 'lookup'), f.invocation, f.io);
    await f.settle();
    tap.arm('web', T + 600_000);
    // 1,000 requests within one second, then the flushes run.
    for (let i = 0; i < 1000; i++) tap.capture(accepted('web', `m-${i}`), f.invocation, f.io);
    await f.settle();
    const events = f.sent.reduce((n, s) => n + s.batch.events.length, 0);
    const skipped = f.sent.reduce((n, s) => n + s.batch.skipped, 0);
    expect(f.sent.length).toBeLessThanOrEqual(2);
    expect(events).toBe(DEBUGGER_SAMPLE_EVENTS_PER_SECOND);
    expect(skipped).toBe(1000 - DEBUGGER_SAMPLE_EVENTS_PER_SECOND);
    expect(f.clock - T).toBeLessThanOrEqual(DEBUGGER_FLUSH_INTERVAL_MS);
    const delta = metrics.drain();
    expect(JSON.stringify(delta)).toContain('ndc_segment_debugger_events_captured_total');
    expect(JSON.stringify(delta)).toContain('ndc_segment_debugger_events_skipped_total');
  });
});
