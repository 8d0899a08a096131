// The Firehose JSON 1.1 wire protocol as the local endpoint speaks it: API limits, parsing of
// PutRecordBatch / PutRecord bodies into decoded records, and the error types with their HTTP
// statuses. Pure: bytes in, plain data out.

// Firehose API reference, PutRecordBatch: "Each PutRecordBatch request supports up to 500
// records."
export const FIREHOSE_MAX_RECORDS_PER_CALL = 500;

// Firehose API reference, PutRecordBatch: "Each record in the request can be as large as
// 1,000 KB (before base64 encoding)"; the Record data type gives Data a maximum length of
// 1024000 bytes.
export const FIREHOSE_MAX_RECORD_BYTES = 1_024_000;

// Firehose API reference, PutRecordBatch: "up to a limit of 4 MB for the entire request".
// Read as 4 MiB of decoded Data summed over the records, the same basis as the per-record limit
// ("before base64 encoding"); the JSON/base64 envelope (~4/3 larger) is not counted. A producer
// that wants to be safe under the stricter reading (raw body ≤ 4 MiB) keeps Data under 3 MiB.
export const FIREHOSE_MAX_REQUEST_DATA_BYTES = 4 * 1024 * 1024;

// Firehose API reference, DeliveryStreamName: length 1-64, pattern [a-zA-Z0-9_.-]+.
export const FIREHOSE_STREAM_NAME_MAX_CHARS = 64;
const STREAM_NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;

// Local safety cap on the raw HTTP body, not a Firehose limit: the largest valid request is
// 4 MiB of Data as base64 (5.6 MB) plus a little JSON, so 16 MiB is never reached by a valid
// call and only bounds memory.
export const LOCAL_MAX_HTTP_BODY_BYTES = 16 * 1024 * 1024;

// Firehose API reference: the JSON 1.1 protocol, target prefix of API version 2015-08-04.
export const FIREHOSE_TARGET_PREFIX = 'Firehose_20150804.';
export const AMZ_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

export type Operation = 'PutRecordBatch' | 'PutRecord';

export function parseTarget(target: string | undefined): Operation | undefined {
  if (target === `${FIREHOSE_TARGET_PREFIX}PutRecordBatch`) return 'PutRecordBatch';
  if (target === `${FIREHOSE_TARGET_PREFIX}PutRecord`) return 'PutRecord';
  return undefined;
}

export interface PutRequest {
  operation: Operation;
  stream: string;
  // Decoded Data of each record, in request order.
  records: Buffer[];
  dataBytes: number;
}

export type RequestError =
  | { reason: 'bad_content_type'; contentType: string }
  | { reason: 'malformed_json' }
  | { reason: 'missing_field'; field: string }
  | { reason: 'wrong_type'; field: string; expected: string }
  | { reason: 'bad_stream_name'; field: string; value: string }
  | { reason: 'bad_base64'; field: string }
  | { reason: 'empty_records'; field: string }
  | { reason: 'too_many_records'; field: string; count: number }
  | { reason: 'record_too_large'; field: string; bytes: number }
  | { reason: 'request_too_large'; bytes: number };

export type ParseResult = { ok: true; value: PutRequest } | { ok: false; error: RequestError };

const reject = (error: RequestError): { ok: false; error: RequestError } => ({ ok: false, error });

/** The message of the InvalidArgumentException each reason becomes. */
export function describeRequestError(error: RequestError): string {
  switch (error.reason) {
    case 'bad_content_type':
      return `Content-Type must be ${AMZ_JSON_CONTENT_TYPE}, got '${error.contentType}'.`;
    case 'malformed_json':
      return 'Request body is not valid JSON.';
    case 'missing_field':
      return `Missing required field ${error.field}.`;
    case 'wrong_type':
      return `Field ${error.field} must be ${error.expected}.`;
    case 'bad_stream_name':
      return (
        `Value '${error.value}' at '${error.field}' must be 1-${FIREHOSE_STREAM_NAME_MAX_CHARS} ` +
        `characters of [a-zA-Z0-9_.-].`
      );
    case 'bad_base64':
      return `Field ${error.field} is not valid base64.`;
    case 'empty_records':
      return `${error.field} must contain at least 1 record.`;
    case 'too_many_records':
      return (
        `${error.field} has ${error.count} records; the limit is ` +
        `${FIREHOSE_MAX_RECORDS_PER_CALL} per call.`
      );
    case 'record_too_large':
      return (
        `${error.field} is ${error.bytes} bytes after base64 decoding; the limit is ` +
        `${FIREHOSE_MAX_RECORD_BYTES} bytes.`
      );
    case 'request_too_large':
      return (
        `Records total ${error.bytes} bytes after base64 decoding; the limit is ` +
        `${FIREHOSE_MAX_REQUEST_DATA_BYTES} bytes per call.`
      );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Strict RFC 4648 base64 (the encoding the AWS JSON protocol uses for blobs): Node's decoder
// silently skips junk, so the alphabet and padding are checked first.
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeData(
  record: unknown,
  field: string,
): { ok: true; value: Buffer } | { ok: false; error: RequestError } {
  if (!isRecord(record)) return reject({ reason: 'wrong_type', field, expected: 'an object' });
  const data = record['Data'];
  const at = `${field}.Data`;
  if (data === undefined) return reject({ reason: 'missing_field', field: at });
  if (typeof data !== 'string') {
    return reject({ reason: 'wrong_type', field: at, expected: 'a base64 string' });
  }
  // Size from the length first, so an oversized record is never decoded.
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  const bytes = (data.length / 4) * 3 - padding;
  if (data.length % 4 === 0 && bytes > FIREHOSE_MAX_RECORD_BYTES) {
    return reject({ reason: 'record_too_large', field: at, bytes });
  }
  if (!BASE64_PATTERN.test(data)) return reject({ reason: 'bad_base64', field: at });
  return { ok: true, value: Buffer.from(data, 'base64') };
}

function parseStreamName(body: Record<string, unknown>): string | RequestError {
  const field = '.DeliveryStreamName';
  const stream = body['DeliveryStreamName'];
  if (stream === undefined) return { reason: 'missing_field', field };
  if (typeof stream !== 'string') return { reason: 'wrong_type', field, expected: 'a string' };
  // '.' and '..' fit the pattern but would escape the data directory; no real stream is named so.
  if (
    stream.length > FIREHOSE_STREAM_NAME_MAX_CHARS ||
    !STREAM_NAME_PATTERN.test(stream) ||
    stream === '.' ||
    stream === '..'
  ) {
    return { reason: 'bad_stream_name', field, value: stream };
  }
  return stream;
}

export function isAmzJsonContentType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === AMZ_JSON_CONTENT_TYPE;
}

/** Parses and checks a PutRecordBatch or PutRecord body against the API limits. */
export function parsePutRequest(operation: Operation, raw: Uint8Array): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return reject({ reason: 'malformed_json' });
  }
  if (!isRecord(body)) {
    return reject({ reason: 'wrong_type', field: '.', expected: 'a JSON object' });
  }
  const stream = parseStreamName(body);
  if (typeof stream !== 'string') return reject(stream);

  let entries: unknown[];
  let field: string;
  if (operation === 'PutRecord') {
    field = '.Record';
    if (body['Record'] === undefined) return reject({ reason: 'missing_field', field });
    entries = [body['Record']];
  } else {
    field = '.Records';
    const list = body['Records'];
    if (list === undefined) return reject({ reason: 'missing_field', field });
    if (!Array.isArray(list)) return reject({ reason: 'wrong_type', field, expected: 'an array' });
    if (list.length === 0) return reject({ reason: 'empty_records', field });
    if (list.length > FIREHOSE_MAX_RECORDS_PER_CALL) {
      return reject({ reason: 'too_many_records', field, count: list.length });
    }
    entries = list;
  }

  const records: Buffer[] = [];
  let dataBytes = 0;
  for (const [i, entry] of entries.entries()) {
    const decoded = decodeData(entry, operation === 'PutRecord' ? field : `${field}[${i}]`);
    if (!decoded.ok) return decoded;
    records.push(decoded.value);
    dataBytes += decoded.value.length;
  }
  if (dataBytes > FIREHOSE_MAX_REQUEST_DATA_BYTES) {
    return reject({ reason: 'request_too_large', bytes: dataBytes });
  }
  return { ok: true, value: { operation, stream, records, dataBytes } };
}

// The `__type` values the endpoint answers with (AWS JSON protocol error shape).
export type WireErrorType =
  | 'InvalidArgumentException'
  | 'ResourceNotFoundException'
  | 'ServiceUnavailableException'
  | 'InternalFailure'
  | 'UnknownOperationException'
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException'
  | 'ExpiredTokenException'
  | 'RequestEntityTooLargeException'
  | 'NotFoundException'
  | 'MethodNotAllowedException';

/**
 * HTTP status per error type. AWS Common Errors: MissingAuthenticationToken and
 * InvalidClientTokenId are 403, IncompleteSignature 400, InternalFailure 500,
 * ServiceUnavailable 503. Signature mismatches and unknown access keys are 403 here too (JSON
 * services differ between 400 and 403); either way they are not worth retrying. An expired
 * session token is 400 ExpiredTokenException on the JSON 1.1 services (Kinesis answers it
 * with status 400, as logged in vectordotdev/vector#18491).
 */
export function wireStatus(type: WireErrorType): number {
  switch (type) {
    case 'InvalidArgumentException':
    case 'ResourceNotFoundException':
    case 'UnknownOperationException':
    case 'IncompleteSignatureException':
    case 'ExpiredTokenException':
      return 400;
    case 'MissingAuthenticationTokenException':
    case 'InvalidSignatureException':
    case 'UnrecognizedClientException':
      return 403;
    case 'NotFoundException':
      return 404;
    case 'MethodNotAllowedException':
      return 405;
    case 'RequestEntityTooLargeException':
      return 413;
    case 'InternalFailure':
      return 500;
    case 'ServiceUnavailableException':
      return 503;
  }
}

export interface WireError {
  __type: WireErrorType;
  message: string;
}

export interface PutRecordBatchEntry {
  RecordId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

export interface PutRecordBatchOutput {
  FailedPutCount: number;
  Encrypted: boolean;
  RequestResponses: PutRecordBatchEntry[];
}

export interface PutRecordOutput {
  RecordId: string;
  Encrypted: boolean;
}
