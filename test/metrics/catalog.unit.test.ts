import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  BATCH_EVENTS_BUCKETS,
  DELIVERY_LATENCY_BUCKETS_SECONDS,
  METRIC_CATALOG,
  METRIC_NAMES,
  metricDef,
} from '../../src/metrics/catalog';
import type {
  CounterName,
  GaugeName,
  HistogramName,
  Labels,
  MetricName,
} from '../../src/metrics/catalog';

// The public contract: dashboards query these names with these labels.
const CONTRACT: Array<[string, string, string[]]> = [
  ['ndc_segment_events_received_total', 'counter', ['type', 'source']],
  ['ndc_segment_events_rejected_total', 'counter', ['reason']],
  ['ndc_segment_requests_total', 'counter', ['route', 'status']],
  ['ndc_segment_request_bytes_total', 'counter', []],
  ['ndc_segment_queue_send_failures_total', 'counter', []],
  ['ndc_segment_queue_messages_sent_total', 'counter', ['queue']],
  ['ndc_segment_request_compressed_bytes_total', 'counter', []],
  ['ndc_segment_events_delivered_total', 'counter', ['stream']],
  ['ndc_segment_records_delivered_total', 'counter', ['stream']],
  ['ndc_segment_firehose_calls_total', 'counter', ['stream', 'outcome']],
  ['ndc_segment_events_retried_total', 'counter', []],
  ['ndc_segment_events_dead_lettered_total', 'counter', []],
  ['ndc_segment_events_archived_total', 'counter', []],
  ['ndc_segment_events_replayed_total', 'counter', []],
  ['ndc_segment_events_deduplicated_total', 'counter', ['source']],
  ['ndc_segment_events_ambiguous_total', 'counter', []],
  ['ndc_segment_tracking_plan_violations_total', 'counter', ['source']],
  ['ndc_segment_events_blocked_total', 'counter', ['source', 'reason']],
  ['ndc_segment_debugger_events_captured_total', 'counter', ['status']],
  ['ndc_segment_debugger_events_skipped_total', 'counter', []],
  ['delivery_success_total', 'counter', ['stream']],
  ['delivery_failure_total', 'counter', ['stream']],
  ['ndc_segment_delivery_latency_seconds', 'histogram', []],
  ['ndc_segment_batch_events', 'histogram', []],
  ['ndc_segment_last_delivery_success_timestamp_seconds', 'gauge', []],
  ['ndc_segment_last_delivery_failure_timestamp_seconds', 'gauge', []],
  ['ndc_segment_last_enqueue_timestamp_seconds', 'gauge', []],
  ['ndc_segment_last_delivery_auth_failure_timestamp_seconds', 'gauge', []],
  ['ndc_segment_events_forwarded_total', 'counter', ['source', 'outcome']],
  ['ndc_segment_last_forward_success_timestamp_seconds', 'gauge', []],
  ['ndc_segment_last_forward_failure_timestamp_seconds', 'gauge', []],
  ['ndc_segment_events_suppressed_total', 'counter', ['source']],
  ['ndc_segment_events_consent_filtered_total', 'counter', ['source', 'sink']],
  ['ndc_segment_fields_redacted_total', 'counter', ['source', 'action']],
  ['ndc_segment_delivery_waiting_events', 'gauge', ['reason']],
  ['ndc_segment_delivery_blocked_seconds', 'gauge', []],
  ['ndc_segment_events_requeued_total', 'counter', ['reason']],
  ['ndc_segment_dedupe_evictions_total', 'counter', ['source']],
  ['ndc_segment_last_dedupe_eviction_timestamp_seconds', 'gauge', ['source']],
];

describe('METRIC_CATALOG', () => {
  it('holds exactly the contracted metrics, in order', () => {
    expect(METRIC_NAMES).toEqual(CONTRACT.map(([name]) => name));
  });

  it.each(CONTRACT)('declares %s as a %s with labels %j', (name, type, labels) => {
    const def = metricDef(name);
    expect(def?.type).toBe(type);
    expect(def?.labels).toEqual(labels);
  });

  it.each(METRIC_NAMES.map((name) => [name]))('names %s the Prometheus way', (name) => {
    const def = METRIC_CATALOG[name];
    expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(name.endsWith('_total')).toBe(def.type === 'counter');
    expect(def.help.length).toBeGreaterThan(0);
    for (const label of def.labels) expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
    // `le` is the bucket label of histograms and `__` prefixes are reserved.
    expect(def.labels).not.toContain('le');
  });

  it.each([
    ['DELIVERY_LATENCY_BUCKETS_SECONDS', DELIVERY_LATENCY_BUCKETS_SECONDS],
    ['BATCH_EVENTS_BUCKETS', BATCH_EVENTS_BUCKETS],
  ] as const)('keeps %s finite and strictly increasing', (_, buckets) => {
    buckets.forEach((bound, i) => {
      expect(Number.isFinite(bound)).toBe(true);
      if (i > 0) expect(bound).toBeGreaterThan(buckets[i - 1] ?? -Infinity);
    });
  });

  it('spans delivery latency from 0.05 s to 15 min', () => {
    expect(DELIVERY_LATENCY_BUCKETS_SECONDS[0]).toBe(0.05);
    expect(DELIVERY_LATENCY_BUCKETS_SECONDS.at(-1)).toBe(15 * 60);
  });

  it('types metric names and labels per metric', () => {
    expectTypeOf<'ndc_segment_requests_total'>().toExtend<CounterName>();
    expectTypeOf<'ndc_segment_batch_events'>().toExtend<HistogramName>();
    expectTypeOf<'ndc_segment_last_enqueue_timestamp_seconds'>().toExtend<GaugeName>();
    expectTypeOf<'ndc_segment_batch_events'>().not.toExtend<CounterName>();
    expectTypeOf<'ndc_segment_request_total'>().not.toExtend<MetricName>();
    expectTypeOf<Labels<'ndc_segment_firehose_calls_total'>>().toEqualTypeOf<
      Readonly<Record<'stream' | 'outcome', string>>
    >();
    expectTypeOf<{ stream: string }>().not.toExtend<Labels<'ndc_segment_firehose_calls_total'>>();
    expectTypeOf<{ stream: string }>().not.toExtend<Labels<'ndc_segment_events_retried_total'>>();
  });
});

describe('metricDef', () => {
  it.each(['', 'nope_total', 'toString', '__proto__', 'constructor'])(
    'returns undefined for %j',
    (name) => {
      expect(metricDef(name)).toBeUndefined();
    },
  );
});
