import { describe, expect, it } from 'vitest';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { METRIC_NAMES } from '../../src/metrics/catalog';
import {
  PROMETHEUS_CONTENT_TYPE,
  formatPrometheusNumber,
  renderPrometheus,
} from '../../src/metrics/exposition';
import { applyDelta, emptyState, mergeStates } from '../../src/metrics/state';
import type { MetricsState } from '../../src/metrics/state';

// Golden: the exposition before anything happened. Every metric has HELP and TYPE; unlabelled
// counters and histograms are zero, labelled ones and gauges have no samples yet.
const EMPTY_EXPOSITION = `# HELP ndc_segment_events_received_total Events accepted by the ingest API, by Segment call type and source.
# TYPE ndc_segment_events_received_total counter
# HELP ndc_segment_events_rejected_total Events or requests refused by the ingest API, by rejection reason.
# TYPE ndc_segment_events_rejected_total counter
# HELP ndc_segment_requests_total HTTP requests served, by route and response status code.
# TYPE ndc_segment_requests_total counter
# HELP ndc_segment_request_bytes_total Request body bytes received by the ingest API.
# TYPE ndc_segment_request_bytes_total counter
ndc_segment_request_bytes_total 0
# HELP ndc_segment_queue_send_failures_total Failed sends of event messages to the queue.
# TYPE ndc_segment_queue_send_failures_total counter
ndc_segment_queue_send_failures_total 0
# HELP ndc_segment_queue_messages_sent_total Messages sent to the events queues, by producer binding (EVENTS, EVENTS_1, ...).
# TYPE ndc_segment_queue_messages_sent_total counter
# HELP ndc_segment_request_compressed_bytes_total Gzip request body bytes as received, before inflation.
# TYPE ndc_segment_request_compressed_bytes_total counter
ndc_segment_request_compressed_bytes_total 0
# HELP ndc_segment_events_delivered_total Events accepted by Amazon Data Firehose, by delivery stream.
# TYPE ndc_segment_events_delivered_total counter
# HELP ndc_segment_records_delivered_total Firehose records accepted by Amazon Data Firehose, by delivery stream.
# TYPE ndc_segment_records_delivered_total counter
# HELP ndc_segment_firehose_calls_total PutRecordBatch calls to Amazon Data Firehose, by delivery stream and outcome.
# TYPE ndc_segment_firehose_calls_total counter
# HELP ndc_segment_events_retried_total Events handed back to the queue for another delivery attempt.
# TYPE ndc_segment_events_retried_total counter
ndc_segment_events_retried_total 0
# HELP ndc_segment_events_dead_lettered_total Events moved to the dead-letter queue after their last delivery attempt.
# TYPE ndc_segment_events_dead_lettered_total counter
ndc_segment_events_dead_lettered_total 0
# HELP ndc_segment_events_archived_total Events written to the archive.
# TYPE ndc_segment_events_archived_total counter
ndc_segment_events_archived_total 0
# HELP ndc_segment_events_replayed_total Events re-enqueued for delivery by a replay.
# TYPE ndc_segment_events_replayed_total counter
ndc_segment_events_replayed_total 0
# HELP ndc_segment_events_deduplicated_total Events dropped because the same messageId of the source was delivered within the window.
# TYPE ndc_segment_events_deduplicated_total counter
# HELP ndc_segment_events_ambiguous_total Events sent again after a Firehose call whose answer was lost (they may land twice).
# TYPE ndc_segment_events_ambiguous_total counter
ndc_segment_events_ambiguous_total 0
# HELP ndc_segment_tracking_plan_violations_total Events that broke their source's tracking plan (a schema violation or an unplanned event), by source.
# TYPE ndc_segment_tracking_plan_violations_total counter
# HELP ndc_segment_events_blocked_total Events a tracking plan kept from delivery and archived, by source and reason (violation, unplanned_event).
# TYPE ndc_segment_events_blocked_total counter
# HELP ndc_segment_debugger_events_captured_total Events captured for the live debugger (a source being watched), by status.
# TYPE ndc_segment_debugger_events_captured_total counter
# HELP ndc_segment_debugger_events_skipped_total Events of watched sources left out of the debugger by its per-source sampling.
# TYPE ndc_segment_debugger_events_skipped_total counter
ndc_segment_debugger_events_skipped_total 0
# HELP delivery_success_total Events delivered to the Firehose stream: the delivery_* name older dashboards use, the same count as ndc_segment_events_delivered_total.
# TYPE delivery_success_total counter
# HELP delivery_failure_total Events in failed Firehose records or calls, each attempt: the delivery_* name older dashboards use.
# TYPE delivery_failure_total counter
# HELP ndc_segment_delivery_latency_seconds Seconds from an event being received to Firehose accepting it.
# TYPE ndc_segment_delivery_latency_seconds histogram
ndc_segment_delivery_latency_seconds_bucket{le="0.05"} 0
ndc_segment_delivery_latency_seconds_bucket{le="0.1"} 0
ndc_segment_delivery_latency_seconds_bucket{le="0.25"} 0
ndc_segment_delivery_latency_seconds_bucket{le="0.5"} 0
ndc_segment_delivery_latency_seconds_bucket{le="1"} 0
ndc_segment_delivery_latency_seconds_bucket{le="2.5"} 0
ndc_segment_delivery_latency_seconds_bucket{le="5"} 0
ndc_segment_delivery_latency_seconds_bucket{le="10"} 0
ndc_segment_delivery_latency_seconds_bucket{le="30"} 0
ndc_segment_delivery_latency_seconds_bucket{le="60"} 0
ndc_segment_delivery_latency_seconds_bucket{le="120"} 0
ndc_segment_delivery_latency_seconds_bucket{le="300"} 0
ndc_segment_delivery_latency_seconds_bucket{le="600"} 0
ndc_segment_delivery_latency_seconds_bucket{le="900"} 0
ndc_segment_delivery_latency_seconds_bucket{le="+Inf"} 0
ndc_segment_delivery_latency_seconds_sum 0
ndc_segment_delivery_latency_seconds_count 0
# HELP ndc_segment_batch_events Events per ingest request.
# TYPE ndc_segment_batch_events histogram
ndc_segment_batch_events_bucket{le="1"} 0
ndc_segment_batch_events_bucket{le="2"} 0
ndc_segment_batch_events_bucket{le="5"} 0
ndc_segment_batch_events_bucket{le="10"} 0
ndc_segment_batch_events_bucket{le="25"} 0
ndc_segment_batch_events_bucket{le="50"} 0
ndc_segment_batch_events_bucket{le="100"} 0
ndc_segment_batch_events_bucket{le="250"} 0
ndc_segment_batch_events_bucket{le="500"} 0
ndc_segment_batch_events_bucket{le="1000"} 0
ndc_segment_batch_events_bucket{le="2500"} 0
ndc_segment_batch_events_bucket{le="+Inf"} 0
ndc_segment_batch_events_sum 0
ndc_segment_batch_events_count 0
# HELP ndc_segment_last_delivery_success_timestamp_seconds Unix time in seconds of the last Firehose call that delivered events.
# TYPE ndc_segment_last_delivery_success_timestamp_seconds gauge
# HELP ndc_segment_last_delivery_failure_timestamp_seconds Unix time in seconds of the last failed Firehose delivery.
# TYPE ndc_segment_last_delivery_failure_timestamp_seconds gauge
# HELP ndc_segment_last_enqueue_timestamp_seconds Unix time in seconds of the last successful send of events to the queue.
# TYPE ndc_segment_last_enqueue_timestamp_seconds gauge
# HELP ndc_segment_last_delivery_auth_failure_timestamp_seconds Unix time in seconds of the last Firehose call refused for credentials or permissions.
# TYPE ndc_segment_last_delivery_auth_failure_timestamp_seconds gauge
# HELP ndc_segment_events_forwarded_total Events of forwarded sources handled by the forward consumer, by source and outcome (ok, retried, dead_lettered).
# TYPE ndc_segment_events_forwarded_total counter
# HELP ndc_segment_last_forward_success_timestamp_seconds Unix time in seconds of the last call to the forward endpoint that delivered events.
# TYPE ndc_segment_last_forward_success_timestamp_seconds gauge
# HELP ndc_segment_last_forward_failure_timestamp_seconds Unix time in seconds of the last failed forwarding (a failed call, or a copy the forward queue refused).
# TYPE ndc_segment_last_forward_failure_timestamp_seconds gauge
# HELP ndc_segment_events_suppressed_total Events of suppressed users (by userId or anonymousId) answered 200 and never queued, by source.
# TYPE ndc_segment_events_suppressed_total counter
# HELP ndc_segment_events_consent_filtered_total Events kept from a sink (firehose, forward) by their consent or a Sec-GPC drop policy, by source and sink; an event kept from every sink is not queued.
# TYPE ndc_segment_events_consent_filtered_total counter
# HELP ndc_segment_fields_redacted_total Values a privacy policy removed (drop), hashed (hash) or truncated (an IP address), by source and action.
# TYPE ndc_segment_fields_redacted_total counter
# HELP ndc_segment_delivery_waiting_events Events held back by a failure an operator or the platform must fix, by reason (credentials, configuration, dedupe, queue, archive, firehose); delivered on their own once it is fixed.
# TYPE ndc_segment_delivery_waiting_events gauge
# HELP ndc_segment_delivery_blocked_seconds Seconds the oldest event held back by such a failure has waited since it was first queued; 0 when none is.
# TYPE ndc_segment_delivery_blocked_seconds gauge
# HELP ndc_segment_events_requeued_total Events put back on an events queue as a fresh copy instead of being dead-lettered, by reason.
# TYPE ndc_segment_events_requeued_total counter
# HELP ndc_segment_dedupe_evictions_total Dedupe keys forgotten before the end of the window to keep a shard within its memory, by source (that source's window was shortened).
# TYPE ndc_segment_dedupe_evictions_total counter
# HELP ndc_segment_last_dedupe_eviction_timestamp_seconds Unix time in seconds of the last dedupe key of the source forgotten before the end of the window.
# TYPE ndc_segment_last_dedupe_eviction_timestamp_seconds gauge
`;

/** The lines of one metric family: its HELP line up to the next family's HELP line. */
function family(text: string, name: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`# HELP ${name} `));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('# HELP '));
  return lines.slice(start, end === -1 ? lines.length - 1 : end).join('\n');
}

function stateOf(record: (buffer: MetricsBuffer) => void): MetricsState {
  const buffer = new MetricsBuffer();
  record(buffer);
  return applyDelta(emptyState(), buffer.drain());
}

describe('PROMETHEUS_CONTENT_TYPE', () => {
  it('names text format 0.0.4 in UTF-8', () => {
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});

describe('formatPrometheusNumber', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [123456789012, '123456789012'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [0.05, '0.05'],
    [1714000000.123, '1714000000.123'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ];
  it.each(cases)('writes %d as %s', (value, text) => {
    expect(formatPrometheusNumber(value)).toBe(text);
  });
});

describe('renderPrometheus', () => {
  it('renders the empty state as the golden exposition', () => {
    expect(renderPrometheus(emptyState())).toBe(EMPTY_EXPOSITION);
  });

  it('writes HELP and TYPE once per catalogued metric, in catalog order', () => {
    const text = renderPrometheus(emptyState());
    const helped = text.split('\n').filter((l) => l.startsWith('# HELP '));
    expect(helped.map((l) => l.split(' ')[2])).toEqual(METRIC_NAMES);
    const typed = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(typed.map((l) => l.split(' ')[2])).toEqual(METRIC_NAMES);
  });

  it('ends with a line feed and has no empty lines', () => {
    const text = renderPrometheus(emptyState());
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1).split('\n')).not.toContain('');
  });

  it('renders labelled counter series sorted, with labels sorted by name', () => {
    const state = stateOf((b) => {
      b.inc('ndc_segment_firehose_calls_total', { stream: 'b', outcome: 'success' }, 4);
      b.inc('ndc_segment_firehose_calls_total', { stream: 'a', outcome: 'failure' });
    });
    expect(family(renderPrometheus(state), 'ndc_segment_firehose_calls_total')).toBe(
      [
        '# HELP ndc_segment_firehose_calls_total PutRecordBatch calls to Amazon Data Firehose, by delivery stream and outcome.',
        '# TYPE ndc_segment_firehose_calls_total counter',
        'ndc_segment_firehose_calls_total{outcome="failure",stream="a"} 1',
        'ndc_segment_firehose_calls_total{outcome="success",stream="b"} 4',
      ].join('\n'),
    );
  });

  it('escapes backslash, double quote and line feed in label values', () => {
    const state = stateOf((b) =>
      b.inc('ndc_segment_events_rejected_total', { reason: 'a"b\\c\nd' }),
    );
    expect(family(renderPrometheus(state), 'ndc_segment_events_rejected_total')).toBe(
      [
        '# HELP ndc_segment_events_rejected_total Events or requests refused by the ingest API, by rejection reason.',
        '# TYPE ndc_segment_events_rejected_total counter',
        'ndc_segment_events_rejected_total{reason="a\\"b\\\\c\\nd"} 1',
      ].join('\n'),
    );
  });

  it('renders a histogram with cumulative buckets ending in +Inf, then _sum and _count', () => {
    const state = stateOf((b) => {
      b.observe('ndc_segment_batch_events', {}, 1);
      b.observe('ndc_segment_batch_events', {}, 10, 2);
      b.observe('ndc_segment_batch_events', {}, 11);
      b.observe('ndc_segment_batch_events', {}, 2500);
      b.observe('ndc_segment_batch_events', {}, 4000);
    });
    expect(family(renderPrometheus(state), 'ndc_segment_batch_events')).toBe(
      [
        '# HELP ndc_segment_batch_events Events per ingest request.',
        '# TYPE ndc_segment_batch_events histogram',
        'ndc_segment_batch_events_bucket{le="1"} 1',
        'ndc_segment_batch_events_bucket{le="2"} 1',
        'ndc_segment_batch_events_bucket{le="5"} 1',
        'ndc_segment_batch_events_bucket{le="10"} 3',
        'ndc_segment_batch_events_bucket{le="25"} 4',
        'ndc_segment_batch_events_bucket{le="50"} 4',
        'ndc_segment_batch_events_bucket{le="100"} 4',
        'ndc_segment_batch_events_bucket{le="250"} 4',
        'ndc_segment_batch_events_bucket{le="500"} 4',
        'ndc_segment_batch_events_bucket{le="1000"} 4',
        'ndc_segment_batch_events_bucket{le="2500"} 5',
        'ndc_segment_batch_events_bucket{le="+Inf"} 6',
        'ndc_segment_batch_events_sum 6532',
        'ndc_segment_batch_events_count 6',
      ].join('\n'),
    );
  });

  it('renders gauges once set, merged across shards by maximum', () => {
    const shard = (t: number): MetricsState =>
      stateOf((b) => b.max('ndc_segment_last_delivery_success_timestamp_seconds', {}, t));
    const text = renderPrometheus(mergeStates([shard(1714000000.5), shard(1713000000)]));
    expect(family(text, 'ndc_segment_last_delivery_success_timestamp_seconds')).toBe(
      [
        '# HELP ndc_segment_last_delivery_success_timestamp_seconds Unix time in seconds of the last Firehose call that delivered events.',
        '# TYPE ndc_segment_last_delivery_success_timestamp_seconds gauge',
        'ndc_segment_last_delivery_success_timestamp_seconds 1714000000.5',
      ].join('\n'),
    );
  });

  it('renders counters summed across shards', () => {
    const shard = (n: number): MetricsState =>
      stateOf((b) => {
        b.inc('ndc_segment_request_bytes_total', {}, n);
        b.inc('delivery_success_total', { stream: 'events' }, n);
      });
    const text = renderPrometheus(mergeStates([shard(100), shard(23), shard(0)]));
    expect(family(text, 'ndc_segment_request_bytes_total').split('\n').at(-1)).toBe(
      'ndc_segment_request_bytes_total 123',
    );
    expect(family(text, 'delivery_success_total').split('\n').at(-1)).toBe(
      'delivery_success_total{stream="events"} 123',
    );
  });

  it('renders only samples of the right type from a hand-built state', () => {
    const state: MetricsState = {
      counters: { ndc_segment_last_enqueue_timestamp_seconds: 5 },
      histograms: { ndc_segment_batch_events: { buckets: [1], sum: 1, count: 1 } },
      gauges: { ndc_segment_events_retried_total: 9 },
    };
    expect(renderPrometheus(state)).toBe(
      EMPTY_EXPOSITION.replace(/^ndc_segment_batch_events_.*\n/gm, ''),
    );
  });
});
