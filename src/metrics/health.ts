// Sink health from the exact counters and the queue's backlog: red when delivery keeps failing
// or events wait too long, without ever calling Firehose (the idea of Snowplow's collector
// "sink health"). Pure.

import type { MetricsState } from './state';

// Ours: how long delivery may fail without a single success, and how long the oldest queued
// event may wait, before /health turns red. Five minutes outlasts a throttling burst (retry
// backoff is capped at 300 s). Overridable with HEALTH_MAX_DELIVERY_DELAY_SECONDS.
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
      output?: string;
    };
    backlog: {
      status: Status | 'unknown';
      messages: number | null;
      oldestAgeSeconds: number | null;
      output?: string;
    };
  };
}

function gauge(state: MetricsState, name: string): number {
  const v = state.gauges[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

const iso = (s: number): string | null => (s > 0 ? new Date(s * 1000).toISOString() : null);

/**
 * Delivery fails when the latest attempt failed and no attempt succeeded in the last
 * `maxDelaySeconds` (or ever). The backlog fails when its oldest message has waited longer
 * than that. Either one makes the whole status fail.
 */
export function evaluateHealth(
  state: MetricsState,
  backlog: Backlog | undefined,
  nowMs: number,
  maxDelaySeconds = HEALTH_MAX_DELIVERY_DELAY_SECONDS,
): Health {
  const now = nowMs / 1000;
  const success = gauge(state, 'ndc_segment_last_delivery_success_timestamp_seconds');
  const failure = gauge(state, 'ndc_segment_last_delivery_failure_timestamp_seconds');
  const failing = failure > success && failure - success > maxDelaySeconds;
  const delivery: Health['checks']['delivery'] = {
    status: failing ? 'fail' : 'pass',
    lastSuccess: iso(success),
    lastFailure: iso(failure),
  };
  if (failing) {
    delivery.output =
      success > 0
        ? `delivery has failed for ${Math.round(failure - success)} s without a success`
        : 'delivery has failed and never succeeded';
  }

  let check: Health['checks']['backlog'];
  if (backlog === undefined) {
    check = { status: 'unknown', messages: null, oldestAgeSeconds: null };
  } else {
    const oldest = backlog.messages > 0 && backlog.oldestMessageAt ? backlog.oldestMessageAt : 0;
    const age = oldest > 0 ? Math.max(0, Math.round(now - oldest / 1000)) : 0;
    const stale = age > maxDelaySeconds;
    check = { status: stale ? 'fail' : 'pass', messages: backlog.messages, oldestAgeSeconds: age };
    if (stale) check.output = `the oldest queued event has waited ${age} s`;
  }
  const status: Status = delivery.status === 'fail' || check.status === 'fail' ? 'fail' : 'pass';
  return { status, checks: { delivery, backlog: check } };
}

/** HEALTH_MAX_DELIVERY_DELAY_SECONDS when it is a non-negative number, else the default. */
export function healthDelaySeconds(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n >= 0
    ? n
    : HEALTH_MAX_DELIVERY_DELAY_SECONDS;
}
