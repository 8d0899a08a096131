// The forward endpoint adapter: posts one /v1/batch body with the destination's write key as
// HTTP Basic user name (as analytics-node and analytics.js send it), with a timeout. Never
// throws: timeouts and network errors come back as retryable outcomes. Redirects are not
// followed, so no address but FORWARD_ENDPOINT is ever contacted.

import { NAME, VERSION } from '../version';
import { decodeBatchResponse, type ForwardCallOutcome } from './codec';

export interface ForwardTarget {
  endpoint: string;
  timeoutMs: number;
}

/** `Basic base64(writeKey:)` (Segment HTTP API, "Basic authentication"), UTF-8 safe. */
export function basicAuthorization(writeKey: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${writeKey}:`)) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

export async function postBatch(
  target: ForwardTarget,
  writeKey: string,
  body: string,
  now: () => number,
): Promise<ForwardCallOutcome> {
  try {
    const res = await fetch(target.endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: basicAuthorization(writeKey),
        'User-Agent': `${NAME}/${VERSION} forwarder`,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    const text = await res.text();
    return decodeBatchResponse(
      res.status,
      { retryAfter: res.headers.get('retry-after') },
      text,
      now(),
    );
  } catch (e) {
    const timeout = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
    // Either may strike after the endpoint took the events: resent, the destination drops
    // the copy by messageId.
    return { kind: 'retry', code: timeout ? 'Timeout' : 'NetworkError', cause: 'ambiguous' };
  }
}
