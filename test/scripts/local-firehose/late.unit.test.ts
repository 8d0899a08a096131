// The late-answer ledger: which events a late-answered call wrote, per stream.

import { describe, expect, it } from 'vitest';
import { emptyLateStream, eventsOf, markLate } from '../../../scripts/local-firehose/late';
import type { LateLedger } from '../../../scripts/local-firehose/late';

const ndjson = (...lines: string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''));
const event = (messageId: unknown): string => JSON.stringify({ type: 'track', messageId });

describe('eventsOf', () => {
  it('lists the messageId of every line of every record, in order', () => {
    const records = [ndjson(event('a'), event('b')), ndjson(event('c'))];
    expect(eventsOf(records)).toEqual({ events: 3, messageIds: ['a', 'b', 'c'] });
  });

  it.each<[string, Buffer]>([
    ['a line without messageId', ndjson(JSON.stringify({ type: 'track' }))],
    ['a numeric messageId', ndjson(event(42))],
    ['a null messageId', ndjson(event(null))],
    ['a line that is not JSON', ndjson('{"messageId":"cut')],
    ['a JSON array line', ndjson('["messageId"]')],
    ['a JSON string line', ndjson('"m-1"')],
  ])('counts %s as an event without an id', (_name, record) => {
    expect(eventsOf([record])).toEqual({ events: 1, messageIds: [] });
  });

  it('skips blank lines and reads a last line without a newline', () => {
    const record = Buffer.from(`\n${event('a')}\n  \n\n${event('b')}`);
    expect(eventsOf([record])).toEqual({ events: 2, messageIds: ['a', 'b'] });
  });

  it('reads each record on its own, so a record without a final newline ends its event', () => {
    const records = [Buffer.from(event('a')), Buffer.from(event('b'))];
    expect(eventsOf(records)).toEqual({ events: 2, messageIds: ['a', 'b'] });
  });

  it('reads a line padded with spaces and CRLF endings', () => {
    const record = Buffer.from(`${event('a')}   \r\n${event('b')}\r\n`);
    expect(eventsOf([record])).toEqual({ events: 2, messageIds: ['a', 'b'] });
  });

  it('finds nothing in no records', () => {
    expect(eventsOf([])).toEqual({ events: 0, messageIds: [] });
  });
});

describe('markLate', () => {
  it('adds calls, records, events and ids per stream, keeping repeats', () => {
    const ledger: LateLedger = new Map();
    markLate(ledger, 'one', [ndjson(event('a'), event('b')), ndjson('not json')]);
    markLate(ledger, 'one', [ndjson(event('a'))]);
    markLate(ledger, 'two', [ndjson(event('z'))]);
    expect(ledger.get('one')).toEqual({
      calls: 2,
      records: 3,
      events: 4,
      messageIds: ['a', 'b', 'a'],
    });
    expect(ledger.get('two')).toEqual({ calls: 1, records: 1, events: 1, messageIds: ['z'] });
  });

  it('counts a late call that wrote nothing', () => {
    const ledger: LateLedger = new Map();
    markLate(ledger, 'one', []);
    expect(ledger.get('one')).toEqual({ ...emptyLateStream(), calls: 1 });
  });
});
