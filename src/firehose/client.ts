// The Firehose adapter: signs PutRecordBatch with aws4fetch and sends it with a timeout.
// Never throws: network errors and timeouts come back as retryable outcomes.

import { AwsClient } from 'aws4fetch';
import { decodePutRecordBatchResponse, type CallOutcome } from './codec';
import { FIREHOSE_CONTENT_TYPE, FIREHOSE_TARGET_PUT_RECORD_BATCH } from './limits';

// Ours: a PutRecordBatch of up to 4 MiB normally answers within a second or two; past 20 s
// the call is abandoned and its messages retried (the consumer has 15 minutes of wall time).
export const FIREHOSE_CALL_TIMEOUT_MS = 20_000;

export interface FirehoseSettings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Abandon a call after this long (default FIREHOSE_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Firehose's regional endpoint (AWS General Reference, "Amazon Data Firehose endpoints"). */
export function defaultEndpoint(region: string): string {
  return `https://firehose.${region}.amazonaws.com/`;
}

const clients = new Map<string, AwsClient>();

// Firehose answers `application/x-amz-json-1.1`, UTF-8 JSON that workerd does not count as
// text: Response.text() would log a warning per call, so the bytes are decoded here.
const utf8 = new TextDecoder();

function clientFor(s: FirehoseSettings): AwsClient {
  const key = `${s.accessKeyId}\n${s.secretAccessKey}\n${s.sessionToken ?? ''}\n${s.region}`;
  let client = clients.get(key);
  if (client === undefined) {
    // retries: 0 — the queue owns retries (aws4fetch would otherwise retry 10 times, ~25 s).
    client = new AwsClient({
      accessKeyId: s.accessKeyId,
      secretAccessKey: s.secretAccessKey,
      ...(s.sessionToken === undefined ? {} : { sessionToken: s.sessionToken }),
      service: 'firehose',
      region: s.region,
      retries: 0,
    });
    clients.set(key, client);
  }
  return client;
}

/** The signed request; `datetime` (YYYYMMDDTHHMMSSZ) pins the clock for golden tests. */
export function signPutRecordBatch(
  s: FirehoseSettings,
  body: string,
  datetime?: string,
): Promise<Request> {
  return clientFor(s).sign(s.endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': FIREHOSE_CONTENT_TYPE,
      'X-Amz-Target': FIREHOSE_TARGET_PUT_RECORD_BATCH,
    },
    body,
    ...(datetime === undefined ? {} : { aws: { datetime } }),
  });
}

export async function putRecordBatch(
  s: FirehoseSettings,
  body: string,
  recordCount: number,
): Promise<CallOutcome> {
  try {
    const signed = await signPutRecordBatch(s, body);
    // The body goes as the string itself, not the signed Request's stream: a stream whose
    // upload dies with the connection surfaces in workerd as an unhandled rejection.
    const res = await fetch(signed.url, {
      method: 'POST',
      headers: signed.headers,
      body,
      signal: AbortSignal.timeout(s.timeoutMs ?? FIREHOSE_CALL_TIMEOUT_MS),
    });
    const text = utf8.decode(await res.arrayBuffer());
    return decodePutRecordBatchResponse(res.status, text, recordCount);
  } catch (e) {
    const timeout = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
    // Either may strike after Firehose took the records: the call is ambiguous, not failed.
    return {
      kind: 'retry',
      code: timeout ? 'Timeout' : 'NetworkError',
      message: e instanceof Error ? e.message.slice(0, 200) : String(e),
      cause: 'ambiguous',
    };
  }
}
