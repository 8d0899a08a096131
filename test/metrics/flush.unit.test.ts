import { describe, expect, it } from 'vitest';
import { MetricsBuffer, type MetricsDelta } from '../../src/metrics/buffer';
import { FlushScheduler, METRICS_FLUSH_INTERVAL_MS, type FlushIo } from '../../src/metrics/flush';
import { captureErrors } from '../support/console';

/** Timers on a virtual clock that moves only when the test advances it. */
function fakeIo(options: { failSends?: number } = {}) {
  let failures = options.failSends ?? 0;
  let clock = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  const sent: MetricsDelta[] = [];
  const io: FlushIo = {
    sleep: (ms) => new Promise<void>((fire) => timers.push({ at: clock + ms, fire })),
    send: async (delta) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('Durable Object unavailable');
      }
      sent.push(structuredClone(delta));
    },
  };
  const advance = async (ms: number): Promise<void> => {
    clock += ms;
    for (const t of timers.filter((t) => t.at <= clock)) {
      timers.splice(timers.indexOf(t), 1);
      t.fire();
    }
    // Let the fired flushes run to completion.
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { io, sent, advance };
}

const total = (sent: MetricsDelta[]): number =>
  sent.reduce((n, d) => n + (d.counters['ndc_segment_events_retried_total'] ?? 0), 0);

describe('FlushScheduler', () => {
  it('coalesces a burst of 1,000 requests into one flush that carries them all', async () => {
    const buffer = new MetricsBuffer();
    const scheduler = new FlushScheduler(buffer);
    const { io, sent, advance } = fakeIo();
    let armed = 0;
    for (let i = 0; i < 1000; i++) {
      buffer.inc('ndc_segment_events_retried_total', {});
      if (scheduler.schedule(io)) armed += 1;
    }
    expect(armed).toBe(1);
    expect(sent).toHaveLength(0);
    await advance(METRICS_FLUSH_INTERVAL_MS);
    expect(sent).toHaveLength(1);
    expect(total(sent)).toBe(1000);
  });

  it('flushes at most once per interval under steady traffic, losing nothing', async () => {
    const buffer = new MetricsBuffer();
    const scheduler = new FlushScheduler(buffer);
    const { io, sent, advance } = fakeIo();
    // 10 seconds of a request every 10 ms.
    for (let t = 0; t < 10_000; t += 10) {
      buffer.inc('ndc_segment_events_retried_total', {});
      // Armed flushes settle as the virtual clock advances below.
      void scheduler.schedule(io);
      await advance(10);
    }
    await advance(METRICS_FLUSH_INTERVAL_MS);
    expect(total(sent)).toBe(1000);
    expect(sent.length).toBeLessThanOrEqual(10_000 / METRICS_FLUSH_INTERVAL_MS + 1);
    expect(sent.length).toBeGreaterThanOrEqual(9);
  });

  it('does nothing when there is nothing to send', () => {
    const scheduler = new FlushScheduler(new MetricsBuffer());
    expect(scheduler.schedule(fakeIo().io)).toBeUndefined();
  });

  it('keeps a delta whose send failed and sends it with the next flush', async () => {
    const buffer = new MetricsBuffer();
    const scheduler = new FlushScheduler(buffer);
    const { io, sent, advance } = fakeIo({ failSends: 1 });
    const errors = captureErrors();
    buffer.inc('ndc_segment_events_retried_total', {}, 5);
    void scheduler.schedule(io);
    await advance(METRICS_FLUSH_INTERVAL_MS);
    expect(sent).toHaveLength(0);
    // Nothing new was recorded, yet the carried delta arms the next flush.
    expect(scheduler.schedule(io)).toBeDefined();
    buffer.inc('ndc_segment_events_retried_total', {}, 2);
    await advance(METRICS_FLUSH_INTERVAL_MS);
    expect(sent).toHaveLength(1);
    expect(total(sent)).toBe(7);
    expect(errors).toHaveBeenCalledWith('metrics flush failed', 'Durable Object unavailable');
  });

  it('flushNow sends immediately', async () => {
    const buffer = new MetricsBuffer();
    const scheduler = new FlushScheduler(buffer);
    const { io, sent } = fakeIo();
    buffer.inc('ndc_segment_events_retried_total', {}, 4);
    await scheduler.flushNow(io);
    expect(total(sent)).toBe(4);
    expect(buffer.isEmpty()).toBe(true);
    expect(scheduler.flushes).toBe(1);
  });
});
