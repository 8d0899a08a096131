import { describe, expect, it } from 'vitest';
import { MetricsBuffer, bucketIndex } from '../../src/metrics/buffer';
import { BATCH_EVENTS_BUCKETS, DELIVERY_LATENCY_BUCKETS_SECONDS } from '../../src/metrics/catalog';
import { METRICS_MAX_SERIES } from '../../src/metrics/limits';

const LATENCY = 'ndc_segment_delivery_latency_seconds';
const LATENCY_BUCKETS = DELIVERY_LATENCY_BUCKETS_SECONDS.length + 1;

/** Per-bucket counts with `count` at `index` and zeros elsewhere. */
function oneBucket(length: number, index: number, count = 1): number[] {
  return Array.from({ length }, (_, i) => (i === index ? count : 0));
}

describe('bucketIndex', () => {
  const bounds = [1, 2, 5];
  const cases: Array<[number, number]> = [
    [-1, 0],
    [0, 0],
    [1, 0],
    [1.000001, 1],
    [2, 1],
    [4.999, 2],
    [5, 2],
    [5.0001, 3],
    [1e9, 3],
  ];
  it.each(cases)('puts %d in bucket %d (le is inclusive)', (value, index) => {
    expect(bucketIndex(bounds, value)).toBe(index);
  });

  it('puts every catalogued bound in its own bucket and just above it in the next', () => {
    for (const buckets of [DELIVERY_LATENCY_BUCKETS_SECONDS, BATCH_EVENTS_BUCKETS]) {
      buckets.forEach((bound, i) => {
        expect(bucketIndex(buckets, bound)).toBe(i);
        expect(bucketIndex(buckets, bound * (1 + Number.EPSILON * 4))).toBe(i + 1);
      });
    }
  });
});

describe('MetricsBuffer.inc', () => {
  it('adds increments to the same series and keeps series apart by label', () => {
    const buffer = new MetricsBuffer();
    buffer.inc('ndc_segment_events_received_total', { type: 'track', source: 'web' });
    buffer.inc('ndc_segment_events_received_total', { source: 'web', type: 'track' }, 4);
    buffer.inc('ndc_segment_events_received_total', { type: 'page', source: 'web' }, 2);
    buffer.inc('ndc_segment_request_bytes_total', {}, 1024);
    expect(buffer.drain().counters).toEqual({
      'ndc_segment_events_received_total{source="web",type="track"}': 5,
      'ndc_segment_events_received_total{source="web",type="page"}': 2,
      ndc_segment_request_bytes_total: 1024,
    });
  });

  it('creates a series at zero for an increment of 0', () => {
    const buffer = new MetricsBuffer();
    buffer.inc('ndc_segment_events_retried_total', {}, 0);
    expect(buffer.isEmpty()).toBe(false);
    expect(buffer.drain().counters).toEqual({ ndc_segment_events_retried_total: 0 });
  });

  it.each([[-1], [NaN], [Infinity], [-Infinity]])('ignores an increment of %d', (by) => {
    const buffer = new MetricsBuffer();
    buffer.inc('ndc_segment_events_retried_total', {}, by);
    expect(buffer.isEmpty()).toBe(true);
  });

  it('escapes label values in the series key', () => {
    const buffer = new MetricsBuffer();
    buffer.inc('ndc_segment_events_rejected_total', { reason: 'a"b\\c\nd' });
    expect(Object.keys(buffer.drain().counters)).toEqual([
      'ndc_segment_events_rejected_total{reason="a\\"b\\\\c\\nd"}',
    ]);
  });

  it(`stops adding series at ${METRICS_MAX_SERIES} but keeps counting existing ones`, () => {
    const buffer = new MetricsBuffer();
    for (let i = 0; i < METRICS_MAX_SERIES + 10; i += 1) {
      buffer.inc('delivery_success_total', { stream: `s${i}` });
    }
    buffer.inc('delivery_success_total', { stream: 's0' }, 2);
    buffer.max('ndc_segment_last_enqueue_timestamp_seconds', {}, 1);
    const counters = buffer.drain().counters;
    expect(Object.keys(counters)).toHaveLength(METRICS_MAX_SERIES);
    expect(counters['delivery_success_total{stream="s0"}']).toBe(3);
    expect(counters[`delivery_success_total{stream="s${METRICS_MAX_SERIES}"}`]).toBeUndefined();
  });
});

describe('MetricsBuffer typing', () => {
  it('refuses unknown metrics, wrong types and wrong labels at compile time and run time', () => {
    const buffer = new MetricsBuffer();
    // @ts-expect-error: a typo, not a catalogued metric
    buffer.inc('ndc_segment_request_total', {});
    // @ts-expect-error: a histogram is not a counter
    buffer.inc('ndc_segment_batch_events', {});
    // @ts-expect-error: a counter is not a histogram
    buffer.observe('ndc_segment_events_retried_total', {}, 1);
    // @ts-expect-error: a counter is not a gauge
    buffer.max('ndc_segment_events_retried_total', {}, 1);
    expect(buffer.isEmpty()).toBe(true);

    // Labels that get past the types are made canonical: missing as "", extra dropped.
    // @ts-expect-error: the `outcome` label is missing
    buffer.inc('ndc_segment_firehose_calls_total', { stream: 's' });
    // @ts-expect-error: this metric has no labels
    buffer.inc('ndc_segment_events_retried_total', { stream: 's' });
    // @ts-expect-error: `reasn` is not a label of this metric
    buffer.inc('ndc_segment_events_rejected_total', { reasn: 'x' });
    expect(buffer.drain().counters).toEqual({
      'ndc_segment_firehose_calls_total{outcome="",stream="s"}': 1,
      'ndc_segment_events_rejected_total{reason=""}': 1,
      ndc_segment_events_retried_total: 1,
    });
  });
});

describe('MetricsBuffer.observe', () => {
  it('places values on bucket edges in that bucket and tracks sum and count', () => {
    const buffer = new MetricsBuffer();
    buffer.observe('ndc_segment_batch_events', {}, 1);
    buffer.observe('ndc_segment_batch_events', {}, 3);
    buffer.observe('ndc_segment_batch_events', {}, 5);
    buffer.observe('ndc_segment_batch_events', {}, 2500);
    buffer.observe('ndc_segment_batch_events', {}, 2501);
    expect(buffer.drain().histograms).toEqual({
      ndc_segment_batch_events: {
        //        1  2  5 10 25 50 100 250 500 1000 2500 +Inf
        buckets: [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1],
        sum: 1 + 3 + 5 + 2500 + 2501,
        count: 5,
      },
    });
  });

  it('records count observations of one value in one call', () => {
    const buffer = new MetricsBuffer();
    buffer.observe(LATENCY, {}, 12, 100);
    buffer.observe(LATENCY, {}, 0.5, 3);
    const index12 = bucketIndex(DELIVERY_LATENCY_BUCKETS_SECONDS, 12);
    const expected = oneBucket(LATENCY_BUCKETS, index12, 100);
    expected[bucketIndex(DELIVERY_LATENCY_BUCKETS_SECONDS, 0.5)] = 3;
    expect(buffer.drain().histograms[LATENCY]).toEqual({
      buckets: expected,
      sum: 1201.5,
      count: 103,
    });
  });

  it('counts a negative latency (clock skew) as 0 in the first bucket', () => {
    const buffer = new MetricsBuffer();
    buffer.observe(LATENCY, {}, -0.2);
    expect(buffer.drain().histograms[LATENCY]).toEqual({
      buckets: oneBucket(LATENCY_BUCKETS, 0),
      sum: 0,
      count: 1,
    });
  });

  const ignored: Array<[string, number, number]> = [
    ['a NaN value', NaN, 1],
    ['an infinite value', Infinity, 1],
    ['a count of 0', 1, 0],
    ['a negative count', 1, -2],
    ['a fractional count', 1, 1.5],
    ['a NaN count', 1, NaN],
  ];
  it.each(ignored)('ignores %s', (_, value, count) => {
    const buffer = new MetricsBuffer();
    buffer.observe(LATENCY, {}, value, count);
    expect(buffer.isEmpty()).toBe(true);
  });
});

describe('MetricsBuffer.max', () => {
  it('keeps the highest value of a gauge', () => {
    const buffer = new MetricsBuffer();
    buffer.max('ndc_segment_last_delivery_success_timestamp_seconds', {}, 1700000002);
    buffer.max('ndc_segment_last_delivery_success_timestamp_seconds', {}, 1700000009.5);
    buffer.max('ndc_segment_last_delivery_success_timestamp_seconds', {}, 1700000001);
    expect(buffer.drain().gauges).toEqual({
      ndc_segment_last_delivery_success_timestamp_seconds: 1700000009.5,
    });
  });

  it.each([[NaN], [Infinity]])('ignores %d', (value) => {
    const buffer = new MetricsBuffer();
    buffer.max('ndc_segment_last_enqueue_timestamp_seconds', {}, value);
    expect(buffer.isEmpty()).toBe(true);
  });
});

describe('MetricsBuffer.isEmpty', () => {
  it('is true for a new buffer and false once anything is recorded', () => {
    const buffer = new MetricsBuffer();
    expect(buffer.isEmpty()).toBe(true);
    buffer.observe('ndc_segment_batch_events', {}, 1);
    expect(buffer.isEmpty()).toBe(false);
  });

  it('is false once a forwarding outcome is recorded, so the flush carries it', () => {
    const buffer = new MetricsBuffer();
    buffer.forwardOutcome(100, false);
    expect(buffer.isEmpty()).toBe(false);
    expect(buffer.drain().forwardStreak).toEqual({ success: 0, failures: [100] });
  });
});

describe('MetricsBuffer.drain', () => {
  it('returns what accumulated and resets the buffer', () => {
    const buffer = new MetricsBuffer();
    buffer.inc('ndc_segment_events_archived_total', {}, 2);
    buffer.observe('ndc_segment_batch_events', {}, 1);
    buffer.max('ndc_segment_last_enqueue_timestamp_seconds', {}, 5);
    const first = buffer.drain();
    expect(Object.keys(first.counters)).toHaveLength(1);
    expect(buffer.isEmpty()).toBe(true);
    expect(buffer.drain()).toEqual({ counters: {}, histograms: {}, gauges: {} });

    buffer.inc('ndc_segment_events_archived_total', {});
    expect(buffer.drain().counters).toEqual({ ndc_segment_events_archived_total: 1 });
    expect(first.counters).toEqual({ ndc_segment_events_archived_total: 2 });
  });

  it('returns plain JSON that survives JSON and structured clone unchanged', () => {
    const buffer = new MetricsBuffer();
    buffer.inc('ndc_segment_requests_total', { route: '/v1/t', status: '200' }, 3);
    buffer.observe(LATENCY, {}, 0.3, 2);
    buffer.max('ndc_segment_last_enqueue_timestamp_seconds', {}, 1700000000.25);
    const delta = buffer.drain();
    expect(JSON.parse(JSON.stringify(delta))).toEqual(delta);
    expect(structuredClone(delta)).toEqual(delta);
  });

  it('resets the series cap', () => {
    const buffer = new MetricsBuffer();
    for (let i = 0; i < METRICS_MAX_SERIES; i += 1) {
      buffer.inc('delivery_failure_total', { stream: `s${i}` });
    }
    buffer.drain();
    buffer.inc('delivery_failure_total', { stream: 'fresh' });
    expect(buffer.drain().counters).toEqual({ 'delivery_failure_total{stream="fresh"}': 1 });
  });
});
