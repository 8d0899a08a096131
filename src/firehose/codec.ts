// PutRecordBatch request and response codec (JSON 1.1 protocol). Pure: strings in, plain
// outcomes out; src/firehose/client.ts does the signing and I/O.

import { isJsonObject } from '../segment/types';
import { utf8ToBase64 } from './base64';
import {
  FIREHOSE_AUTH_ERRORS,
  FIREHOSE_RETRYABLE_ERRORS,
  FIREHOSE_SIZE_ERRORS,
  FIREHOSE_SIZE_MESSAGE,
} from './limits';

export function encodePutRecordBatch(
  stream: string,
  records: ReadonlyArray<{ data: string }>,
): string {
  // Built by concatenation: base64 needs no escaping and the stream name is JSON-encoded.
  const parts = records.map((r) => `{"Data":"${utf8ToBase64(r.data)}"}`);
  return `{"DeliveryStreamName":${JSON.stringify(stream)},"Records":[${parts.join(',')}]}`;
}

export type RecordOutcome =
  { ok: true; recordId: string } | { ok: false; code: string; message: string; retryable: boolean };

/**
 * Why a whole call is retried. `ambiguous`: the records may have landed (a timeout, a lost
 * connection, a 200 that does not account for every record), so sending them again can
 * duplicate them; `auth`: credentials or permissions, fixable by an operator; `transient`:
 * throttling and server errors, where Firehose took nothing; `not_configured`: no stream is
 * set, so no call was made.
 */
export type RetryCause = 'transient' | 'auth' | 'ambiguous' | 'not_configured';

export type CallOutcome =
  /** HTTP 200 accounting for every record: one outcome per record, in order. */
  | { kind: 'records'; records: RecordOutcome[] }
  /** The whole call failed in a way that may pass later: retry every message in it. */
  | { kind: 'retry'; code: string; message: string; cause: RetryCause }
  /** Refused for its size: split the call and send the parts. */
  | { kind: 'too_large'; code: string; message: string }
  /** The whole call failed in a way retrying cannot fix: dead-letter every message in it. */
  | { kind: 'fatal'; code: string; message: string };

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** AWS JSON protocol error type: `__type`, possibly prefixed with a namespace and `#`. */
function errorType(body: unknown): string | undefined {
  if (!isJsonObject(body)) return undefined;
  const raw = body['__type'] ?? body['code'];
  if (typeof raw !== 'string') return undefined;
  return raw.slice(raw.lastIndexOf('#') + 1);
}

function errorMessage(body: unknown): string {
  if (!isJsonObject(body)) return '';
  const m = body['message'] ?? body['Message'];
  return typeof m === 'string' ? m.slice(0, 500) : '';
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * One outcome per record, or undefined unless the answer accounts for every record: exactly
 * `recordCount` entries, each with a RecordId or an ErrorCode, and a FailedPutCount equal to
 * the number of ErrorCodes (PutRecordBatch API reference, "Response Syntax").
 */
function recordOutcomes(body: unknown, recordCount: number): RecordOutcome[] | undefined {
  if (!isJsonObject(body)) return undefined;
  const responses = body['RequestResponses'];
  if (!Array.isArray(responses) || responses.length !== recordCount) return undefined;
  const out: RecordOutcome[] = [];
  let failed = 0;
  for (const r of responses) {
    if (!isJsonObject(r)) return undefined;
    const code = r['ErrorCode'];
    if (nonEmpty(code)) {
      failed += 1;
      const m = r['ErrorMessage'];
      const message = typeof m === 'string' ? m.slice(0, 500) : '';
      out.push({ ok: false, code, message, retryable: FIREHOSE_RETRYABLE_ERRORS.has(code) });
    } else if (nonEmpty(r['RecordId'])) {
      out.push({ ok: true, recordId: r['RecordId'] });
    } else {
      return undefined;
    }
  }
  return body['FailedPutCount'] === failed ? out : undefined;
}

export function decodePutRecordBatchResponse(
  status: number,
  text: string,
  recordCount: number,
): CallOutcome {
  const body = parse(text);
  if (status === 200) {
    const records = recordOutcomes(body, recordCount);
    // Firehose may have taken some or all records: retrying risks duplicates, never loss.
    if (records === undefined) {
      return {
        kind: 'retry',
        code: 'MalformedResponse',
        message: 'a 200 that does not account for every record',
        cause: 'ambiguous',
      };
    }
    return { kind: 'records', records };
  }
  const code = errorType(body) ?? `HTTP${status}`;
  const message = errorMessage(body);
  if (status === 413 || FIREHOSE_SIZE_ERRORS.has(code)) return { kind: 'too_large', code, message };
  if (
    (code === 'InvalidArgumentException' || code === 'ValidationException') &&
    FIREHOSE_SIZE_MESSAGE.test(message)
  ) {
    return { kind: 'too_large', code, message };
  }
  if (status === 401 || status === 403 || FIREHOSE_AUTH_ERRORS.has(code))
    return { kind: 'retry', code, message, cause: 'auth' };
  // 5xx, 429 and the throttling types are transient; other 4xx are not.
  if (status >= 500 || status === 429 || FIREHOSE_RETRYABLE_ERRORS.has(code))
    return { kind: 'retry', code, message, cause: 'transient' };
  return { kind: 'fatal', code, message };
}
