// PutRecordBatch request and response codec (JSON 1.1 protocol). Pure: strings in, plain
// outcomes out; src/firehose/client.ts does the signing and I/O.

import { isJsonObject } from '../segment/types';
import { utf8ToBase64 } from './base64';
import { FIREHOSE_RETRYABLE_ERRORS } from './limits';

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

export type CallOutcome =
  /** HTTP 200: one outcome per record, in order. */
  | { kind: 'records'; records: RecordOutcome[] }
  /** The whole call failed in a way that may pass later: retry every message in it. */
  | { kind: 'retry'; code: string; message: string }
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

export function decodePutRecordBatchResponse(
  status: number,
  text: string,
  recordCount: number,
): CallOutcome {
  const body = parse(text);
  if (status === 200) {
    const responses = isJsonObject(body) ? body['RequestResponses'] : undefined;
    if (!Array.isArray(responses) || responses.length !== recordCount) {
      // Firehose may have taken the records: retrying risks duplicates, never loss.
      return {
        kind: 'retry',
        code: 'MalformedResponse',
        message: 'a 200 without one result per record',
      };
    }
    return {
      kind: 'records',
      records: responses.map((r): RecordOutcome => {
        if (isJsonObject(r) && typeof r['ErrorCode'] === 'string') {
          const code = r['ErrorCode'];
          const message =
            typeof r['ErrorMessage'] === 'string' ? r['ErrorMessage'].slice(0, 500) : '';
          return { ok: false, code, message, retryable: FIREHOSE_RETRYABLE_ERRORS.has(code) };
        }
        const id = isJsonObject(r) && typeof r['RecordId'] === 'string' ? r['RecordId'] : '';
        return { ok: true, recordId: id };
      }),
    };
  }
  const code = errorType(body) ?? `HTTP${status}`;
  const message = errorMessage(body);
  // 5xx, 429 and the throttling types are transient; other 4xx are not.
  if (status >= 500 || status === 429 || FIREHOSE_RETRYABLE_ERRORS.has(code))
    return { kind: 'retry', code, message };
  return { kind: 'fatal', code, message };
}
