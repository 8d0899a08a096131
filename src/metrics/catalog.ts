// The metric catalog: every metric the collector exposes, with its type, help text, label
// names and histogram buckets. Pure data. Metric names are a public contract (users'
// dashboards and alerts query them): rename nothing, only add.
//
// Naming follows the Prometheus "Metric and label naming" guide and `promtool check metrics`:
// snake_case, base units (seconds, bytes), counters end in `_total`, gauges and histograms do
// not. The derived types below let callers name a metric and its labels only as catalogued.

export interface CounterDef {
  readonly type: 'counter';
  readonly help: string;
  readonly labels: readonly string[];
}

export interface HistogramDef {
  readonly type: 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
  /** Upper bounds (`le`, inclusive), strictly increasing; `+Inf` is implied. */
  readonly buckets: readonly number[];
}

export interface GaugeDef {
  readonly type: 'gauge';
  readonly help: string;
  readonly labels: readonly string[];
}

export type MetricDef = CounterDef | HistogramDef | GaugeDef;
export type MetricType = MetricDef['type'];

// Ours: ingest-to-Firehose latency spans a fast path of tens of milliseconds, queue batching
// (Cloudflare Queues `max_batch_timeout`, at most 60 s) and consumer retries with back-off
// (minutes), so the bounds run from 0.05 s to 15 min in steps of ×1.5 to ×3; anything slower
// lands in +Inf. Seconds, the Prometheus base unit ("Metric and label naming").
export const DELIVERY_LATENCY_BUCKETS_SECONDS = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900,
] as const;

// Ours: events per ingest request, from a single call up to Segment's batch cap of 2,500 events
// (Segment HTTP Tracking API, "Batch"; `BATCH_MAX_EVENTS` in src/segment/limits.ts).
export const BATCH_EVENTS_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500] as const;

export const METRIC_CATALOG = {
  ndc_segment_events_received_total: {
    type: 'counter',
    help: 'Events accepted by the ingest API, by Segment call type and source.',
    labels: ['type', 'source'],
  },
  ndc_segment_events_rejected_total: {
    type: 'counter',
    help: 'Events or requests refused by the ingest API, by rejection reason.',
    labels: ['reason'],
  },
  ndc_segment_requests_total: {
    type: 'counter',
    help: 'HTTP requests served, by route and response status code.',
    labels: ['route', 'status'],
  },
  ndc_segment_request_bytes_total: {
    type: 'counter',
    help: 'Request body bytes received by the ingest API.',
    labels: [],
  },
  ndc_segment_queue_send_failures_total: {
    type: 'counter',
    help: 'Failed sends of event messages to the queue.',
    labels: [],
  },
  ndc_segment_queue_messages_sent_total: {
    type: 'counter',
    help: 'Messages sent to the events queues, by producer binding (EVENTS, EVENTS_1, ...).',
    labels: ['queue'],
  },
  ndc_segment_request_compressed_bytes_total: {
    type: 'counter',
    help: 'Gzip request body bytes as received, before inflation.',
    labels: [],
  },
  ndc_segment_events_delivered_total: {
    type: 'counter',
    help: 'Events accepted by Amazon Data Firehose, by delivery stream.',
    labels: ['stream'],
  },
  ndc_segment_records_delivered_total: {
    type: 'counter',
    help: 'Firehose records accepted by Amazon Data Firehose, by delivery stream.',
    labels: ['stream'],
  },
  ndc_segment_firehose_calls_total: {
    type: 'counter',
    help: 'PutRecordBatch calls to Amazon Data Firehose, by delivery stream and outcome.',
    labels: ['stream', 'outcome'],
  },
  ndc_segment_events_retried_total: {
    type: 'counter',
    help: 'Events handed back to the queue for another delivery attempt.',
    labels: [],
  },
  ndc_segment_events_dead_lettered_total: {
    type: 'counter',
    help: 'Events moved to the dead-letter queue after their last delivery attempt.',
    labels: [],
  },
  ndc_segment_events_archived_total: {
    type: 'counter',
    help: 'Events written to the archive.',
    labels: [],
  },
  ndc_segment_events_replayed_total: {
    type: 'counter',
    help: 'Events re-enqueued for delivery by a replay.',
    labels: [],
  },
  ndc_segment_events_deduplicated_total: {
    type: 'counter',
    help: 'Events dropped because the same messageId of the source was delivered within the window.',
    labels: ['source'],
  },
  ndc_segment_events_ambiguous_total: {
    type: 'counter',
    help: 'Events sent again after a Firehose call whose answer was lost (they may land twice).',
    labels: [],
  },
  ndc_segment_tracking_plan_violations_total: {
    type: 'counter',
    help: "Events that broke their source's tracking plan (a schema violation or an unplanned event), by source.",
    labels: ['source'],
  },
  ndc_segment_events_blocked_total: {
    type: 'counter',
    help: 'Events a tracking plan kept from delivery and archived, by source and reason (violation, unplanned_event).',
    labels: ['source', 'reason'],
  },
  ndc_segment_debugger_events_captured_total: {
    type: 'counter',
    help: 'Events captured for the live debugger (a source being watched), by status.',
    labels: ['status'],
  },
  ndc_segment_debugger_events_skipped_total: {
    type: 'counter',
    help: 'Events of watched sources left out of the debugger by its per-source sampling.',
    labels: [],
  },
  delivery_success_total: {
    type: 'counter',
    help: 'Events delivered to the Firehose stream: the delivery_* name older dashboards use, the same count as ndc_segment_events_delivered_total.',
    labels: ['stream'],
  },
  delivery_failure_total: {
    type: 'counter',
    help: 'Events in failed Firehose records or calls, each attempt: the delivery_* name older dashboards use.',
    labels: ['stream'],
  },
  ndc_segment_delivery_latency_seconds: {
    type: 'histogram',
    help: 'Seconds from an event being received to Firehose accepting it.',
    labels: [],
    buckets: DELIVERY_LATENCY_BUCKETS_SECONDS,
  },
  ndc_segment_batch_events: {
    type: 'histogram',
    help: 'Events per ingest request.',
    labels: [],
    buckets: BATCH_EVENTS_BUCKETS,
  },
  ndc_segment_last_delivery_success_timestamp_seconds: {
    type: 'gauge',
    help: 'Unix time in seconds of the last Firehose call that delivered events.',
    labels: [],
  },
  ndc_segment_last_delivery_failure_timestamp_seconds: {
    type: 'gauge',
    help: 'Unix time in seconds of the last failed Firehose delivery.',
    labels: [],
  },
  ndc_segment_last_enqueue_timestamp_seconds: {
    type: 'gauge',
    help: 'Unix time in seconds of the last successful send of events to the queue.',
    labels: [],
  },
  ndc_segment_last_delivery_auth_failure_timestamp_seconds: {
    type: 'gauge',
    help: 'Unix time in seconds of the last Firehose call refused for credentials or permissions.',
    labels: [],
  },
  ndc_segment_events_forwarded_total: {
    type: 'counter',
    help: 'Events of forwarded sources handled by the forward consumer, by source and outcome (ok, retried, dead_lettered).',
    labels: ['source', 'outcome'],
  },
  ndc_segment_last_forward_success_timestamp_seconds: {
    type: 'gauge',
    help: 'Unix time in seconds of the last call to the forward endpoint that delivered events.',
    labels: [],
  },
  ndc_segment_last_forward_failure_timestamp_seconds: {
    type: 'gauge',
    help: 'Unix time in seconds of the last failed forwarding (a failed call, or a copy the forward queue refused).',
    labels: [],
  },
  ndc_segment_events_suppressed_total: {
    type: 'counter',
    help: 'Events of suppressed users (by userId or anonymousId) answered 200 and never queued, by source.',
    labels: ['source'],
  },
  ndc_segment_events_consent_filtered_total: {
    type: 'counter',
    help: 'Events kept from a sink (firehose, forward) by their consent or a Sec-GPC drop policy, by source and sink; an event kept from every sink is not queued.',
    labels: ['source', 'sink'],
  },
  ndc_segment_fields_redacted_total: {
    type: 'counter',
    help: 'Values a privacy policy removed (drop), hashed (hash) or truncated (an IP address), by source and action.',
    labels: ['source', 'action'],
  },
  ndc_segment_delivery_waiting_events: {
    type: 'gauge',
    help: 'Events held back by a failure an operator or the platform must fix, by reason (credentials, configuration, dedupe, queue, archive, firehose); delivered on their own once it is fixed.',
    labels: ['reason'],
  },
  ndc_segment_delivery_blocked_seconds: {
    type: 'gauge',
    help: 'Seconds the oldest event held back by such a failure has waited since it was first queued; 0 when none is.',
    labels: [],
  },
  ndc_segment_events_requeued_total: {
    type: 'counter',
    help: 'Events put back on an events queue as a fresh copy instead of being dead-lettered, by reason.',
    labels: ['reason'],
  },
  ndc_segment_dedupe_evictions_total: {
    type: 'counter',
    help: "Dedupe keys forgotten before the end of the window to keep a shard within its memory, by source (that source's window was shortened).",
    labels: ['source'],
  },
  ndc_segment_last_dedupe_eviction_timestamp_seconds: {
    type: 'gauge',
    help: 'Unix time in seconds of the last dedupe key of the source forgotten before the end of the window.',
    labels: ['source'],
  },
} as const satisfies Record<string, MetricDef>;

type Catalog = typeof METRIC_CATALOG;

export type MetricName = keyof Catalog;

type NamesOfType<T extends MetricType> = {
  [N in MetricName]: Catalog[N]['type'] extends T ? N : never;
}[MetricName];

export type CounterName = NamesOfType<'counter'>;
export type HistogramName = NamesOfType<'histogram'>;
export type GaugeName = NamesOfType<'gauge'>;

export type LabelName<N extends MetricName> = Catalog[N]['labels'][number];

/**
 * The labels a metric takes: exactly its catalogued label names, each a string. A metric
 * without labels takes `{}` and nothing else.
 */
export type Labels<N extends MetricName> = [LabelName<N>] extends [never]
  ? Readonly<Record<string, never>>
  : Readonly<Record<LabelName<N>, string>>;

/** Every metric name, in catalog order (the order of the exposition). */
export const METRIC_NAMES = Object.keys(METRIC_CATALOG) as readonly MetricName[];

/** The definition of a catalogued metric, or undefined for any other string. */
export function metricDef(name: string): MetricDef | undefined {
  return Object.hasOwn(METRIC_CATALOG, name) ? METRIC_CATALOG[name as MetricName] : undefined;
}
