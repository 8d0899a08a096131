import { describe, expect, it } from 'vitest';
import { MetricsBuffer } from '../../src/metrics/buffer';
import {
  FlushScheduler,
  METRICS_FLUSH_DEFAULT_SECONDS,
  METRICS_MAX_UNSENT_FLUSHES,
  flushIntervalMs,
  type FlushBatch,
  type FlushIo,
} from '../../src/metrics/flush';
import { METRICS_SHARDS } from '../../src/metrics/limits';
import { persistDelayMs } from '../../src/metrics/object';
import { ShardCore } from '../../src/metrics/shard';
import { captureErrors } from '../support/console';

const INTERVAL = 10_000;

/** Timers on a virtual clock that moves only when the test advances it. */
function virtualClock() {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((fire) => timers.push({ at: now + ms, fire }));
  const advance = async (ms: number): Promise<void> => {
    const until = now + ms;
    for (;;) {
      const next = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (next === undefined) break;
      now = next.at;
      timers.splice(timers.indexOf(next), 1);
      next.fire();
      // Let the fired flushes run to completion.
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
    now = until;
  };
  return { now: () => now, sleep, advance };
}

function fakeIo(clock: ReturnType<typeof virtualClock>, options: { failSends?: number } = {}) {
  let failures = options.failSends ?? 0;
  const sent: FlushBatch[] = [];
  const io: FlushIo = {
    sleep: clock.sleep,
    send: async (batch) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('Durable Object unavailable');
      }
      sent.push(structuredClone(batch));
    },
  };
  return { io, sent };
}

const retried = (shard: ShardCore): number =>
  shard.state.counters['ndc_segment_events_retried_total'] ?? 0;

describe('flushIntervalMs', () => {
  it('reads METRICS_FLUSH_SECONDS within 1–60 s, defaulting to 10 s', () => {
    expect(flushIntervalMs(undefined)).toBe(METRICS_FLUSH_DEFAULT_SECONDS * 1000);
    expect(flushIntervalMs('1')).toBe(1000);
    expect(flushIntervalMs('0')).toBe(1000);
    expect(flushIntervalMs('600')).toBe(60_000);
    expect(flushIntervalMs('x')).toBe(10_000);
  });
});

describe('FlushScheduler', () => {
  it('coalesces a burst of 1,000 requests into one flush that carries them all', async () => {
    const clock = virtualClock();
    const buffer = new MetricsBuffer();
    const scheduler = new FlushScheduler(buffer, () => 'iso-1');
    const { io, sent } = fakeIo(clock);
    let armed = 0;
    for (let i = 0; i < 1000; i++) {
      buffer.inc('ndc_segment_events_retried_total', {});
      if (scheduler.schedule(io, INTERVAL)) armed += 1;
    }
    expect(armed).toBe(1);
    expect(sent).toHaveLength(0);
    await clock.advance(INTERVAL);
    expect(sent).toHaveLength(1);
    const shard = new ShardCore(0);
    shard.apply(sent[0], clock.now());
    expect(retried(shard)).toBe(1000);
  });

  it('does nothing when there is nothing to send', () => {
    const scheduler = new FlushScheduler(new MetricsBuffer(), () => 'iso-1');
    expect(scheduler.schedule(fakeIo(virtualClock()).io, INTERVAL)).toBeUndefined();
  });

  it('resends a failed flush unchanged with the next one, numbered, so the shard counts it once', async () => {
    const clock = virtualClock();
    const buffer = new MetricsBuffer();
    const scheduler = new FlushScheduler(buffer, () => 'iso-1');
    const errors = captureErrors();
    // The first send fails as seen by the isolate, yet reached the shard (a lost answer).
    const shard = new ShardCore(0);
    let calls = 0;
    const io: FlushIo = {
      sleep: clock.sleep,
      send: async (batch) => {
        calls += 1;
        shard.apply(structuredClone(batch), clock.now());
        if (calls === 1) throw new Error('answer lost');
      },
    };
    buffer.inc('ndc_segment_events_retried_total', {}, 5);
    void scheduler.schedule(io, INTERVAL);
    await clock.advance(INTERVAL);
    // Nothing new was recorded, yet the unsent flush arms the next one.
    expect(scheduler.schedule(io, INTERVAL)).toBeDefined();
    buffer.inc('ndc_segment_events_retried_total', {}, 2);
    await clock.advance(INTERVAL);
    expect(calls).toBe(2);
    expect(retried(shard)).toBe(7);
    expect(errors).toHaveBeenCalledWith('metrics flush failed', 'answer lost');
  });

  it('applies a duplicated flush id once', () => {
    const shard = new ShardCore(0);
    const buffer = new MetricsBuffer();
    buffer.inc('ndc_segment_events_retried_total', {}, 3);
    const batch: FlushBatch = { isolate: 'iso-9', entries: [{ seq: 1, delta: buffer.drain() }] };
    shard.apply(structuredClone(batch), 0);
    shard.apply(structuredClone(batch), 1);
    expect(retried(shard)).toBe(3);
    // Another isolate's sequence 1 is its own.
    shard.apply({ ...structuredClone(batch), isolate: 'iso-10' }, 2);
    expect(retried(shard)).toBe(6);
  });

  it('keeps at most a bounded number of unsent flushes, counting what it drops', async () => {
    const clock = virtualClock();
    const buffer = new MetricsBuffer();
    const scheduler = new FlushScheduler(buffer, () => 'iso-1');
    const { io } = fakeIo(clock, { failSends: 1_000 });
    const errors = captureErrors();
    for (let i = 0; i < METRICS_MAX_UNSENT_FLUSHES + 5; i++) {
      buffer.inc('ndc_segment_events_retried_total', {});
      await scheduler.flushNow(io);
    }
    expect(scheduler.dropped).toBe(5);
    expect(errors).toHaveBeenCalledWith('metrics flush failed', 'Durable Object unavailable');
  });
});

describe('isolates and shards over an hour of traffic', () => {
  it('stays within the request and row budgets whatever the number of isolates', async () => {
    const hour = 3_600_000;
    for (const isolates of [20, 200]) {
      const clock = virtualClock();
      const shards = Array.from({ length: METRICS_SHARDS }, () => new ShardCore(0));
      const requests = new Array<number>(METRICS_SHARDS).fill(0);
      // A shard writes its snapshot (one row) and arms its alarm (one row) at most once per
      // persist delay after a change, however many isolates send.
      const rows = new Array<number>(METRICS_SHARDS).fill(0);
      const alarmAt = new Array<number | undefined>(METRICS_SHARDS).fill(undefined);
      const schedulers = Array.from({ length: isolates }, (_v, i) => {
        const buffer = new MetricsBuffer();
        const scheduler = new FlushScheduler(buffer, () => `iso-${i}`);
        const shard = i % METRICS_SHARDS;
        const io: FlushIo = {
          sleep: clock.sleep,
          send: async (batch) => {
            requests[shard] = (requests[shard] ?? 0) + 1;
            shards[shard]?.apply(structuredClone(batch), clock.now());
            if (alarmAt[shard] === undefined) {
              alarmAt[shard] = clock.now() + persistDelayMs(undefined);
              rows[shard] = (rows[shard] ?? 0) + 1;
            }
          },
        };
        return { buffer, scheduler, io };
      });
      let recorded = 0;
      // Every isolate serves a request every 100 ms.
      for (let t = 0; t < hour; t += 100) {
        for (const s of schedulers) {
          s.buffer.inc('ndc_segment_events_retried_total', {});
          recorded += 1;
          void s.scheduler.schedule(s.io, INTERVAL);
        }
        await clock.advance(100);
        alarmAt.forEach((at, shard) => {
          if (at !== undefined && at <= clock.now()) {
            shards[shard]?.snapshot(clock.now());
            rows[shard] = (rows[shard] ?? 0) + 1;
            alarmAt[shard] = undefined;
          }
        });
      }
      await clock.advance(INTERVAL * 2);
      const total = shards.reduce((n, s) => n + retried(s), 0);
      // Exact: every count arrived once.
      expect(total).toBe(recorded);
      const perShardPerSecond = Math.max(...requests) / (hour / 1000);
      // One flush per isolate per interval at most.
      expect(perShardPerSecond).toBeLessThanOrEqual(
        (Math.ceil(isolates / METRICS_SHARDS) / (INTERVAL / 1000)) * 1.01,
      );
      // Rows: two per persist delay per shard at most, the same for 20 isolates as for 200.
      expect(Math.max(...rows)).toBeLessThanOrEqual((2 * hour) / persistDelayMs(undefined) + 2);
    }
  }, 120_000);
});
