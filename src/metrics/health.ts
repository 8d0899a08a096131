// Sink health from the exact counters and the queues' backlog: red when delivery keeps failing,
// when Firehose refuses the credentials, or when events wait too long, without ever calling
// Firehose (the idea of Snowplow's collector "sink health"); and, when forwarding is
// configured, the same for forwarding. Pure.

import { parseSeriesKey } from './series';
import type { MetricsState } from './state';
import { failingSince, STREAK_RETAIN_SECONDS, type DeliveryStreak } from './streak';
import { WAIT_REASON_TEXT, type WaitingSummary } from './waiting';

// Ours: how long delivery may fail without a single success, and how long the oldest queued
// event may wait, before /health turns red. Five minutes outlasts a throttling burst (retry
// backoff is capped at 300 s). Overridable with HEALTH_MAX_DELIVERY_DELAY_SECONDS, up to the
// hour of failures the streak keeps (streak.ts).
export const HEALTH_MAX_DELIVERY_DELAY_SECONDS = 300;

export interface Backlog {
  messages: number;
  /** Enqueue time of the oldest waiting message, ms since the epoch; 0 or absent when none. */
  oldestMessageAt?: number;
}

export type Status = 'pass' | 'fail';

export interface Health {
  status: Status;
  checks: {
    delivery: {
      status: Status;
      lastSuccess: string | null;
      lastFailure: string | null;
      /** First failure after the last success, while delivery is failing. */
      failingSince: string | null;
      output?: string;
    };
    credentials: {
      status: Status;
      lastRefusal: string | null;
      output?: string;
    };
    backlog: {
      status: Status | 'unknown';
      messages: number | null;
      oldestAgeSeconds: number | null;
      output?: string;
    };
    /** Events held back by a failure an operator or the platform must fix (waiting.ts). */
    waiting: {
      status: Status;
      events: number;
      oldestWaitSeconds: number;
      reasons: Array<{ reason: string; events: number; why: string }>;
      output?: string;
    };
    /** Dedupe windows shortened to keep a shard within its memory, within the last window. */
    dedupe: {
      status: Status;
      sources: Array<{ source: string; lastEviction: string; keysForgotten: number }>;
      output?: string;
    };
    /** Present only when forwarding is configured (FORWARD_ENDPOINT set). */
    forwarding?: {
      status: Status;
      lastSuccess: string | null;
      lastFailure: string | null;
      failingSince: string | null;
      /** The forward queue's backlog (null where the runtime does not report it). */
      messages: number | null;
      oldestAgeSeconds: number | null;
      output?: string;
    };
  };
}

/** What /health knows about forwarding when FORWARD_ENDPOINT is set. */
export interface ForwardingInput {
  /** Why forwarding cannot work as configured (bad endpoint, no source, no binding), if so. */
  problem?: string;
  /** The forward queue's backlog, where the runtime reports it. */
  backlog?: Backlog;
}

function gauge(state: MetricsState, name: string): number {
  const v = state.gauges[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

const iso = (s: number | undefined): string | null =>
  s !== undefined && s > 0 ? new Date(s * 1000).toISOString() : null;

interface Failing {
  success: number;
  failure: number;
  /** First failure after the last success, while failing. */
  since: number | undefined;
  /** Seconds from `since` to the last failure. */
  duration: number;
}

/** How long something has failed without a success, from its two gauges and its streak. */
function failing(
  state: MetricsState,
  successGauge: string,
  failureGauge: string,
  streak: DeliveryStreak | undefined,
): Failing {
  const success = Math.max(gauge(state, successGauge), streak?.success ?? 0);
  const failure = gauge(state, failureGauge);
  // Without a streak (shards of earlier versions), the last failure is the only safe start:
  // it can only make the check later to turn red, never earlier.
  const since =
    failure > success ? ((streak ? failingSince(streak) : undefined) ?? failure) : undefined;
  const duration = since === undefined ? 0 : Math.max(0, failure - since);
  return { success, failure, since, duration };
}

function failingOutput(what: string, f: Failing): string {
  return (
    `${what} has failed for ${Math.round(f.duration)} s (since ${iso(f.since)}) without a ` +
    `success; ${f.success > 0 ? `last success ${iso(f.success)}` : 'it never succeeded'}`
  );
}

function deliveryCheck(state: MetricsState, maxDelaySeconds: number): Health['checks']['delivery'] {
  const f = failing(
    state,
    'ndc_segment_last_delivery_success_timestamp_seconds',
    'ndc_segment_last_delivery_failure_timestamp_seconds',
    state.streak,
  );
  const red = f.since !== undefined && f.duration >= maxDelaySeconds;
  const check: Health['checks']['delivery'] = {
    status: red ? 'fail' : 'pass',
    lastSuccess: iso(f.success),
    lastFailure: iso(f.failure),
    failingSince: iso(f.since),
  };
  if (red) check.output = failingOutput('delivery', f);
  return check;
}

function backlogAge(backlog: Backlog, now: number): number {
  const oldest = backlog.messages > 0 && backlog.oldestMessageAt ? backlog.oldestMessageAt : 0;
  return oldest > 0 ? Math.max(0, Math.round(now - oldest / 1000)) : 0;
}

/**
 * Forwarding fails when its configuration cannot work, when it has failed without a success
 * for `maxDelaySeconds` (as delivery), or when the oldest copy waiting on the forward queue has
 * waited that long (which also catches a forward consumer that never runs).
 */
function forwardingCheck(
  state: MetricsState,
  input: ForwardingInput,
  now: number,
  maxDelaySeconds: number,
): NonNullable<Health['checks']['forwarding']> {
  const f = failing(
    state,
    'ndc_segment_last_forward_success_timestamp_seconds',
    'ndc_segment_last_forward_failure_timestamp_seconds',
    state.forwardStreak,
  );
  const age = input.backlog === undefined ? null : backlogAge(input.backlog, now);
  const outputs: string[] = [];
  if (input.problem !== undefined) outputs.push(input.problem);
  if (f.since !== undefined && f.duration >= maxDelaySeconds)
    outputs.push(failingOutput('forwarding', f));
  if (age !== null && age > maxDelaySeconds)
    outputs.push(`the oldest event waiting to be forwarded has waited ${age} s`);
  return {
    status: outputs.length > 0 ? 'fail' : 'pass',
    lastSuccess: iso(f.success),
    lastFailure: iso(f.failure),
    failingSince: iso(f.since),
    messages: input.backlog?.messages ?? null,
    oldestAgeSeconds: age,
    ...(outputs.length > 0 ? { output: outputs.join('; ') } : {}),
  };
}

function credentialsCheck(state: MetricsState): Health['checks']['credentials'] {
  const success = gauge(state, 'ndc_segment_last_delivery_success_timestamp_seconds');
  const refused = gauge(state, 'ndc_segment_last_delivery_auth_failure_timestamp_seconds');
  const red = refused > success;
  const check: Health['checks']['credentials'] = {
    status: red ? 'fail' : 'pass',
    lastRefusal: iso(refused),
  };
  if (red) {
    check.output =
      `Firehose refused the credentials or permissions at ${iso(refused)}: check the AWS ` +
      'secrets and the IAM policy; events are kept and retried meanwhile';
  }
  return check;
}

/**
 * Fails while any event is held back by a failure an operator or the platform must fix, saying
 * which and since when; delivery resumes on its own within `retryCapSeconds` of the fix.
 */
function waitingCheck(
  summary: WaitingSummary | undefined,
  retryCapSeconds: number,
): Health['checks']['waiting'] {
  const active = summary?.active ?? [];
  const events = active.reduce((n, a) => n + a.events, 0);
  const reasons = active.map((a) => ({
    reason: a.reason,
    events: a.events,
    why: WAIT_REASON_TEXT[a.reason],
  }));
  const check: Health['checks']['waiting'] = {
    status: events > 0 ? 'fail' : 'pass',
    events,
    oldestWaitSeconds: summary?.blockedSeconds ?? 0,
    reasons,
  };
  if (events > 0) {
    check.output =
      `${events} events held back, none lost: ${reasons.map((r) => `${r.events} because ${r.why}`).join('; ')}; ` +
      `the oldest has waited ${check.oldestWaitSeconds} s. Delivery resumes on its own within ` +
      `${retryCapSeconds} s (DELIVERY_RETRY_MAX_SECONDS) of the fix`;
  }
  return check;
}

/** Fails while a source's dedupe keys were forgotten early within the last `windowSeconds`. */
function dedupeCheck(
  state: MetricsState,
  now: number,
  windowSeconds: number,
): Health['checks']['dedupe'] {
  const forgotten = new Map<string, number>();
  for (const [key, value] of Object.entries(state.counters)) {
    const parsed = parseSeriesKey(key);
    if (parsed?.name === 'ndc_segment_dedupe_evictions_total')
      forgotten.set(parsed.labels['source'] ?? '', value);
  }
  const sources: Health['checks']['dedupe']['sources'] = [];
  for (const [key, at] of Object.entries(state.gauges)) {
    const parsed = parseSeriesKey(key);
    if (parsed?.name !== 'ndc_segment_last_dedupe_eviction_timestamp_seconds') continue;
    if (at < now - windowSeconds) continue;
    const source = parsed.labels['source'] ?? '';
    sources.push({
      source,
      lastEviction: iso(at) ?? '',
      keysForgotten: forgotten.get(source) ?? 0,
    });
  }
  const check: Health['checks']['dedupe'] = {
    status: sources.length > 0 ? 'fail' : 'pass',
    sources,
  };
  if (sources.length > 0) {
    check.output =
      `the dedupe window of ${sources.map((s) => s.source).join(', ')} was shortened to keep a ` +
      'shard within its memory (fresh messageIds faster than DEDUPE_SHARDS can hold): resends ' +
      'of their older events may land again; add dedupe shards (docs/delivery.md)';
  }
  return check;
}

/** What /health knows beyond the counters: what waits now, and the settings it is judged by. */
export interface HealthContext {
  waiting?: WaitingSummary;
  /** DELIVERY_RETRY_MAX_SECONDS. */
  retryCapSeconds: number;
  /** DEDUPE_WINDOW_SECONDS (0: deduplication off). */
  dedupeWindowSeconds: number;
}

/**
 * Delivery fails when it has failed, without a success, for `maxDelaySeconds` counted from the
 * first failure after the last success (a failure after a quiet night is 0 s of failure).
 * Credentials fail as soon as Firehose refused them more recently than anything landed. The
 * backlog fails when its oldest message has waited longer than `maxDelaySeconds`.
 */
export function evaluateHealth(
  state: MetricsState,
  backlog: Backlog | undefined,
  nowMs: number,
  maxDelaySeconds = HEALTH_MAX_DELIVERY_DELAY_SECONDS,
  forwarding?: ForwardingInput,
  context: HealthContext = { retryCapSeconds: 300, dedupeWindowSeconds: 3600 },
): Health {
  const now = nowMs / 1000;
  const delivery = deliveryCheck(state, maxDelaySeconds);
  const credentials = credentialsCheck(state);
  const waiting = waitingCheck(context.waiting, context.retryCapSeconds);
  const dedupe = dedupeCheck(state, now, context.dedupeWindowSeconds);
  let check: Health['checks']['backlog'];
  if (backlog === undefined) {
    check = { status: 'unknown', messages: null, oldestAgeSeconds: null };
  } else {
    const age = backlogAge(backlog, now);
    const stale = age > maxDelaySeconds;
    check = { status: stale ? 'fail' : 'pass', messages: backlog.messages, oldestAgeSeconds: age };
    if (stale) check.output = `the oldest queued event has waited ${age} s`;
  }
  const forward =
    forwarding === undefined ? undefined : forwardingCheck(state, forwarding, now, maxDelaySeconds);
  const checks = [delivery, credentials, check, waiting, dedupe, forward];
  const status: Status = checks.some((c) => c?.status === 'fail') ? 'fail' : 'pass';
  return {
    status,
    checks: {
      delivery,
      credentials,
      backlog: check,
      waiting,
      dedupe,
      ...(forward === undefined ? {} : { forwarding: forward }),
    },
  };
}

/** The backlogs of several queues as one: messages summed, the oldest message of any. */
export function combineBacklogs(backlogs: ReadonlyArray<Backlog | undefined>): Backlog | undefined {
  const known = backlogs.filter((b): b is Backlog => b !== undefined);
  if (known.length === 0) return undefined;
  const oldest = known
    .map((b) => (b.messages > 0 ? (b.oldestMessageAt ?? 0) : 0))
    .filter((t) => t > 0);
  return {
    messages: known.reduce((n, b) => n + b.messages, 0),
    ...(oldest.length > 0 ? { oldestMessageAt: Math.min(...oldest) } : {}),
  };
}

/** HEALTH_MAX_DELIVERY_DELAY_SECONDS when it is a non-negative number, else the default. */
export function healthDelaySeconds(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n >= 0
    ? Math.min(n, STREAK_RETAIN_SECONDS)
    : HEALTH_MAX_DELIVERY_DELAY_SECONDS;
}
