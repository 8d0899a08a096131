import { describe, expect, it } from 'vitest';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { minuteOf } from '../../src/metrics/minutes';
import {
  failedCallsLine,
  failedForwardLine,
  recordAccepted,
  recordDelivery,
  recordForwarded,
  recordQueueMessagesSent,
  recordSourceRejected,
  routeLabel,
  type DeliveryReport,
  type ForwardReport,
} from '../../src/metrics/record';

describe('routeLabel', () => {
  it.each([
    ['/v1/track', '/v1/track'],
    ['/v1/t', '/v1/t'],
    ['/v1/batch', '/v1/batch'],
    ['/v1/pixel/page', '/v1/pixel/page'],
    ['/v1/projects/SECRETKEY/settings', '/v1/projects/:writeKey/settings'],
    ['/analytics.js/v1/SECRETKEY/analytics.min.js', '/analytics.js/v1/:writeKey/analytics.min.js'],
    ['/metrics', '/metrics'],
    ['/wp-admin.php', 'unmatched'],
    ['/v1/pixel/purchase', 'unmatched'],
  ])('labels %s as %s, never echoing free text', (path, label) => {
    expect(routeLabel(path)).toBe(label);
  });
});

describe('recordAccepted', () => {
  it('counts events by type and source, the batch size, and the enqueue time', () => {
    const m = new MetricsBuffer();
    recordAccepted(m, ['track', 'track', 'page'], 'web', 5_000);
    const d = m.drain();
    expect(d.counters['ndc_segment_events_received_total{source="web",type="track"}']).toBe(2);
    expect(d.counters['ndc_segment_events_received_total{source="web",type="page"}']).toBe(1);
    expect(d.histograms['ndc_segment_batch_events']?.count).toBe(1);
    expect(d.histograms['ndc_segment_batch_events']?.sum).toBe(3);
    expect(d.gauges['ndc_segment_last_enqueue_timestamp_seconds']).toBe(5);
  });

  it('counts the events for the status page at their source and minute', () => {
    const m = new MetricsBuffer();
    recordAccepted(m, ['track', 'page'], 'web', 125_000);
    recordAccepted(m, ['track'], 'web', 130_000);
    expect(m.drain().status).toEqual({ [minuteOf(125_000)]: { web: [3, 0, 0, 0, 0, 0] } });
  });
});

describe('recordSourceRejected', () => {
  it("adds to the source's rejected count at its minute, and nothing for none", () => {
    const m = new MetricsBuffer();
    recordSourceRejected(m, 'ios', 0, 61_000);
    expect(m.isEmpty()).toBe(true);
    recordSourceRejected(m, 'ios', 4, 61_000);
    expect(m.drain().status).toEqual({ '1': { ios: [0, 0, 4, 0, 0, 0] } });
  });
});

describe('recordQueueMessagesSent', () => {
  it('counts messages by events queue binding', () => {
    const m = new MetricsBuffer();
    recordQueueMessagesSent(m, 'EVENTS', 2);
    recordQueueMessagesSent(m, 'EVENTS_1', 1);
    recordQueueMessagesSent(m, 'EVENTS', 1);
    const d = m.drain();
    expect(d.counters['ndc_segment_queue_messages_sent_total{queue="EVENTS"}']).toBe(3);
    expect(d.counters['ndc_segment_queue_messages_sent_total{queue="EVENTS_1"}']).toBe(1);
  });
});

describe('recordDelivery', () => {
  const report: DeliveryReport = {
    calls: [
      { stream: 's', outcome: 'partial', records: 2 },
      { stream: 's', outcome: 'retry', code: 'ServiceUnavailableException', records: 1 },
    ],
    delivered: [
      {
        stream: 's',
        events: 30,
        records: 1,
        bytes: 900,
        received: [
          { at: 1_000, events: 10, source: 'web' },
          { at: 9_000, events: 20, source: 'ios' },
        ],
      },
    ],
    failed: [{ stream: 's', events: 12 }],
    retriedEvents: 12,
    deadLetteredEvents: 0,
    deadLetterSendFailures: 0,
    deduplicated: [{ source: 'web', events: 4 }],
    ambiguousEvents: 5,
    authFailure: false,
  };

  it('counts calls, events, records, legacy counters, retries and latency weighted by events', () => {
    const m = new MetricsBuffer();
    recordDelivery(m, report, 11_000);
    const d = m.drain();
    expect(d.counters['ndc_segment_firehose_calls_total{outcome="partial",stream="s"}']).toBe(1);
    expect(d.counters['ndc_segment_firehose_calls_total{outcome="retry",stream="s"}']).toBe(1);
    expect(d.counters['ndc_segment_events_delivered_total{stream="s"}']).toBe(30);
    expect(d.counters['ndc_segment_records_delivered_total{stream="s"}']).toBe(1);
    expect(d.counters['delivery_success_total{stream="s"}']).toBe(30);
    expect(d.counters['delivery_failure_total{stream="s"}']).toBe(12);
    expect(d.counters['ndc_segment_events_retried_total']).toBe(12);
    const latency = d.histograms['ndc_segment_delivery_latency_seconds'];
    expect(latency?.count).toBe(30);
    // 10 events waited 10 s, 20 events waited 2 s.
    expect(latency?.sum).toBeCloseTo(10 * 10 + 20 * 2);
    expect(d.gauges['ndc_segment_last_delivery_success_timestamp_seconds']).toBe(11);
    expect(d.gauges['ndc_segment_last_delivery_failure_timestamp_seconds']).toBe(11);
    expect(d.counters['ndc_segment_events_deduplicated_total{source="web"}']).toBe(4);
    expect(d.counters['ndc_segment_events_ambiguous_total']).toBe(5);
    expect(d.gauges['ndc_segment_last_delivery_auth_failure_timestamp_seconds']).toBeUndefined();
    expect(d.streak).toEqual({ success: 11, failures: [10] });
  });

  it('counts delivered events, their lag and dead letters by source for the status page', () => {
    const m = new MetricsBuffer();
    recordDelivery(
      m,
      { ...report, deadLetteredEvents: 3, deadLetteredBySource: [{ source: 'web', events: 3 }] },
      11_000,
    );
    // web: 10 events received at 1 s, delivered at 11 s; ios: 20 events that waited 2 s.
    expect(m.drain().status).toEqual({
      '0': { web: [0, 10, 0, 3, 100, 10], ios: [0, 20, 0, 0, 40, 2] },
    });
  });

  it('sums up failed calls by code in one log line, and says nothing when all landed', () => {
    expect(failedCallsLine(report)).toBe(
      'delivery: 2 of 2 Firehose calls failed (FailedRecords ×1, ServiceUnavailableException ×1)',
    );
    expect(
      failedCallsLine({ ...report, calls: [{ stream: 's', outcome: 'ok', records: 1 }] }),
    ).toBeUndefined();
  });

  it('records the time of a refusal for credentials', () => {
    const m = new MetricsBuffer();
    recordDelivery(m, { ...report, authFailure: true }, 11_000);
    expect(m.drain().gauges['ndc_segment_last_delivery_auth_failure_timestamp_seconds']).toBe(11);
  });

  it('records no success time when nothing landed', () => {
    const m = new MetricsBuffer();
    recordDelivery(m, { ...report, delivered: [] }, 11_000);
    expect(m.drain().gauges['ndc_segment_last_delivery_success_timestamp_seconds']).toBeUndefined();
  });
});

describe('recordForwarded', () => {
  const report: ForwardReport = {
    events: [
      { source: 'web', outcome: 'ok', events: 40 },
      { source: 'web', outcome: 'skipped', events: 1 },
      { source: 'ios', outcome: 'retried', events: 7 },
      { source: 'ios', outcome: 'dead_lettered', events: 0 },
    ],
    okCalls: 2,
    failedCalls: ['http_503', 'http_503', 'Timeout'],
    notConfigured: 0,
  };

  it('counts events by source and outcome, and the times of success and failure', () => {
    const m = new MetricsBuffer();
    recordForwarded(m, report, 11_000);
    const d = m.drain();
    expect(d.counters).toEqual({
      'ndc_segment_events_forwarded_total{outcome="ok",source="web"}': 40,
      'ndc_segment_events_forwarded_total{outcome="skipped",source="web"}': 1,
      'ndc_segment_events_forwarded_total{outcome="retried",source="ios"}': 7,
    });
    expect(d.gauges['ndc_segment_last_forward_success_timestamp_seconds']).toBe(11);
    expect(d.gauges['ndc_segment_last_forward_failure_timestamp_seconds']).toBe(11);
    expect(d.forwardStreak).toEqual({ success: 11, failures: [10] });
    expect(d.streak).toBeUndefined();
  });

  it('counts a batch retried for want of configuration as a failure', () => {
    const m = new MetricsBuffer();
    recordForwarded(m, { events: [], okCalls: 0, failedCalls: [], notConfigured: 3 }, 11_000);
    const d = m.drain();
    expect(d.gauges['ndc_segment_last_forward_failure_timestamp_seconds']).toBe(11);
    expect(d.gauges['ndc_segment_last_forward_success_timestamp_seconds']).toBeUndefined();
  });

  it('counts a copy the forward queue refused as a forwarding failure, not a delivery one', () => {
    const m = new MetricsBuffer();
    const idle: DeliveryReport = {
      calls: [],
      delivered: [],
      failed: [],
      retriedEvents: 2,
      deadLetteredEvents: 0,
      deadLetterSendFailures: 0,
      deduplicated: [],
      ambiguousEvents: 0,
      authFailure: false,
      forwardCopyFailedEvents: 2,
    };
    recordDelivery(m, idle, 11_000);
    const d = m.drain();
    expect(d.gauges['ndc_segment_last_forward_failure_timestamp_seconds']).toBe(11);
    expect(d.gauges['ndc_segment_last_delivery_failure_timestamp_seconds']).toBeUndefined();
  });

  it('sums up failed calls by code in one log line, and says nothing when all went', () => {
    expect(failedForwardLine(report)).toBe(
      'forward: 3 of 5 calls failed (http_503 ×2, Timeout ×1)',
    );
    expect(failedForwardLine({ ...report, failedCalls: [] })).toBeUndefined();
  });
});
