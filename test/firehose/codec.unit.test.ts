import { describe, expect, it } from 'vitest';
import { bytesToBase64, fallbackBase64, utf8ToBase64 } from '../../src/firehose/base64';
import { decodePutRecordBatchResponse, encodePutRecordBatch } from '../../src/firehose/codec';

describe('encodePutRecordBatch', () => {
  it('writes the JSON 1.1 body with base64 UTF-8 data per record', () => {
    const body = encodePutRecordBatch('my "stream"', [{ data: '{"a":"é"}\n' }, { data: '{}\n' }]);
    const parsed = JSON.parse(body) as {
      DeliveryStreamName: string;
      Records: Array<{ Data: string }>;
    };
    expect(parsed.DeliveryStreamName).toBe('my "stream"');
    const decoded = parsed.Records.map((r) =>
      new TextDecoder().decode(Uint8Array.from(atob(r.Data), (c) => c.charCodeAt(0))),
    );
    expect(decoded).toEqual(['{"a":"é"}\n', '{}\n']);
  });
});

describe('base64', () => {
  it.each([0, 1, 2, 3, 4, 5, 100, 8191, 8192, 30_000])(
    'fallback matches the native encoder for %i bytes',
    (n) => {
      const bytes = Uint8Array.from({ length: n }, (_v, i) => (i * 37 + 11) % 256);
      expect(fallbackBase64(bytes)).toBe(bytesToBase64(bytes));
      expect(fallbackBase64(bytes)).toBe(
        btoa(String.fromCharCode(...bytes.slice(0, Math.min(n, 30_000)))),
      );
    },
  );

  it('encodes UTF-8 text', () => {
    expect(utf8ToBase64('é')).toBe('w6k=');
  });
});

describe('decodePutRecordBatchResponse', () => {
  it('reads one outcome per record from a 200, marking retryable error codes', () => {
    const text = JSON.stringify({
      FailedPutCount: 2,
      Encrypted: false,
      RequestResponses: [
        { RecordId: 'r1' },
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
        { ErrorCode: 'KMS.AccessDeniedException', ErrorMessage: 'no' },
      ],
    });
    expect(decodePutRecordBatchResponse(200, text, 3)).toEqual({
      kind: 'records',
      records: [
        { ok: true, recordId: 'r1' },
        { ok: false, code: 'ServiceUnavailableException', message: 'Slow down.', retryable: true },
        { ok: false, code: 'KMS.AccessDeniedException', message: 'no', retryable: false },
      ],
    });
  });

  // Each of these 200s leaves at least one record unaccounted for: none may be read as success.
  it.each([
    ['too few results', { FailedPutCount: 0, RequestResponses: [] }, 1],
    [
      'an entry with neither RecordId nor ErrorCode',
      { FailedPutCount: 0, RequestResponses: [{}] },
      1,
    ],
    ['an empty RecordId', { FailedPutCount: 0, RequestResponses: [{ RecordId: '' }] }, 1],
    [
      'a FailedPutCount above the failed entries',
      { FailedPutCount: 1, RequestResponses: [{ RecordId: 'a' }, { RecordId: 'b' }] },
      2,
    ],
    [
      'a FailedPutCount below the failed entries',
      {
        FailedPutCount: 0,
        RequestResponses: [{ RecordId: 'a' }, { ErrorCode: 'InternalFailure' }],
      },
      2,
    ],
    ['no FailedPutCount', { RequestResponses: [{ RecordId: 'a' }] }, 1],
    ['entries that are not objects', { FailedPutCount: 0, RequestResponses: ['a'] }, 1],
  ])('retries, as ambiguous, a 200 with %s', (_n, body, records) => {
    expect(decodePutRecordBatchResponse(200, JSON.stringify(body), records)).toEqual({
      kind: 'retry',
      code: 'MalformedResponse',
      message: expect.any(String),
      cause: 'ambiguous',
    });
  });

  it.each([
    ['a 200 that is not JSON', 200, '<html>', 'retry', 'MalformedResponse', 'ambiguous'],
    [
      'throttling as 400',
      400,
      '{"__type":"ServiceUnavailableException","message":"Slow down."}',
      'retry',
      'ServiceUnavailableException',
      'transient',
    ],
    [
      'throttling as 503',
      503,
      '{"__type":"ServiceUnavailableException"}',
      'retry',
      'ServiceUnavailableException',
      'transient',
    ],
    ['a 500 without body', 500, '', 'retry', 'HTTP500', 'transient'],
    ['a 429', 429, '', 'retry', 'HTTP429', 'transient'],
    [
      'an expired session token',
      400,
      '{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}',
      'retry',
      'ExpiredTokenException',
      'auth',
    ],
    [
      'a denied permission',
      400,
      '{"__type":"AccessDeniedException","message":"not authorized to perform firehose:PutRecordBatch"}',
      'retry',
      'AccessDeniedException',
      'auth',
    ],
    [
      'an unknown access key',
      400,
      '{"__type":"UnrecognizedClientException"}',
      'retry',
      'UnrecognizedClientException',
      'auth',
    ],
    ['a bare 403', 403, '', 'retry', 'HTTP403', 'auth'],
    [
      'a bad signature',
      403,
      '{"__type":"InvalidSignatureException"}',
      'retry',
      'InvalidSignatureException',
      'auth',
    ],
    ['a 413', 413, '', 'too_large', 'HTTP413', undefined],
    [
      'a size refusal as InvalidArgumentException',
      400,
      '{"__type":"InvalidArgumentException","message":"Records size exceeds 4 MB limit"}',
      'too_large',
      'InvalidArgumentException',
      undefined,
    ],
    [
      'an unknown stream',
      400,
      '{"__type":"ResourceNotFoundException","message":"x"}',
      'fatal',
      'ResourceNotFoundException',
      undefined,
    ],
    [
      'a namespaced type about something else than size',
      400,
      '{"__type":"com.amazon.firehose#InvalidArgumentException","message":"bad stream name"}',
      'fatal',
      'InvalidArgumentException',
      undefined,
    ],
  ])('classifies %s', (_n, status, text, kind, code, cause) => {
    const outcome = decodePutRecordBatchResponse(status, text, 1);
    expect(outcome.kind).toBe(kind);
    expect(outcome.kind !== 'records' && outcome.code).toBe(code);
    expect(outcome.kind === 'retry' ? outcome.cause : undefined).toBe(cause);
  });
});
