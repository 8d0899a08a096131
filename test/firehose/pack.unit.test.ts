import { describe, expect, it } from 'vitest';
import {
  FIREHOSE_LIMITS,
  groupCalls,
  packRecords,
  parseStreams,
  type FirehoseRecord,
  type PackInput,
} from '../../src/firehose/pack';
import {
  FIREHOSE_MAX_CALL_BYTES,
  FIREHOSE_MAX_RECORD_BYTES,
  FIREHOSE_MAX_RECORDS_PER_CALL,
} from '../../src/firehose/limits';

function message(index: number, bytes: number, events = 1): PackInput {
  return { index, ndjson: `${'x'.repeat(bytes - 1)}\n`, bytes, events };
}

function record(bytes: number): FirehoseRecord {
  return { data: '', bytes, events: 1, messages: [0] };
}

describe('packRecords', () => {
  it('puts many small messages in one record, in order, each message whole', () => {
    const inputs = [message(0, 100, 2), message(1, 200, 3), message(2, 50, 1)];
    const { records, oversized } = packRecords(inputs);
    expect(oversized).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0]).toEqual({
      data: inputs.map((i) => i.ndjson).join(''),
      bytes: 350,
      events: 6,
      messages: [0, 1, 2],
    });
  });

  it('fills a record to exactly 1,000 KiB and starts a new one a byte later', () => {
    const exact = packRecords([message(0, FIREHOSE_MAX_RECORD_BYTES - 1000), message(1, 1000)]);
    expect(exact.records.map((r) => r.bytes)).toEqual([FIREHOSE_MAX_RECORD_BYTES]);
    const over = packRecords([message(0, FIREHOSE_MAX_RECORD_BYTES - 1000), message(1, 1001)]);
    expect(over.records.map((r) => r.messages)).toEqual([[0], [1]]);
  });

  it('never splits a message: each index appears in exactly one record', () => {
    const inputs = Array.from({ length: 100 }, (_v, i) => message(i, 63_000));
    const { records } = packRecords(inputs);
    const seen = records.flatMap((r) => r.messages);
    expect(seen).toEqual(inputs.map((i) => i.index));
    expect(records.every((r) => r.bytes <= FIREHOSE_MAX_RECORD_BYTES)).toBe(true);
    // 15 messages of 63,000 bytes fit in 1,000,000; the 16th does not.
    expect(records.map((r) => r.messages.length)).toEqual([15, 15, 15, 15, 15, 15, 10]);
  });

  it('reports a single message larger than a record instead of splitting it', () => {
    const { records, oversized } = packRecords([
      message(0, 10),
      message(1, FIREHOSE_MAX_RECORD_BYTES + 1),
    ]);
    expect(records.map((r) => r.messages)).toEqual([[0]]);
    expect(oversized.map((o) => o.index)).toEqual([1]);
  });
});

describe('groupCalls', () => {
  it('puts 500 records in one call and the 501st in a second', () => {
    const calls = groupCalls(
      's',
      Array.from({ length: 501 }, () => record(10)),
    );
    expect(calls.map((c) => c.records.length)).toEqual([FIREHOSE_MAX_RECORDS_PER_CALL, 1]);
    expect(calls.every((c) => c.stream === 's')).toBe(true);
  });

  it('splits before a call would cross 4 MiB (many records of ~9 KB)', () => {
    const records = Array.from({ length: 480 }, () => record(9_000));
    const calls = groupCalls('s', records);
    const perCall = Math.floor(FIREHOSE_MAX_CALL_BYTES / 9_000);
    expect(calls.map((c) => c.records.length)).toEqual([perCall, 480 - perCall]);
    expect(calls.every((c) => c.bytes <= FIREHOSE_MAX_CALL_BYTES)).toBe(true);
  });

  it('puts four full 1,000 KiB records in one call and a fifth in the next', () => {
    const calls = groupCalls(
      's',
      Array.from({ length: 5 }, () => record(FIREHOSE_MAX_RECORD_BYTES)),
    );
    expect(calls.map((c) => c.records.length)).toEqual([4, 1]);
  });

  it('accepts custom limits', () => {
    const calls = groupCalls('s', [record(5), record(5), record(5)], {
      ...FIREHOSE_LIMITS,
      maxRecordsPerCall: 2,
    });
    expect(calls.map((c) => c.records.length)).toEqual([2, 1]);
  });
});

describe('parseStreams', () => {
  it('reads a name or a comma-separated list', () => {
    expect(parseStreams(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(parseStreams(undefined)).toEqual([]);
  });
});
