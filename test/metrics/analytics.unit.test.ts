import { describe, expect, it } from 'vitest';
import {
  ANALYTICS_INDEX_MAX_BYTES,
  ANALYTICS_MAX_POINTS_PER_INVOCATION,
  indexValue,
  intervalPoints,
} from '../../src/metrics/analytics';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { ANALYTICS_INTERVAL_MS } from '../../src/metrics/limits';
import { ShardCore } from '../../src/metrics/shard';
import { emptyState, applyDelta } from '../../src/metrics/state';

const bytes = (s: string): number => new TextEncoder().encode(s).length;

describe('indexValue', () => {
  it('keeps a short name as it is', () => {
    expect(indexValue('web')).toBe('web');
  });

  it('fits a long name in 96 bytes with a hash, keeping long names with one prefix apart', () => {
    const a = indexValue(`${'é'.repeat(80)}-a`);
    const b = indexValue(`${'é'.repeat(80)}-b`);
    expect(bytes(a)).toBeLessThanOrEqual(ANALYTICS_INDEX_MAX_BYTES);
    expect(bytes(b)).toBeLessThanOrEqual(ANALYTICS_INDEX_MAX_BYTES);
    expect(a).not.toBe(b);
    expect(a.startsWith('é')).toBe(true);
  });
});

describe('intervalPoints', () => {
  it('makes one point per source, per stream and one of totals from an interval', () => {
    const m = new MetricsBuffer();
    m.inc('ndc_segment_events_received_total', { type: 'track', source: 'web' }, 5);
    m.inc('ndc_segment_events_received_total', { type: 'page', source: 'web' }, 2);
    m.inc('ndc_segment_events_received_total', { type: 'identify', source: 'ios' }, 1);
    m.inc('ndc_segment_events_deduplicated_total', { source: 'web' }, 3);
    m.inc('ndc_segment_events_delivered_total', { stream: 's1' }, 8);
    m.inc('ndc_segment_records_delivered_total', { stream: 's1' }, 1);
    m.inc('ndc_segment_requests_total', { route: '/v1/track', status: '200' }, 4);
    m.observe('ndc_segment_delivery_latency_seconds', {}, 0.5, 8);
    const state = applyDelta(emptyState(), m.drain());
    const points = intervalPoints(state).map((p) => p.point);
    expect(points).toEqual([
      { indexes: ['web'], blobs: ['ingest', 'web'], doubles: [7, 5, 0, 2, 0, 0, 0, 3] },
      { indexes: ['ios'], blobs: ['ingest', 'ios'], doubles: [1, 0, 1, 0, 0, 0, 0, 0] },
      { indexes: ['s1'], blobs: ['delivery', 's1'], doubles: [8, 1, 0, 0] },
      {
        indexes: ['ndc_segment'],
        blobs: ['totals', ''],
        doubles: [4, 0, 0, 0, 0, 0, 0, 0, 4, 8, 0],
      },
    ]);
  });

  it('hashes a source name too long for an index, keeping it whole in its blob', () => {
    const m = new MetricsBuffer();
    const long = 's'.repeat(120);
    m.inc('ndc_segment_events_received_total', { type: 'track', source: long }, 1);
    const [point] = intervalPoints(applyDelta(emptyState(), m.drain())).map((p) => p.point);
    const index = point?.indexes?.[0];
    expect(bytes(typeof index === 'string' ? index : '')).toBeLessThanOrEqual(
      ANALYTICS_INDEX_MAX_BYTES,
    );
    expect(point?.blobs?.[1]).toBe(long);
  });
});

describe('ShardCore.takePoints', () => {
  const flush = (
    core: ShardCore,
    isolate: string,
    build: (m: MetricsBuffer) => void,
    now: number,
  ): void => {
    const m = new MetricsBuffer();
    build(m);
    core.apply({ isolate, entries: [{ seq: 1, delta: m.drain() }] }, now);
  };

  it('writes nothing before the interval, then the interval once', () => {
    const core = new ShardCore(0);
    flush(
      core,
      'a',
      (m) => m.inc('ndc_segment_events_received_total', { type: 'track', source: 'web' }, 2),
      10,
    );
    expect(core.takePoints(ANALYTICS_INTERVAL_MS - 1)).toEqual([]);
    expect(core.takePoints(ANALYTICS_INTERVAL_MS)).toHaveLength(1);
    expect(core.takePoints(2 * ANALYTICS_INTERVAL_MS)).toEqual([]);
  });

  it('keeps the points past the per-invocation limit for the next write: none is lost', () => {
    const core = new ShardCore(0);
    const sources = ANALYTICS_MAX_POINTS_PER_INVOCATION + 40;
    flush(
      core,
      'a',
      (m) => {
        for (let i = 0; i < sources; i++)
          m.inc('ndc_segment_events_received_total', { type: 'track', source: `s${i}` }, 1);
      },
      10,
    );
    const first = core.takePoints(ANALYTICS_INTERVAL_MS);
    const second = core.takePoints(2 * ANALYTICS_INTERVAL_MS);
    expect(first).toHaveLength(ANALYTICS_MAX_POINTS_PER_INVOCATION);
    const written = [...first, ...second].map((p) => p.point.blobs?.[1]);
    expect(new Set(written).size).toBe(sources);
  });
});
