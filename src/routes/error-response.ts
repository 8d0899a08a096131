// The one place where ingest errors become HTTP: status, headers and the JSON body
// `{"success": false, "error": {"code", "message", "field"?}}`. The switch is exhaustive, so a
// new reason that is not mapped here fails to compile.

import { HTTPException } from 'hono/http-exception';
import type { IngestError, IngestReason } from '../segment/errors';

// Workers docs, "Rate Limiting": a binding's period is 10 or 60 seconds. A 429 says to wait one
// period (RATE_LIMIT_PERIOD_SECONDS, the configured one); this is the default, wrangler's own.
export const RATE_LIMIT_RETRY_AFTER_SECONDS = 60;

// Ours: how long a client should wait after the queue refused a send. Queue outages and
// per-queue throughput limits (5,000 messages/s) clear on the scale of seconds.
export const QUEUE_RETRY_AFTER_SECONDS = 5;

// Ours: how long a client should wait when the source's tracking plan or privacy policy could not
// be read (a new isolate that cannot reach KV); an isolate tries again every 5 s (PLAN_RETRY_MS,
// PRIVACY_RETRY_MS).
export const TRACKING_PLAN_RETRY_AFTER_SECONDS = 5;

export function statusFor(reason: IngestReason): number {
  switch (reason) {
    case 'invalid_json':
    case 'invalid_body':
    case 'invalid_encoding':
    case 'invalid_gzip':
    case 'missing_field':
    case 'invalid_field':
    case 'invalid_timestamp':
    case 'type_mismatch':
    case 'unknown_type':
    case 'missing_data':
    case 'invalid_plan':
    case 'invalid_policy':
      return 400;
    case 'missing_write_key':
    case 'invalid_write_key':
    case 'invalid_authorization':
    case 'unauthorized':
      return 401;
    case 'origin_not_allowed':
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'request_timeout':
      return 408;
    case 'method_not_allowed':
      return 405;
    case 'upgrade_required':
      return 426;
    case 'event_too_large':
    case 'payload_too_large':
    case 'too_many_events':
      return 413;
    case 'unsupported_media_type':
    case 'unsupported_encoding':
      return 415;
    case 'rate_limited':
      return 429;
    case 'internal_error':
    case 'misconfigured':
      return 500;
    case 'queue_unavailable':
    case 'tracking_plan_unavailable':
    case 'privacy_unavailable':
      return 503;
  }
}

/**
 * A 429's wait, in the header each analytics.js reads, both in delta-seconds (what Segment's API
 * sends): analytics-next 1.84+ reads `Retry-After` (shared-dispatcher.ts `parseRetryAfter`:
 * `parseInt(value) * 1000` ms, capped at 300 s); 1.73 to 1.83 read `x-ratelimit-reset`
 * (fetch-dispatcher.ts and batched-dispatcher.ts: `parseInt(value) * 1000` ms). An epoch time
 * there would make those browsers wait for decades, so it is a duration too.
 */
export function rateLimitHeaders(seconds: number): Record<string, string> {
  return { 'Retry-After': String(seconds), 'X-RateLimit-Reset': String(seconds) };
}

function headersFor(error: IngestError): Record<string, string> {
  switch (error.reason) {
    case 'rate_limited':
      return rateLimitHeaders(error.retryAfterSeconds ?? RATE_LIMIT_RETRY_AFTER_SECONDS);
    case 'queue_unavailable':
      return { 'Retry-After': String(error.retryAfterSeconds ?? QUEUE_RETRY_AFTER_SECONDS) };
    case 'tracking_plan_unavailable':
    case 'privacy_unavailable':
      return {
        'Retry-After': String(error.retryAfterSeconds ?? TRACKING_PLAN_RETRY_AFTER_SECONDS),
      };
    case 'missing_write_key':
    case 'invalid_write_key':
    case 'invalid_authorization':
      return { 'WWW-Authenticate': 'Basic realm="ndc-segment"' };
    case 'upgrade_required':
      return { Upgrade: 'websocket' };
    default:
      return {};
  }
}

export function errorBody(error: IngestError): {
  success: false;
  error: { code: IngestReason; message: string; field?: string };
} {
  const { reason, message, field } = error;
  return {
    success: false,
    error: field === undefined ? { code: reason, message } : { code: reason, message, field },
  };
}

export function errorResponse(
  error: IngestError,
  extraHeaders: Record<string, string> = {},
  extraBody: Record<string, unknown> = {},
): Response {
  return new Response(JSON.stringify({ ...errorBody(error), ...extraBody }), {
    status: statusFor(error.reason),
    headers: {
      'Content-Type': 'application/json; charset=UTF-8',
      ...headersFor(error),
      ...extraHeaders,
    },
  });
}

/** Thrown at the HTTP edge only; `app.onError` turns it into `errorResponse`. */
export class IngestHttpError extends HTTPException {
  readonly error: IngestError;
  constructor(error: IngestError) {
    // The status literal union of HTTPException does not include every number we map.
    super(statusFor(error.reason) as ConstructorParameters<typeof HTTPException>[0], {
      message: error.message,
    });
    this.error = error;
  }
}

/** The value of an ok Result, or throws the error for `app.onError`. */
export function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: IngestError }): T {
  if (!result.ok) throw new IngestHttpError(result.error);
  return result.value;
}
