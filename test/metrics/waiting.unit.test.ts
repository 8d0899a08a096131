import { describe, expect, it } from 'vitest';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { renderPrometheus } from '../../src/metrics/exposition';
import { evaluateHealth } from '../../src/metrics/health';
import { applyDelta, emptyState, mergeStates } from '../../src/metrics/state';
import { summarizeWaiting, withWaitingGauges, type WaitingChange } from '../../src/metrics/waiting';

const NOW = 1_800_000_000; // Unix seconds
const STALE = 300 + 120;

/** A metrics state holding the given changes, each recorded at its own time (Unix seconds). */
function stateOf(
  changes: Array<[at: number, change: WaitingChange]>,
): ReturnType<typeof emptyState> {
  const b = new MetricsBuffer();
  for (const [at, change] of changes) b.waiting(change, at);
  return applyDelta(emptyState(), b.drain());
}

const change = (
  kind: WaitingChange['kind'],
  events: number,
  queuedAt = (NOW - 100) * 1000,
  reason: WaitingChange['reason'] = 'credentials',
): WaitingChange => ({ reason, kind, events, queuedAt });

describe('summarizeWaiting', () => {
  it('counts events entered less those left, and how long the oldest has waited', () => {
    const state = stateOf([
      [NOW - 90, change('entered', 40)],
      [NOW - 80, change('entered', 10, (NOW - 500) * 1000)],
      [NOW - 10, change('left', 15)],
      [NOW - 5, change('seen', 10, (NOW - 500) * 1000)],
    ]);
    const s = summarizeWaiting(state.waiting, NOW, STALE);
    expect(s.events.credentials).toBe(35);
    expect(s.events.dedupe).toBe(0);
    expect(s.blockedSeconds).toBe(500);
    expect(s.active).toEqual([{ reason: 'credentials', events: 35, oldestQueuedAt: NOW - 500 }]);
  });

  it('adds up across isolates and shards, whichever order their counts arrive in', () => {
    const left = stateOf([[NOW - 10, change('left', 5)]]);
    const entered = stateOf([[NOW - 20, change('entered', 5)]]);
    expect(
      summarizeWaiting(mergeStates([left, entered]).waiting, NOW, STALE).events.credentials,
    ).toBe(0);
  });

  it('forgets what was not seen within a retry delay: counts lost with an isolate leave no phantom', () => {
    // Entered, but the isolate that acked it died before its counts were sent.
    const state = stateOf([[NOW - STALE - 1, change('entered', 7)]]);
    const s = summarizeWaiting(state.waiting, NOW, STALE);
    expect(s.events.credentials).toBe(0);
    expect(s.blockedSeconds).toBe(0);
  });

  it('ignores a reason it does not know and numbers that are not counts', () => {
    const state = applyDelta(emptyState(), {
      waiting: {
        bogus: { hours: { '0': [1, 0, NOW] }, seen: {} },
        dedupe: { hours: { '0': [-1, 0, NOW], x: [1, 0, NOW] }, seen: { '1': 'a' } },
      },
    });
    expect(summarizeWaiting(state.waiting, NOW, STALE).active).toEqual([]);
  });
});

describe('the waiting gauges', () => {
  it('are exposed for every reason, 0 when nothing waits', () => {
    const state = stateOf([[NOW - 5, change('entered', 3, (NOW - 42) * 1000, 'dedupe')]]);
    const text = renderPrometheus(
      withWaitingGauges(state, summarizeWaiting(state.waiting, NOW, STALE)),
    );
    expect(text).toContain('ndc_segment_delivery_waiting_events{reason="dedupe"} 3');
    expect(text).toContain('ndc_segment_delivery_waiting_events{reason="credentials"} 0');
    expect(text).toContain('ndc_segment_delivery_blocked_seconds 42');
  });

  it('turn /health red, saying why, while events are held back', () => {
    const state = stateOf([[NOW - 5, change('entered', 3, (NOW - 42) * 1000)]]);
    const waiting = summarizeWaiting(state.waiting, NOW, STALE);
    const health = evaluateHealth(state, { messages: 0 }, NOW * 1000, 300, undefined, {
      waiting,
      retryCapSeconds: 300,
      dedupeWindowSeconds: 3600,
    });
    expect(health.status).toBe('fail');
    expect(health.checks.waiting).toMatchObject({
      status: 'fail',
      events: 3,
      oldestWaitSeconds: 42,
    });
    expect(health.checks.waiting.output).toContain('IAM policy');
    expect(health.checks.waiting.output).toContain('within 300 s');
    const cleared = stateOf([
      [NOW - 5, change('entered', 3)],
      [NOW - 1, change('left', 3)],
    ]);
    const after = evaluateHealth(cleared, { messages: 0 }, NOW * 1000, 300, undefined, {
      waiting: summarizeWaiting(cleared.waiting, NOW, STALE),
      retryCapSeconds: 300,
      dedupeWindowSeconds: 3600,
    });
    expect(after.checks.waiting.status).toBe('pass');
  });
});

describe('the dedupe check', () => {
  it("is red while a source's window was shortened within the last window, naming it", () => {
    const b = new MetricsBuffer();
    b.inc('ndc_segment_dedupe_evictions_total', { source: 'web' }, 1_000);
    b.max('ndc_segment_last_dedupe_eviction_timestamp_seconds', { source: 'web' }, NOW - 60);
    b.max('ndc_segment_last_dedupe_eviction_timestamp_seconds', { source: 'ios' }, NOW - 7200);
    const state = applyDelta(emptyState(), b.drain());
    const health = evaluateHealth(state, { messages: 0 }, NOW * 1000, 300, undefined, {
      retryCapSeconds: 300,
      dedupeWindowSeconds: 3600,
    });
    expect(health.checks.dedupe.status).toBe('fail');
    expect(health.checks.dedupe.sources).toEqual([
      {
        source: 'web',
        lastEviction: new Date((NOW - 60) * 1000).toISOString(),
        keysForgotten: 1_000,
      },
    ]);
    expect(health.checks.dedupe.output).toContain('web');
  });
});
