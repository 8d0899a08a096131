import { describe, expect, it } from 'vitest';
import { ingestBatch, ingestSingle, parseBatchEnvelope } from '../../src/segment/ingest';
import { BATCH_MAX_EVENTS, EVENT_MAX_BYTES } from '../../src/segment/limits';
import { VALID_CALLS, callOfSize } from '../fixtures/calls';

const facts = { receivedAt: Date.parse('2026-11-29T10:00:00Z') };
const opts = { source: 'web', anonymizeIp: false, newId: () => 'id' };

describe('ingestSingle', () => {
  it('returns the enriched call', () => {
    const r = ingestSingle(VALID_CALLS.identify, 'identify', facts, opts);
    expect(r.ok && r.value['type']).toBe('identify');
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
    const out = ingestBatch(env.value, 100, facts, opts);
    expect(out.accepted.map((e) => e['type'])).toEqual(['track', 'page']);
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
    const out = ingestBatch(env.value, 2 * EVENT_MAX_BYTES + 500, facts, opts);
    expect(out.accepted).toHaveLength(2);
    expect(out.rejected).toEqual([
      { index: 1, code: 'event_too_large', message: expect.any(String) },
    ]);
  });
});
