// Events held back by a failure an operator or the platform must fix (refused credentials, a
// dedupe shard down, a queue refusing sends, Firehose failing for longer than the ordinary
// retries): how many wait, by reason, and how long the oldest has waited, across every isolate.
// Pure: the clock is a parameter.
//
// A message held back this way is requeued once as a fresh copy marked with its reason
// (src/queue/step.ts): that copy counts as `entered`, and as `left` when it is acked,
// dead-lettered or requeued under another reason. So the gauge is entered − left, exact as
// counters are, kept by the hour the events were first queued. Each time a waiting message is
// seen failing again, its hour is marked as seen: an hour not seen for longer than a retry
// delay can hold (DELIVERY_RETRY_MAX_SECONDS and some slack) holds no waiting message, so
// counts lost with an isolate never leave a phantom behind. How long the oldest has waited
// comes from what was seen recently: every waiting message is seen at least once per retry
// delay, so the earliest first-queued time seen within it is the oldest still waiting.

import { seriesKey } from './series';
import type { MetricsState } from './state';

export const WAIT_REASONS = [
  'credentials',
  'configuration',
  'dedupe',
  'queue',
  'archive',
  'firehose',
] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

export const isWaitReason = (value: unknown): value is WaitReason =>
  typeof value === 'string' && (WAIT_REASONS as readonly string[]).includes(value);

// Ours: the first-queued time is kept by the hour; the longest retention a queue can have is
// 14 days (Queues, "Configure queues"), so hours not seen for 15 days are forgotten.
export const WAITING_HOUR_SECONDS = 3600;
export const WAITING_HOURS_RETAIN_SECONDS = 15 * 86_400;

// Ours: sightings are kept in 10-second buckets for an hour (the resolution and reach of
// ndc_segment_delivery_blocked_seconds; DELIVERY_RETRY_MAX_SECONDS up to an hour is exact).
export const WAITING_SEEN_BUCKET_SECONDS = 10;
export const WAITING_SEEN_RETAIN_SECONDS = 3600;

// Ours: beyond DELIVERY_RETRY_MAX_SECONDS, how late a waiting message may be seen again before
// its reason counts as cleared: a consumer batch's wait (max_batch_timeout, 2 s), a Firehose
// call's timeout (20 s) and a metrics flush (10 s), doubled.
export const WAITING_STALE_SLACK_SECONDS = 120;

export interface WaitingReasonState {
  /** By the hour (Unix s) the events were first queued: [entered, left, last seen (Unix s)]. */
  hours: Record<string, [number, number, number]>;
  /** By 10-second bucket (Unix s) of sightings: the earliest first-queued time (Unix s) seen. */
  seen: Record<string, number>;
}

export type WaitingState = Partial<Record<WaitReason, WaitingReasonState>>;

/** What happened to one message's events in a consumer batch. */
export interface WaitingChange {
  reason: WaitReason;
  /** When the events were first queued, ms since the epoch. */
  queuedAt: number;
  events: number;
  /** entered: requeued marked with `reason`; left: no longer waiting; seen: still waiting. */
  kind: 'entered' | 'left' | 'seen';
}

const floorTo = (seconds: number, step: number): number => Math.floor(seconds / step) * step;

function reasonState(state: WaitingState, reason: WaitReason): WaitingReasonState {
  let r = state[reason];
  if (r === undefined) {
    r = { hours: {}, seen: {} };
    state[reason] = r;
  }
  return r;
}

/** Adds one change at `nowSeconds` (Unix) to a state, in place. */
export function recordWaitingChange(
  state: WaitingState,
  change: WaitingChange,
  nowSeconds: number,
): void {
  if (!Number.isFinite(nowSeconds) || !Number.isFinite(change.queuedAt)) return;
  const r = reasonState(state, change.reason);
  const queued = change.queuedAt / 1000;
  const hour = String(floorTo(queued, WAITING_HOUR_SECONDS));
  const entry = r.hours[hour] ?? [0, 0, 0];
  if (change.kind === 'entered') entry[0] += change.events;
  if (change.kind === 'left') entry[1] += change.events;
  if (change.kind !== 'left') {
    entry[2] = Math.max(entry[2], nowSeconds);
    const bucket = String(floorTo(nowSeconds, WAITING_SEEN_BUCKET_SECONDS));
    r.seen[bucket] = Math.min(r.seen[bucket] ?? Infinity, queued);
  }
  r.hours[hour] = entry;
}

const isAmount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Adds `from` (a delta or another shard's state, read as untrusted) into `into`, in place. */
export function mergeWaiting(into: WaitingState, from: unknown): WaitingState {
  if (!isRecord(from)) return into;
  for (const [reason, value] of Object.entries(from)) {
    if (!isWaitReason(reason) || !isRecord(value)) continue;
    const r = reasonState(into, reason);
    if (isRecord(value['hours'])) {
      for (const [hour, v] of Object.entries(value['hours'])) {
        if (!Array.isArray(v) || v.length !== 3 || !v.every(isAmount) || !isAmount(Number(hour)))
          continue;
        const [entered, left, seen] = v as [number, number, number];
        const entry = r.hours[hour] ?? [0, 0, 0];
        r.hours[hour] = [entry[0] + entered, entry[1] + left, Math.max(entry[2], seen)];
      }
    }
    if (isRecord(value['seen'])) {
      for (const [bucket, v] of Object.entries(value['seen'])) {
        if (!isAmount(v) || !isAmount(Number(bucket))) continue;
        r.seen[bucket] = Math.min(r.seen[bucket] ?? Infinity, v);
      }
    }
    prune(r);
  }
  return into;
}

/** Forgets hours and sightings too old to matter, measured from the newest sighting. */
function prune(r: WaitingReasonState): void {
  const lastSeen = Math.max(0, ...Object.values(r.hours).map((h) => h[2]));
  for (const [hour, h] of Object.entries(r.hours)) {
    if (h[2] < lastSeen - WAITING_HOURS_RETAIN_SECONDS) delete r.hours[hour];
  }
  const newest = Math.max(0, ...Object.keys(r.seen).map(Number));
  for (const bucket of Object.keys(r.seen)) {
    if (Number(bucket) < newest - WAITING_SEEN_RETAIN_SECONDS) delete r.seen[bucket];
  }
}

export interface WaitingSummary {
  /** Events held back now, by reason (every reason, 0 when none). */
  events: Record<WaitReason, number>;
  /** Seconds the oldest event held back has waited since it was first queued; 0 when none. */
  blockedSeconds: number;
  /** The reasons with events held back, with the earliest first-queued time seen recently. */
  active: Array<{ reason: WaitReason; events: number; oldestQueuedAt: number | undefined }>;
}

/**
 * What waits now: per reason, the events of the hours seen within `staleSeconds` (entered less
 * left), and, for reasons with events held back, the earliest first-queued time among the
 * sightings within it (an event delivered meanwhile can make it older than the oldest left).
 */
export function summarizeWaiting(
  state: WaitingState | undefined,
  nowSeconds: number,
  staleSeconds: number,
): WaitingSummary {
  const since = nowSeconds - staleSeconds;
  const events = Object.fromEntries(WAIT_REASONS.map((r) => [r, 0])) as Record<WaitReason, number>;
  const active: WaitingSummary['active'] = [];
  let oldest = Infinity;
  for (const reason of WAIT_REASONS) {
    const r = state?.[reason];
    if (r === undefined) continue;
    let n = 0;
    for (const [entered, left, seen] of Object.values(r.hours)) {
      if (seen >= since) n += Math.max(0, entered - left);
    }
    const recent = Object.entries(r.seen)
      .filter(([bucket]) => Number(bucket) + WAITING_SEEN_BUCKET_SECONDS > since)
      .map(([, queued]) => queued);
    const first = recent.length > 0 ? Math.min(...recent) : undefined;
    events[reason] = n;
    if (n === 0) continue;
    active.push({ reason, events: n, oldestQueuedAt: first });
    if (first !== undefined) oldest = Math.min(oldest, first);
  }
  const blockedSeconds = oldest === Infinity ? 0 : Math.max(0, Math.round(nowSeconds - oldest));
  return { events, blockedSeconds, active };
}

/**
 * The state with the two waiting gauges set from `summary` (computed at read time: they are
 * levels, not the maxima other gauges merge to): every reason, 0 when nothing waits on it.
 */
export function withWaitingGauges(state: MetricsState, summary: WaitingSummary): MetricsState {
  const gauges = { ...state.gauges };
  for (const reason of WAIT_REASONS)
    gauges[seriesKey('ndc_segment_delivery_waiting_events', { reason })] = summary.events[reason];
  gauges[seriesKey('ndc_segment_delivery_blocked_seconds', {})] = summary.blockedSeconds;
  return { ...state, gauges };
}

/** What each reason means for an operator, for /health. */
export const WAIT_REASON_TEXT: Readonly<Record<WaitReason, string>> = {
  credentials:
    'Firehose refused the credentials or permissions, or they are not set: check the AWS secrets and the IAM policy',
  configuration: 'FIREHOSE_STREAM is not set',
  dedupe: 'a dedupe shard fails or does not answer',
  queue: 'the forward queue refuses the copies of forwarded events',
  archive: 'R2 (ARCHIVE) refuses the events a tracking plan blocked',
  firehose: 'Firehose kept failing past the ordinary retries (throttling, errors, timeouts)',
};
