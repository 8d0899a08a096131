// parsePutRequest and friends: the Firehose request shape and every API limit at its edge.

import { describe, expect, it } from 'vitest';
import {
  FIREHOSE_MAX_RECORDS_PER_CALL,
  FIREHOSE_MAX_RECORD_BYTES,
  FIREHOSE_MAX_REQUEST_DATA_BYTES,
  describeRequestError,
  isAmzJsonContentType,
  parsePutRequest,
  parseTarget,
  wireStatus,
} from '../../../scripts/local-firehose/protocol';
import type { RequestError } from '../../../scripts/local-firehose/protocol';

const enc = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const b64 = (bytes: number, fill = 'a'): string => Buffer.alloc(bytes, fill).toString('base64');

function batch(sizes: readonly number[], stream = 'events'): Uint8Array {
  return enc({ DeliveryStreamName: stream, Records: sizes.map((n) => ({ Data: b64(n) })) });
}

function reason(result: ReturnType<typeof parsePutRequest>): RequestError['reason'] | 'ok' {
  return result.ok ? 'ok' : result.error.reason;
}

describe('limits', () => {
  it('are the documented Firehose PutRecordBatch values', () => {
    expect(FIREHOSE_MAX_RECORDS_PER_CALL).toBe(500);
    expect(FIREHOSE_MAX_RECORD_BYTES).toBe(1_024_000);
    expect(FIREHOSE_MAX_REQUEST_DATA_BYTES).toBe(4_194_304);
  });
});

describe('parsePutRequest', () => {
  it('decodes a batch in order', () => {
    const body = enc({
      DeliveryStreamName: 'events',
      Records: [{ Data: Buffer.from('a\n').toString('base64') }, { Data: '' }, { Data: 'Yg==' }],
    });
    const result = parsePutRequest('PutRecordBatch', body);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.stream).toBe('events');
    expect(result.value.records.map((r) => r.toString())).toEqual(['a\n', '', 'b']);
    expect(result.value.dataBytes).toBe(3);
  });

  it('decodes a PutRecord body', () => {
    const result = parsePutRequest(
      'PutRecord',
      enc({ DeliveryStreamName: 's', Record: { Data: 'eA==' } }),
    );
    expect(result.ok && result.value.records[0]?.toString()).toBe('x');
  });

  it.each<[string, RequestError['reason'] | 'ok', number[]]>([
    ['500 records', 'ok', Array<number>(500).fill(1)],
    ['501 records', 'too_many_records', Array<number>(501).fill(1)],
    ['no records', 'empty_records', []],
    ['a 1,024,000-byte record', 'ok', [1_024_000]],
    ['a 1,024,001-byte record', 'record_too_large', [1_024_001]],
    ['exactly 4 MiB in total', 'ok', [1_024_000, 1_024_000, 1_024_000, 1_024_000, 98_304]],
    [
      '4 MiB + 1 byte in total',
      'request_too_large',
      [1_024_000, 1_024_000, 1_024_000, 1_024_000, 98_305],
    ],
  ])('%s → %s', (_name, expected, sizes) => {
    expect(reason(parsePutRequest('PutRecordBatch', batch(sizes)))).toBe(expected);
  });

  it('names the offending record', () => {
    const result = parsePutRequest('PutRecordBatch', batch([1, 1, 1_024_001]));
    expect(result).toMatchObject({
      ok: false,
      error: { field: '.Records[2].Data', bytes: 1_024_001 },
    });
  });

  it.each<[string, unknown, RequestError['reason']]>([
    ['a non-object body', [1], 'wrong_type'],
    ['a missing stream name', { Records: [{ Data: '' }] }, 'missing_field'],
    ['a numeric stream name', { DeliveryStreamName: 1, Records: [] }, 'wrong_type'],
    [
      'a stream name with a slash',
      { DeliveryStreamName: 'a/b', Records: [{ Data: '' }] },
      'bad_stream_name',
    ],
    [
      'the stream name ..',
      { DeliveryStreamName: '..', Records: [{ Data: '' }] },
      'bad_stream_name',
    ],
    [
      'a 65-character stream name',
      { DeliveryStreamName: 'a'.repeat(65), Records: [] },
      'bad_stream_name',
    ],
    ['missing Records', { DeliveryStreamName: 's' }, 'missing_field'],
    ['Records not an array', { DeliveryStreamName: 's', Records: {} }, 'wrong_type'],
    ['a record without Data', { DeliveryStreamName: 's', Records: [{}] }, 'missing_field'],
    ['Data not a string', { DeliveryStreamName: 's', Records: [{ Data: 1 }] }, 'wrong_type'],
    [
      'Data not base64',
      { DeliveryStreamName: 's', Records: [{ Data: 'not base64!' }] },
      'bad_base64',
    ],
    [
      'Data with bad padding',
      { DeliveryStreamName: 's', Records: [{ Data: 'YQ=' }] },
      'bad_base64',
    ],
  ])('rejects %s', (_name, body, expected) => {
    expect(reason(parsePutRequest('PutRecordBatch', enc(body)))).toBe(expected);
  });

  it('rejects malformed JSON', () => {
    expect(reason(parsePutRequest('PutRecordBatch', new TextEncoder().encode('{"a":')))).toBe(
      'malformed_json',
    );
  });

  it('accepts a 64-character stream name of every allowed character class', () => {
    const name = `aZ09_.-${'x'.repeat(57)}`;
    expect(reason(parsePutRequest('PutRecordBatch', batch([1], name)))).toBe('ok');
  });
});

describe('describeRequestError', () => {
  it('mentions the limit in limit errors', () => {
    expect(
      describeRequestError({ reason: 'too_many_records', field: '.Records', count: 501 }),
    ).toMatch(/501 records; the limit is 500/);
  });
});

describe('parseTarget', () => {
  it.each([
    ['Firehose_20150804.PutRecordBatch', 'PutRecordBatch'],
    ['Firehose_20150804.PutRecord', 'PutRecord'],
    ['Firehose_20150804.DescribeDeliveryStream', undefined],
    ['Kinesis_20131202.PutRecords', undefined],
    [undefined, undefined],
  ])('%s → %s', (target, expected) => {
    expect(parseTarget(target)).toBe(expected);
  });
});

describe('isAmzJsonContentType', () => {
  it.each([
    ['application/x-amz-json-1.1', true],
    ['application/x-amz-json-1.1; charset=utf-8', true],
    ['application/json', false],
    [undefined, false],
  ])('%s → %s', (value, expected) => {
    expect(isAmzJsonContentType(value)).toBe(expected);
  });
});

describe('wireStatus', () => {
  it.each([
    ['InvalidArgumentException', 400],
    ['ResourceNotFoundException', 400],
    ['UnknownOperationException', 400],
    ['MissingAuthenticationTokenException', 403],
    ['InvalidSignatureException', 403],
    ['UnrecognizedClientException', 403],
    ['ExpiredTokenException', 400],
    ['InternalFailure', 500],
    ['ServiceUnavailableException', 503],
  ] as const)('%s → %i', (type, status) => {
    expect(wireStatus(type)).toBe(status);
  });
});
