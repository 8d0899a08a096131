// What each part of the collector records: domain events in, metric updates out. Pure: writes
// only to the MetricsBuffer it is given.

import { PATH_TYPES } from '../segment/types';
import type { MetricsBuffer } from './buffer';
import { minuteOf } from './minutes';
import type { WaitingChange, WaitReason } from './waiting';

export type CallLabel = 'ok' | 'partial' | 'retry' | 'fatal' | 'too_large';

/** What one consumer batch did (built by src/queue/consumer.ts), for metrics and logs. */
export interface DeliveryReport {
  calls: Array<{ stream: string; outcome: CallLabel; code?: string; records: number }>;
  delivered: Array<{
    stream: string;
    events: number;
    records: number;
    bytes: number;
    /** When each landed message's events were received, and their source: latency and lag. */
    received: Array<{ at: number; events: number; source: string }>;
  }>;
  /** Events in records or calls that failed, by stream (retried or dead-lettered). */
  failed: Array<{ stream: string; events: number }>;
  retriedEvents: number;
  deadLetteredEvents: number;
  /** The dead-lettered events by source (those of an undecodable message have none). */
  deadLetteredBySource?: Array<{ source: string; events: number }>;
  /** Events whose dead-lettering failed and that were retried instead. */
  deadLetterSendFailures: number;
  /** Events dropped as duplicates of an event already delivered or in flight, by source. */
  deduplicated: Array<{ source: string; events: number }>;
  /** Events retried after a call that may have landed them (timeout, lost answer). */
  ambiguousEvents: number;
  /** Whether a call failed for credentials or permissions (the operator must act). */
  authFailure: boolean;
  /** Events retried because the forward queue refused their copy (docs/forwarding.md). */
  forwardCopyFailedEvents?: number;
  /** Blocked events archived under blocked/ (src/archive/blocked.ts). */
  archivedEvents?: number;
  /** What each message did to the events held back by a waiting failure (waiting.ts). */
  waiting?: WaitingChange[];
  /** Events requeued as fresh copies, by the failure they wait on. */
  requeued?: Array<{ reason: WaitReason; events: number }>;
}

export type ForwardOutcomeLabel = 'ok' | 'retried' | 'dead_lettered' | 'skipped';

/** What one batch of the forward queue did (built by src/queue/forward-consumer.ts). */
export interface ForwardReport {
  /** Events by source and outcome. */
  events: Array<{ source: string; outcome: ForwardOutcomeLabel; events: number }>;
  /** Calls the endpoint answered 2xx. */
  okCalls: number;
  /** Codes of the calls that failed (an answer other than 2xx, a timeout, a network error). */
  failedCalls: string[];
  /** Messages retried for want of configuration: forwarding off or invalid, no write key. */
  notConfigured: number;
}

const SINGLE_PATHS = new Set(Object.keys(PATH_TYPES).map((p) => `/v1/${p}`));
const FIXED_ROUTES = new Set([
  '/',
  '/health',
  '/metrics',
  '/v1/batch',
  '/v1/import',
  '/v1/b',
  '/admin/dead-letters',
  '/admin/blocked',
  '/admin/replay',
  '/admin/tracking-plans',
  '/admin/status',
  '/status',
  '/debugger',
  '/debugger/events',
  '/debugger/sources',
  '/debugger/watch',
  '/debugger/ws',
]);
const PIXEL = /^\/v1\/pixel\/(track|identify|page|screen|group|alias)$/;
const SETTINGS = /^\/v1\/projects\/[^/]+\/settings$/;
const ANALYTICS_JS = /^\/analytics\.js\/v1\/[^/]+\/analytics\.min\.js$/;
const TRACKING_PLAN = /^\/admin\/tracking-plans\/[^/]+$/;

/** A bounded `route` label: the path for known routes, never a write key or free text. */
export function routeLabel(path: string): string {
  if (SINGLE_PATHS.has(path) || FIXED_ROUTES.has(path) || PIXEL.test(path)) return path;
  if (SETTINGS.test(path)) return '/v1/projects/:writeKey/settings';
  if (ANALYTICS_JS.test(path)) return '/analytics.js/v1/:writeKey/analytics.min.js';
  if (TRACKING_PLAN.test(path)) return '/admin/tracking-plans/:source';
  return 'unmatched';
}

const seconds = (ms: number): number => ms / 1000;

export function recordRequest(m: MetricsBuffer, route: string, status: number): void {
  m.inc('ndc_segment_requests_total', { route, status: String(status) });
}

export function recordRequestBytes(m: MetricsBuffer, bytes: number): void {
  m.inc('ndc_segment_request_bytes_total', {}, bytes);
}

/** Events accepted by one ingest request and queued, by their types. */
export function recordAccepted(
  m: MetricsBuffer,
  types: readonly string[],
  source: string,
  now: number,
): void {
  const byType = new Map<string, number>();
  for (const type of types) byType.set(type, (byType.get(type) ?? 0) + 1);
  for (const [type, n] of byType) m.inc('ndc_segment_events_received_total', { type, source }, n);
  m.minute(source, minuteOf(now), { received: types.length });
  m.observe('ndc_segment_batch_events', {}, types.length);
  m.max('ndc_segment_last_enqueue_timestamp_seconds', {}, seconds(now));
}

/** Events of a known source refused (a batch's invalid items, or a whole refused request). */
export function recordSourceRejected(
  m: MetricsBuffer,
  source: string,
  events: number,
  now: number,
): void {
  if (events > 0) m.minute(source, minuteOf(now), { rejected: events });
}

/** Events or requests refused, by reason code. */
export function recordRejected(m: MetricsBuffer, reason: string, count = 1): void {
  m.inc('ndc_segment_events_rejected_total', { reason }, count);
}

export function recordQueueSendFailure(m: MetricsBuffer): void {
  m.inc('ndc_segment_queue_send_failures_total', {});
}

/** Messages one request put on an events queue, by its binding name. */
export function recordQueueMessagesSent(m: MetricsBuffer, queue: string, messages: number): void {
  m.inc('ndc_segment_queue_messages_sent_total', { queue }, messages);
}

export function recordCompressedBytes(m: MetricsBuffer, bytes: number): void {
  m.inc('ndc_segment_request_compressed_bytes_total', {}, bytes);
}

export function recordDelivery(m: MetricsBuffer, report: DeliveryReport, now: number): void {
  for (const call of report.calls) {
    m.inc('ndc_segment_firehose_calls_total', { stream: call.stream, outcome: call.outcome });
  }
  for (const d of report.delivered) {
    m.inc('ndc_segment_events_delivered_total', { stream: d.stream }, d.events);
    m.inc('ndc_segment_records_delivered_total', { stream: d.stream }, d.records);
    m.inc('delivery_success_total', { stream: d.stream }, d.events);
    for (const r of d.received) {
      if (r.events === 0) continue;
      m.observe('ndc_segment_delivery_latency_seconds', {}, seconds(now - r.at), r.events);
      const lag = Math.max(0, seconds(now - r.at));
      m.minute(r.source, minuteOf(now), {
        delivered: r.events,
        lagSumSeconds: lag * r.events,
        lagMaxSeconds: lag,
      });
    }
  }
  for (const f of report.failed) m.inc('delivery_failure_total', { stream: f.stream }, f.events);
  if (report.retriedEvents > 0) m.inc('ndc_segment_events_retried_total', {}, report.retriedEvents);
  if (report.deadLetteredEvents > 0)
    m.inc('ndc_segment_events_dead_lettered_total', {}, report.deadLetteredEvents);
  for (const d of report.deadLetteredBySource ?? [])
    m.minute(d.source, minuteOf(now), { deadLettered: d.events });
  for (const d of report.deduplicated)
    m.inc('ndc_segment_events_deduplicated_total', { source: d.source }, d.events);
  if (report.ambiguousEvents > 0)
    m.inc('ndc_segment_events_ambiguous_total', {}, report.ambiguousEvents);
  if (report.delivered.length > 0) {
    m.max('ndc_segment_last_delivery_success_timestamp_seconds', {}, seconds(now));
    m.deliveryOutcome(seconds(now), true);
  }
  if (report.failed.length > 0 || report.deadLetterSendFailures > 0) {
    m.max('ndc_segment_last_delivery_failure_timestamp_seconds', {}, seconds(now));
    m.deliveryOutcome(seconds(now), false);
  }
  if (report.authFailure)
    m.max('ndc_segment_last_delivery_auth_failure_timestamp_seconds', {}, seconds(now));
  if ((report.forwardCopyFailedEvents ?? 0) > 0) recordForwardFailure(m, now);
  recordArchived(m, report.archivedEvents ?? 0);
  for (const change of report.waiting ?? []) m.waiting(change, seconds(now));
  for (const r of report.requeued ?? [])
    if (r.events > 0) m.inc('ndc_segment_events_requeued_total', { reason: r.reason }, r.events);
}

/** Dedupe keys a shard forgot before the end of the window, by source (src/dedupe/ledger.ts). */
export function recordDedupeEvictions(
  m: MetricsBuffer,
  evictions: ReadonlyArray<{ source: string; keys: number }>,
  now: number,
): void {
  for (const { source, keys } of evictions) {
    if (keys <= 0) continue;
    m.inc('ndc_segment_dedupe_evictions_total', { source }, keys);
    m.max('ndc_segment_last_dedupe_eviction_timestamp_seconds', { source }, seconds(now));
  }
}

function recordForwardFailure(m: MetricsBuffer, now: number): void {
  m.max('ndc_segment_last_forward_failure_timestamp_seconds', {}, seconds(now));
  m.forwardOutcome(seconds(now), false);
}

export function recordForwarded(m: MetricsBuffer, report: ForwardReport, now: number): void {
  for (const e of report.events) {
    if (e.events > 0)
      m.inc(
        'ndc_segment_events_forwarded_total',
        { source: e.source, outcome: e.outcome },
        e.events,
      );
  }
  if (report.okCalls > 0) {
    m.max('ndc_segment_last_forward_success_timestamp_seconds', {}, seconds(now));
    m.forwardOutcome(seconds(now), true);
  }
  if (report.failedCalls.length > 0 || report.notConfigured > 0) recordForwardFailure(m, now);
}

/**
 * One log line for a forward batch that did not go through, e.g.
 * `forward: 2 of 3 calls failed (http_503 ×2)`; undefined when every call delivered.
 */
export function failedForwardLine(report: ForwardReport): string | undefined {
  const parts: string[] = [];
  if (report.failedCalls.length > 0) {
    const codes = new Map<string, number>();
    for (const code of report.failedCalls) codes.set(code, (codes.get(code) ?? 0) + 1);
    const list = [...codes].map(([code, n]) => `${code} ×${n}`).join(', ');
    const total = report.failedCalls.length + report.okCalls;
    parts.push(`${report.failedCalls.length} of ${total} calls failed (${list})`);
  }
  if (report.notConfigured > 0)
    parts.push(`${report.notConfigured} messages retried: forwarding is not configured for them`);
  return parts.length === 0 ? undefined : `forward: ${parts.join('; ')}`;
}

/**
 * One log line for a batch whose calls did not all succeed, e.g.
 * `delivery: 2 of 3 Firehose calls failed (NetworkError ×1, ServiceUnavailableException ×1)`;
 * undefined when every call landed every record.
 */
export function failedCallsLine(report: DeliveryReport): string | undefined {
  const failed = report.calls.filter((c) => c.outcome !== 'ok');
  if (failed.length === 0) return undefined;
  const codes = new Map<string, number>();
  for (const c of failed) {
    const code = c.code ?? (c.outcome === 'partial' ? 'FailedRecords' : c.outcome);
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  const list = [...codes].map(([code, n]) => `${code} ×${n}`).join(', ');
  return `delivery: ${failed.length} of ${report.calls.length} Firehose calls failed (${list})`;
}

/**
 * What a tracking plan did to one request's events: how many broke it, and how many it blocked
 * by reason. Labels are the source (a configured name) and a fixed reason, never an event
 * name or a property.
 */
export function recordTrackingPlan(
  m: MetricsBuffer,
  source: string,
  violated: number,
  blockedBy: Readonly<Record<'violation' | 'unplanned_event', number>>,
): void {
  if (violated > 0) m.inc('ndc_segment_tracking_plan_violations_total', { source }, violated);
  for (const reason of ['violation', 'unplanned_event'] as const) {
    const n = blockedBy[reason];
    if (n > 0) m.inc('ndc_segment_events_blocked_total', { source, reason }, n);
  }
}

/**
 * What a privacy policy did to one request's events (src/privacy/redact.ts): events of
 * suppressed users, events kept from each sink, values dropped, hashed or truncated. Labels are
 * the source, a sink and an action: never an id, a field or a value.
 */
export function recordPrivacy(
  m: MetricsBuffer,
  source: string,
  counts: {
    suppressed: number;
    consent: Readonly<Record<'firehose' | 'forward', number>>;
    redacted: Readonly<Record<'drop' | 'hash' | 'truncate', number>>;
  },
): void {
  if (counts.suppressed > 0)
    m.inc('ndc_segment_events_suppressed_total', { source }, counts.suppressed);
  for (const sink of ['firehose', 'forward'] as const) {
    const n = counts.consent[sink];
    if (n > 0) m.inc('ndc_segment_events_consent_filtered_total', { source, sink }, n);
  }
  for (const action of ['drop', 'hash', 'truncate'] as const) {
    const n = counts.redacted[action];
    if (n > 0) m.inc('ndc_segment_fields_redacted_total', { source, action }, n);
  }
}

/** Events captured for the debugger, by status; and those its sampling left out. */
export function recordDebuggerCaptured(
  m: MetricsBuffer,
  accepted: number,
  rejected: number,
  skipped: number,
): void {
  if (accepted > 0)
    m.inc('ndc_segment_debugger_events_captured_total', { status: 'accepted' }, accepted);
  if (rejected > 0)
    m.inc('ndc_segment_debugger_events_captured_total', { status: 'rejected' }, rejected);
  if (skipped > 0) m.inc('ndc_segment_debugger_events_skipped_total', {}, skipped);
}

export function recordArchived(m: MetricsBuffer, events: number): void {
  if (events > 0) m.inc('ndc_segment_events_archived_total', {}, events);
}

export function recordReplayed(m: MetricsBuffer, events: number): void {
  if (events > 0) m.inc('ndc_segment_events_replayed_total', {}, events);
}
