// What a /v1/batch answer means for the events it carried: delivered, retried (after how long)
// or refused for good. Pure: status, headers and body text in; the clock is a parameter.
//
// Retried: 429 (after its Retry-After), 408 and 5xx (503 after its Retry-After when it sends
// one), and, from the client, timeouts and network errors. Refused for good: any other answer,
// including 3xx (redirects are never followed: only FORWARD_ENDPOINT is contacted) and 4xx such
// as 400 for a body the destination cannot take or 401 for a write key it does not know.

import { FORWARD_MAX_RETRY_AFTER_SECONDS, FORWARD_REASON_MAX_CHARS } from './limits';

export type ForwardRetryCause = 'throttled' | 'unavailable' | 'ambiguous' | 'not_configured';

export type ForwardCallOutcome =
  | { kind: 'ok' }
  | { kind: 'retry'; code: string; cause: ForwardRetryCause; delaySeconds?: number }
  | { kind: 'dead'; reason: string };

/**
 * Seconds a Retry-After value asks for: delta-seconds or an HTTP-date (RFC 9110 §10.2.3),
 * rounded up, at least 1 and at most what Queues accepts as a retry delay; undefined when the
 * header is absent or unreadable.
 */
export function retryAfterSeconds(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  let seconds: number;
  if (/^\d+$/.test(text)) {
    seconds = Number(text);
  } else if (/ GMT$/.test(text)) {
    // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT", the form senders must generate.
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    seconds = (at - nowMs) / 1000;
  } else {
    return undefined;
  }
  return Math.min(FORWARD_MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));
}

const snippet = (body: string): string =>
  body.replace(/\s+/g, ' ').trim().slice(0, FORWARD_REASON_MAX_CHARS);

/** The outcome of an answered call. */
export function decodeBatchResponse(
  status: number,
  headers: { retryAfter: string | null },
  body: string,
  nowMs: number,
): ForwardCallOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const code = `http_${status}`;
  const delay = retryAfterSeconds(headers.retryAfter, nowMs);
  const withDelay = delay === undefined ? {} : { delaySeconds: delay };
  if (status === 429) return { kind: 'retry', code, cause: 'throttled', ...withDelay };
  if (status === 503) return { kind: 'retry', code, cause: 'unavailable', ...withDelay };
  // 408 Request Timeout: the server gave up waiting for the request (RFC 9110 §15.5.9).
  if (status === 408 || status >= 500) return { kind: 'retry', code, cause: 'unavailable' };
  if (status >= 300 && status < 400)
    return {
      kind: 'dead',
      reason: `${code}: redirects are not followed; set FORWARD_ENDPOINT to the final URL`,
    };
  const text = snippet(body);
  return { kind: 'dead', reason: text === '' ? code : `${code}: ${text}` };
}
