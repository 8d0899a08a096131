import { describe, expect, it } from 'vitest';
import type { IngestError } from '../../src/segment/errors';
import {
  ingestBatch,
  ingestSingle,
  parseBatchEnvelope,
  serializeEvent,
  type BatchOutcome,
} from '../../src/segment/ingest';
import type { Result } from '../../src/segment/types';
import {
  BATCH_DEFAULTS_MAX_BYTES,
  BATCH_MAX_EVENTS,
  EVENT_MAX_BYTES,
  QUEUED_EVENT_MAX_BYTES,
  QUEUED_REQUEST_MAX_BYTES,
} from '../../src/segment/limits';
import { VALID_CALLS, callOfSize } from '../fixtures/calls';

const facts = { receivedAt: Date.parse('2026-11-29T10:00:00Z') };

function batchOf(result: Result<BatchOutcome, IngestError>): BatchOutcome {
  if (!result.ok) throw new Error(`batch refused: ${result.error.message}`);
  return result.value;
}

// A value JSON.stringify throws on, as it throws a RangeError on nesting deeper than the stack:
// workerd's stack takes a million levels, Node's throws near 100,000, so depth alone cannot
// make the failure happen in every runtime the tests run in.
const UNSERIALISABLE = {
  toJSON: (): never => {
    throw new RangeError('Maximum call stack size exceeded');
  },
};
const opts = { source: 'web', anonymizeIp: false, newId: () => 'id' };

describe('ingestSingle', () => {
  it('returns the enriched call', () => {
    const r = ingestSingle(VALID_CALLS.identify, 'identify', facts, opts);
    expect(r.ok && r.value.type).toBe('identify');
    expect(r.ok && (JSON.parse(r.value.line) as { type: string }).type).toBe('identify');
  });
  it('returns the validation error', () => {
    const r = ingestSingle({ type: 'track' }, 'track', facts, opts);
    expect(!r.ok && r.error.reason).toBe('missing_field');
  });
});

describe('parseBatchEnvelope', () => {
  const cases: Array<[string, unknown, string, string | undefined]> = [
    ['a non-object', 'x', 'invalid_body', undefined],
    ['no batch', {}, 'missing_field', '.batch'],
    ['a non-array batch', { batch: {} }, 'invalid_field', '.batch'],
    ['an empty batch', { batch: [] }, 'invalid_field', '.batch'],
    [
      '2,501 events',
      { batch: new Array(BATCH_MAX_EVENTS + 1).fill(VALID_CALLS.track) },
      'too_many_events',
      '.batch',
    ],
    ['an array context', { batch: [VALID_CALLS.track], context: [] }, 'invalid_field', '.context'],
    [
      'a string integrations',
      { batch: [VALID_CALLS.track], integrations: 's' },
      'invalid_field',
      '.integrations',
    ],
    ['a bad sentAt', { batch: [VALID_CALLS.track], sentAt: 'now' }, 'invalid_timestamp', '.sentAt'],
  ];
  it.each(cases)('rejects %s', (_n, raw, reason, field) => {
    const r = parseBatchEnvelope(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.error.reason, r.error.field]).toEqual([reason, field]);
  });

  it('accepts 2,500 events and reads writeKey, context, integrations and sentAt', () => {
    const r = parseBatchEnvelope({
      batch: new Array(BATCH_MAX_EVENTS).fill(VALID_CALLS.track),
      writeKey: 'k',
      context: { a: 1 },
      integrations: { All: false },
      sentAt: '2026-11-29T10:00:00Z',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.items).toHaveLength(BATCH_MAX_EVENTS);
    expect(r.value.writeKey).toBe('k');
    expect(r.value.context).toEqual({ a: 1 });
    expect(r.value.integrations).toEqual({ All: false });
    expect(r.value.sentAt).toBe('2026-11-29T10:00:00Z');
  });
});

describe('ingestBatch', () => {
  it('keeps valid items and reports each invalid one by index', () => {
    const env = parseBatchEnvelope({
      batch: [VALID_CALLS.track, { type: 'track' }, VALID_CALLS.page, 5],
    });
    if (!env.ok) throw new Error('envelope');
    const out = batchOf(ingestBatch(env.value, 100, facts, opts));
    expect(out.accepted.map((e) => e.type)).toEqual(['track', 'page']);
    expect(out.rejected).toEqual([
      {
        index: 1,
        code: 'missing_field',
        field: '.userId',
        message: 'userId or anonymousId is required',
      },
      { index: 3, code: 'invalid_body', message: 'a call must be a JSON object' },
    ]);
  });

  it('rejects only the item over 32 KiB, keeping one exactly at the limit', () => {
    const atLimit = callOfSize(VALID_CALLS.track, EVENT_MAX_BYTES);
    const over = callOfSize(VALID_CALLS.track, EVENT_MAX_BYTES + 1);
    const env = parseBatchEnvelope({ batch: [atLimit, over, VALID_CALLS.track] });
    if (!env.ok) throw new Error('envelope');
    const out = batchOf(ingestBatch(env.value, 2 * EVENT_MAX_BYTES + 500, facts, opts));
    expect(out.accepted).toHaveLength(2);
    expect(out.rejected).toEqual([
      { index: 1, code: 'event_too_large', message: expect.any(String) },
    ]);
  });
});

describe('ingestBatch with an item that cannot be serialised', () => {
  it('rejects only the item whose measuring throws, keeping the others', () => {
    const env = parseBatchEnvelope({
      batch: [VALID_CALLS.track, { ...VALID_CALLS.track, properties: { deep: UNSERIALISABLE } }],
    });
    if (!env.ok) throw new Error('envelope');
    // A body over 32 KiB makes ingestBatch measure each item with JSON.stringify.
    const out = batchOf(ingestBatch(env.value, EVENT_MAX_BYTES + 1, facts, opts));
    expect(out.accepted.map((e) => e.type)).toEqual(['track']);
    expect(out.rejected).toEqual([
      { index: 1, code: 'invalid_body', message: expect.stringContaining('nesting too deep') },
    ]);
  });

  it('answers a batch context that cannot be serialised with a 400-class error, not a throw', () => {
    const r = parseBatchEnvelope({ batch: [VALID_CALLS.track], context: { deep: UNSERIALISABLE } });
    expect(!r.ok && [r.error.reason, r.error.field]).toEqual(['invalid_field', '.context']);
  });
});

describe('what one batch may put on the queue', () => {
  it('refuses a batch whose enriched events exceed the request cap, naming the limit', () => {
    // 2,500 items of ~1 KiB each: a legal 2.5 MB of events (the body limit is checked upstream).
    const item = callOfSize(VALID_CALLS.track, 1024);
    const env = parseBatchEnvelope({ batch: new Array(BATCH_MAX_EVENTS).fill(item) });
    if (!env.ok) throw new Error('envelope');
    const r = ingestBatch(env.value, 100, facts, opts);
    expect(!r.ok && r.error.reason).toBe('payload_too_large');
    expect(!r.ok && r.error.message).toContain(String(QUEUED_REQUEST_MAX_BYTES));
  });

  it('admits the largest batch of minimal events with a browser user agent and location', () => {
    const env = parseBatchEnvelope({
      batch: new Array(BATCH_MAX_EVENTS).fill({ type: 'track', event: 'e', userId: 'u' }),
      context: { library: { name: 'analytics.js', version: '1.84.3' } },
    });
    if (!env.ok) throw new Error('envelope');
    const browser = {
      ...facts,
      ip: '203.0.113.42',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 '.repeat(3),
      location: {
        country: 'AU',
        region: 'Victoria',
        city: 'Melbourne',
        latitude: -37.8,
        longitude: 144.9,
      },
    };
    const out = batchOf(ingestBatch(env.value, 100, browser, opts));
    expect(out.accepted).toHaveLength(BATCH_MAX_EVENTS);
    expect(out.queuedBytes).toBe(out.accepted.reduce((n, e) => n + e.bytes, 0));
  });
});

describe('serializeEvent', () => {
  it('serialises an event to one line, keeping the object it came from', () => {
    const event = { type: 'track', event: 'é', messageId: 'm1' };
    const r = serializeEvent(event, 'track');
    // 45 characters, one of them two bytes in UTF-8.
    expect(r).toEqual({
      ok: true,
      value: {
        line: '{"type":"track","event":"é","messageId":"m1"}',
        bytes: 46,
        type: 'track',
        messageId: 'm1',
        event,
      },
    });
    expect(r.ok && r.value.event).toBe(event);
  });

  it('refuses an event larger than the queued-event limit once enriched', () => {
    const base = { type: 'track', pad: '' };
    const exact = {
      ...base,
      pad: 'x'.repeat(QUEUED_EVENT_MAX_BYTES - JSON.stringify(base).length),
    };
    expect(serializeEvent(exact, 'track').ok).toBe(true);
    const over = serializeEvent({ ...exact, pad: `${exact.pad}x` }, 'track');
    expect(!over.ok && over.error.reason).toBe('event_too_large');
  });
});

describe('batch-level context amplification', () => {
  it('refuses top-level context and integrations over 4 KiB together', () => {
    const big = { blob: 'c'.repeat(BATCH_DEFAULTS_MAX_BYTES) };
    const r = parseBatchEnvelope({ batch: [VALID_CALLS.track], context: big });
    expect(!r.ok && [r.error.reason, r.error.field]).toEqual(['payload_too_large', '.context']);
    const small = parseBatchEnvelope({
      batch: [VALID_CALLS.track],
      context: { a: 'c'.repeat(1000) },
      integrations: { b: 1 },
    });
    expect(small.ok).toBe(true);
  });

  it('keeps a 32 KiB item under the limit even with the largest batch context and user agent', () => {
    const env = parseBatchEnvelope({
      batch: [callOfSize(VALID_CALLS.track, EVENT_MAX_BYTES), VALID_CALLS.page],
      context: { pad: 'c'.repeat(3500) },
    });
    if (!env.ok) throw new Error('envelope');
    const facts2 = { ...facts, userAgent: 'u'.repeat(1024) };
    const out = batchOf(ingestBatch(env.value, EVENT_MAX_BYTES + 5000, facts2, opts));
    expect(out.accepted.map((e) => e.type)).toEqual(['track', 'page']);
    expect(out.accepted.every((e) => e.line.length <= QUEUED_EVENT_MAX_BYTES)).toBe(true);
  });
});
