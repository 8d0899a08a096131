import { describe, expect, it } from 'vitest';
import {
  ANALYTICS_MAX_WRITES_PER_INVOCATION,
  AnalyticsWriter,
  toDataPoint,
} from '../../src/metrics/analytics';

function dataset(): AnalyticsEngineDataset & { points: AnalyticsEngineDataPoint[] } {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, writeDataPoint: (p?: AnalyticsEngineDataPoint) => void (p && points.push(p)) };
}

describe('AnalyticsWriter', () => {
  it('writes at most 25 data points per invocation and counts the rest as dropped', () => {
    const ds = dataset();
    const w = new AnalyticsWriter(ds);
    for (let i = 0; i < 40; i++) {
      w.write({
        kind: 'delivery',
        stream: 's',
        outcome: 'delivered',
        events: 1,
        bytes: 1,
        latencyMs: 1,
      });
    }
    expect(ds.points).toHaveLength(ANALYTICS_MAX_WRITES_PER_INVOCATION);
    expect([w.written, w.dropped]).toEqual([25, 15]);
  });

  it('does nothing without the binding', () => {
    const w = new AnalyticsWriter(undefined);
    w.write({
      kind: 'delivery',
      stream: 's',
      outcome: 'delivered',
      events: 1,
      bytes: 1,
      latencyMs: 1,
    });
    expect(w.written).toBe(0);
  });
});

describe('toDataPoint', () => {
  it('lays out an ingest point as index=source, blobs and doubles in documented order', () => {
    expect(
      toDataPoint({
        kind: 'ingest',
        route: '/v1/batch',
        status: 200,
        source: 'web',
        types: 'track,page',
        events: 2,
        bytes: 900,
        latencyMs: 3,
      }),
    ).toEqual({
      indexes: ['web'],
      blobs: ['ingest', '/v1/batch', '200', 'web', 'track,page'],
      doubles: [2, 900, 3],
    });
  });
});
