import { describe, expect, it } from 'vitest';
import { enrichEvent, type EnrichOptions, type RequestFacts } from '../../src/segment/enrich';
import { validateEvent, type ValidEvent } from '../../src/segment/validate';
import { SEED_TRACK, VALID_CALLS } from '../fixtures/calls';

const RECEIVED_AT = Date.parse('2026-11-29T10:00:00.000Z');
const facts: RequestFacts = {
  receivedAt: RECEIVED_AT,
  ip: '203.0.113.77',
  userAgent: 'Mozilla/5.0 (test)',
  location: { country: 'AU', city: 'Melbourne', latitude: -37.8, longitude: 144.9 },
};

function opts(overrides: Partial<EnrichOptions> = {}): EnrichOptions {
  let n = 0;
  return { source: 'web', anonymizeIp: false, newId: () => `id-${++n}`, ...overrides };
}

function valid(body: unknown): ValidEvent {
  const r = validateEvent(body, undefined);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('enrichEvent', () => {
  it('replaces the writeKey with the source name and fills messageId and receivedAt', () => {
    const out = enrichEvent(valid(SEED_TRACK), facts, opts());
    expect(out['writeKey']).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain(SEED_TRACK.writeKey);
    expect(out['source']).toBe('web');
    expect(out['messageId']).toBe('id-1');
    expect(out['receivedAt']).toBe('2026-11-29T10:00:00.000Z');
  });

  it("keeps the client's messageId, the dedupe key", () => {
    const out = enrichEvent(valid({ ...VALID_CALLS.track, messageId: 'client-1' }), facts, opts());
    expect(out['messageId']).toBe('client-1');
  });

  it('keeps timestamp as sent when there is no sentAt', () => {
    const out = enrichEvent(valid(SEED_TRACK), facts, opts());
    expect(out['timestamp']).toBe('2017-08-09T13:24:25.615Z');
    expect(out['originalTimestamp']).toBeUndefined();
  });

  it('sets timestamp to receivedAt when the client sent none', () => {
    const out = enrichEvent(valid(VALID_CALLS.page), facts, opts());
    expect(out['timestamp']).toBe('2026-11-29T10:00:00.000Z');
  });

  it('corrects a client clock that runs 1 hour fast using the call sentAt', () => {
    const call = {
      ...VALID_CALLS.track,
      timestamp: '2026-11-29T10:59:50.000Z',
      sentAt: '2026-11-29T11:00:00.000Z',
    };
    const out = enrichEvent(valid(call), facts, opts());
    // The event happened 10 s before the client sent it; the server received it at 10:00:00.
    expect(out['timestamp']).toBe('2026-11-29T09:59:50.000Z');
    expect(out['originalTimestamp']).toBe('2026-11-29T10:59:50.000Z');
    expect(out['sentAt']).toBe('2026-11-29T11:00:00.000Z');
  });

  it("uses the batch's sentAt for an item without its own, and keeps the item's own first", () => {
    const item = { ...VALID_CALLS.track, timestamp: '2026-11-29T07:59:00.000+00:00' };
    const fromBatch = enrichEvent(valid(item), facts, opts(), {
      sentAt: '2026-11-29T08:00:00.000Z',
    });
    expect(fromBatch['timestamp']).toBe('2026-11-29T09:59:00.000Z');
    expect(fromBatch['sentAt']).toBe('2026-11-29T08:00:00.000Z');
    const own = enrichEvent(valid({ ...item, sentAt: '2026-11-29T07:59:30.000Z' }), facts, opts(), {
      sentAt: '2026-11-29T08:00:00.000Z',
    });
    expect(own['timestamp']).toBe('2026-11-29T09:59:30.000Z');
  });

  it('fills context.ip, userAgent and location from the request when absent', () => {
    const out = enrichEvent(valid(SEED_TRACK), facts, opts());
    expect(out['context']).toEqual({
      library: { name: 'analytics-go', version: '3.0.0' },
      ip: '203.0.113.77',
      userAgent: 'Mozilla/5.0 (test)',
      location: { country: 'AU', city: 'Melbourne', latitude: -37.8, longitude: 144.9 },
    });
  });

  it('keeps what the client set in context', () => {
    const context = { ip: '198.51.100.1', userAgent: 'custom', location: { city: 'Oslo' } };
    const out = enrichEvent(valid({ ...VALID_CALLS.track, context }), facts, opts());
    expect(out['context']).toEqual(context);
  });

  it('masks the request IP and a client-set IP when ANONYMIZE_IP is on', () => {
    const fromRequest = enrichEvent(valid(VALID_CALLS.track), facts, opts({ anonymizeIp: true }));
    expect((fromRequest['context'] as Record<string, unknown>)['ip']).toBe('203.0.113.0');
    const v6 = enrichEvent(
      valid({ ...VALID_CALLS.track, context: { ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348' } }),
      facts,
      opts({ anonymizeIp: true }),
    );
    expect((v6['context'] as Record<string, unknown>)['ip']).toBe('2001:db8:85a3::');
    const garbage = enrichEvent(
      valid({ ...VALID_CALLS.track, context: { ip: 'nope' } }),
      facts,
      opts({ anonymizeIp: true }),
    );
    expect(garbage['context']).not.toHaveProperty('ip');
  });

  it('keeps only the country of the location when ANONYMIZE_IP is on, whoever set it', () => {
    const fromRequest = enrichEvent(valid(VALID_CALLS.track), facts, opts({ anonymizeIp: true }));
    expect((fromRequest['context'] as Record<string, unknown>)['location']).toEqual({
      country: 'AU',
    });
    const own = { country: 'NO', city: 'Oslo', postalCode: '0150', latitude: 59.9 };
    const client = enrichEvent(
      valid({ ...VALID_CALLS.track, context: { location: own } }),
      facts,
      opts({ anonymizeIp: true }),
    );
    expect((client['context'] as Record<string, unknown>)['location']).toEqual({ country: 'NO' });
    const noCountry = enrichEvent(
      valid({ ...VALID_CALLS.track, context: { location: { city: 'Oslo' } } }),
      facts,
      opts({ anonymizeIp: true }),
    );
    expect(noCountry['context']).not.toHaveProperty('location');
    const off = enrichEvent(valid(VALID_CALLS.track), facts, opts());
    expect((off['context'] as Record<string, unknown>)['location']).toEqual(facts.location);
  });

  it('merges batch context and integrations under the item, the item winning', () => {
    const item = {
      ...VALID_CALLS.track,
      context: { library: { version: '2' }, page: { path: '/a' } },
      integrations: { Amplitude: false },
    };
    const out = enrichEvent(valid(item), { receivedAt: RECEIVED_AT }, opts(), {
      context: { library: { name: 'lib', version: '1' }, locale: 'en-AU' },
      integrations: { All: true, Amplitude: true },
    });
    expect(out['context']).toEqual({
      library: { name: 'lib', version: '2' },
      locale: 'en-AU',
      page: { path: '/a' },
    });
    expect(out['integrations']).toEqual({ All: true, Amplitude: false });
  });

  it('does not mutate the input call', () => {
    const input = structuredClone(SEED_TRACK);
    enrichEvent(valid(input), facts, opts({ anonymizeIp: true }), { context: { a: 1 } });
    expect(input).toEqual(SEED_TRACK);
  });
});
