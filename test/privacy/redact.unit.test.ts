import { beforeEach, describe, expect, it } from 'vitest';
import type { IdKind } from '../../src/privacy/hash';
import { clearHashMemos, keyedHex } from '../../src/privacy/lookup';
import { parsePolicy, type CompiledPolicy, type Sink } from '../../src/privacy/policy';
import { consentedSinks, redactEvents, type RedactInput } from '../../src/privacy/redact';
import type { QueuedEvent } from '../../src/segment/ingest';
import type { JsonObject } from '../../src/segment/types';
import { TEST_HASH_KEY, vector } from './vectors';

function policy(raw: unknown): CompiledPolicy {
  const parsed = parsePolicy(raw, true);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value.compiled;
}

function queued(event: JsonObject): QueuedEvent {
  const line = JSON.stringify(event);
  return { line, bytes: line.length, type: 'track', messageId: String(event['messageId']), event };
}

const hash = keyedHex(TEST_HASH_KEY);
// Each test hashes afresh (the memo is the isolate's): the vectors check Web Crypto itself.
beforeEach(() => clearHashMemos());

function input(overrides: Partial<RedactInput> = {}): RedactInput {
  return {
    policy: undefined,
    sinks: ['firehose', 'forward'],
    gpc: false,
    suppressed: undefined,
    hash,
    ...overrides,
  };
}

const EVENT: JsonObject = {
  type: 'track',
  messageId: 'm1',
  event: 'Order Completed',
  userId: 'u-42',
  anonymousId: 'anon-7',
  properties: { email: 'ada@example.com', total: 42, items: [{ sku: 'a', email: 'x' }] },
  traits: { name: 'Ada' },
  context: {
    ip: '203.0.113.77',
    traits: { ssn: '123-45-6789', email: 'ada@example.com' },
    location: { country: 'AU', city: 'Melbourne', postalCode: '3000', latitude: -37.8 },
    consent: { categoryPreferences: { analytics: true, advertising: false } },
  },
};

/** The one event out, as JSON parsed back from the line that would be queued. */
async function one(raw: unknown, extra: Partial<RedactInput> = {}): Promise<JsonObject> {
  const out = await redactEvents(
    [queued(structuredClone(EVENT))],
    input({ policy: policy(raw), ...extra }),
  );
  const [e] = out.events;
  if (e === undefined) throw new Error('the event was withheld');
  expect(JSON.parse(e.line)).toEqual(e.event);
  return JSON.parse(e.line) as JsonObject;
}

describe('consentedSinks', () => {
  const p = policy({
    consent: { categories: { firehose: ['analytics'], forward: ['advertising'] } },
  });
  const deny = policy({
    consent: { categories: { firehose: ['analytics'] }, missing: 'deny' },
  });
  const all: Sink[] = ['firehose', 'forward'];
  const withConsent = (consent: unknown): JsonObject => ({ context: { consent } });

  it.each([
    [
      'analytics only',
      { categoryPreferences: { analytics: true, advertising: false } },
      ['firehose'],
    ],
    ['advertising only', { categoryPreferences: { advertising: true } }, ['forward']],
    ['both', { categoryPreferences: { analytics: true, advertising: true } }, all],
    ['an empty categoryPreferences: nothing', { categoryPreferences: {} }, []],
    ['a consent without categoryPreferences: nothing', {}, []],
    ['"true" as a string is not consent', { categoryPreferences: { analytics: 'true' } }, []],
  ])('%s', (_what, consent, expected) => {
    expect(consentedSinks(withConsent(consent), p, all)).toEqual(expected);
  });

  it('lets an event without context.consent through with missing: allow (the default)', () => {
    expect(consentedSinks({ context: {} }, p, all)).toEqual(all);
    expect(consentedSinks({}, p, all)).toEqual(all);
  });

  it('keeps it from every sink that lists categories with missing: deny', () => {
    // forward lists no category: it needs no consent.
    expect(consentedSinks({}, deny, all)).toEqual(['forward']);
    expect(consentedSinks({}, deny, ['firehose'])).toEqual([]);
  });

  it('lets everything through with no policy', () => {
    expect(consentedSinks(withConsent({ categoryPreferences: {} }), undefined, all)).toEqual(all);
  });
});

describe('redactEvents: field rules', () => {
  it('hashes with HMAC-SHA256 as node:crypto computes it, and drops', async () => {
    const out = await one({
      fields: [
        { path: '/properties/email', action: 'hash' },
        { path: '/context/traits/ssn', action: 'drop' },
        { path: '/traits/name', action: 'hash' },
      ],
    });
    expect((out['properties'] as JsonObject)['email']).toBe(vector('ada@example.com'));
    expect((out['traits'] as JsonObject)['name']).toBe(vector('Ada'));
    expect(out['context']).not.toHaveProperty('traits.ssn');
    expect((out['context'] as JsonObject)['traits']).toEqual({ email: 'ada@example.com' });
    expect((out['properties'] as JsonObject)['total']).toBe(42);
  });

  it('hashes a non-string as its JSON', async () => {
    const out = await one({ fields: [{ path: '/properties/total', action: 'hash' }] });
    expect((out['properties'] as JsonObject)['total']).toBe(vector('42'));
  });

  it('leaves the very same event, line and all, when no pointer matches', async () => {
    const e = queued(structuredClone(EVENT));
    const out = await redactEvents(
      [e],
      input({
        policy: policy({
          fields: [
            { path: '/properties/phone', action: 'drop' },
            { path: '/context/traits/ssn/deeper', action: 'hash' },
            { path: '/properties/items/5', action: 'drop' },
          ],
        }),
      }),
    );
    expect(out.events[0]).toBe(e);
    expect(out.counts.redacted).toEqual({ drop: 0, hash: 0, truncate: 0 });
  });

  it('follows * over keys and array items', async () => {
    const out = await one({
      fields: [
        { path: '/properties/items/*/email', action: 'hash' },
        { path: '/context/traits/*', action: 'drop' },
      ],
    });
    const items = (out['properties'] as JsonObject)['items'] as JsonObject[];
    expect(items).toEqual([{ sku: 'a', email: vector('x') }]);
    expect((out['context'] as JsonObject)['traits']).toEqual({});
  });

  it('hashes an array item where it was, even when a later rule drops an item before it', async () => {
    const e = queued({
      type: 'track',
      messageId: 'm',
      properties: { tags: ['Ada', 'keep', '42'] },
    });
    const out = await redactEvents(
      [e],
      input({
        policy: policy({
          fields: [
            { path: '/properties/tags/2', action: 'hash' },
            { path: '/properties/tags/0', action: 'drop' },
          ],
        }),
      }),
    );
    expect((out.events[0]?.event['properties'] as JsonObject)['tags']).toEqual([
      'keep',
      vector('42'),
    ]);
    expect(out.counts.redacted).toMatchObject({ drop: 1, hash: 1 });
  });

  it('never hashes a value twice: a batch sharing one context, two rules on one field', async () => {
    const shared = { traits: { email: 'ada@example.com' } };
    const events = [1, 2].map((n) =>
      queued({ type: 'track', messageId: `m${n}`, context: shared }),
    );
    const out = await redactEvents(
      events,
      input({
        policy: policy({
          fields: [
            { path: '/context/traits/email', action: 'hash' },
            { path: '/context/traits/*', action: 'hash' },
          ],
        }),
      }),
    );
    for (const e of out.events) {
      expect(((e.event['context'] as JsonObject)['traits'] as JsonObject)['email']).toBe(
        vector('ada@example.com'),
      );
    }
    expect(shared.traits.email).toBe('ada@example.com');
    expect(out.counts.redacted.hash).toBe(2);
  });

  it('refuses to hash without a key rather than pass the value on', async () => {
    await expect(
      redactEvents(
        [queued(structuredClone(EVENT))],
        input({
          policy: policy({ fields: [{ path: '/userId', action: 'hash' }] }),
          hash: undefined,
        }),
      ),
    ).rejects.toThrow(/PRIVACY_HASH_KEY/);
  });
});

describe('redactEvents: ip and location', () => {
  it.each([
    ['truncate', '203.0.113.0'],
    ['drop', undefined],
    ['full', '203.0.113.77'],
  ])('ip: %s', async (mode, expected) => {
    const out = await one({ ip: mode });
    expect((out['context'] as JsonObject)['ip']).toBe(expected);
  });

  it.each([
    ['country', { country: 'AU' }],
    ['none', undefined],
    ['full', EVENT['context'] && (EVENT['context'] as JsonObject)['location']],
  ])('location: %s', async (mode, expected) => {
    const out = await one({ location: mode });
    expect((out['context'] as JsonObject)['location']).toEqual(expected);
  });
});

describe('redactEvents: withheld events', () => {
  const consent = {
    consent: { categories: { firehose: ['analytics'], forward: ['advertising'] } },
  };

  it('marks the sinks consent allows, and withholds an event with none', async () => {
    const refused = structuredClone(EVENT);
    (refused['context'] as JsonObject)['consent'] = { categoryPreferences: {} };
    const out = await redactEvents(
      [queued(structuredClone(EVENT)), queued(refused)],
      input({ policy: policy(consent) }),
    );
    expect(out.events.map((e) => e.sinks)).toEqual([['firehose']]);
    expect(out.withheld).toEqual([{ index: 1, reason: 'consent' }]);
    expect(out.shown[1]).toBeUndefined();
    expect(out.counts.consent).toEqual({ firehose: 1, forward: 2 });
  });

  it('counts only the sinks the source has: forward is off, firehose allowed, all kept', async () => {
    const out = await redactEvents(
      [queued(structuredClone(EVENT))],
      input({ policy: policy(consent), sinks: ['firehose'] }),
    );
    expect(out.events[0]?.sinks).toBeUndefined();
    expect(out.counts.consent).toEqual({ firehose: 0, forward: 0 });
  });

  it('withholds a suppressed userId or anonymousId, asking the lookup with each', async () => {
    const asked: Array<[IdKind, string]> = [];
    const suppressed = async (kind: IdKind, id: string): Promise<boolean> => {
      asked.push([kind, id]);
      return kind === 'anonymousId' && id === 'anon-7';
    };
    const other = { ...structuredClone(EVENT), userId: 'u-1', anonymousId: 'anon-1' };
    const out = await redactEvents(
      [queued(structuredClone(EVENT)), queued(other)],
      input({ suppressed }),
    );
    expect(out.withheld).toEqual([{ index: 0, reason: 'suppressed' }]);
    expect(out.events.map((e) => e.messageId)).toEqual(['m1']);
    expect(out.events[0]?.event['userId']).toBe('u-1');
    expect(asked).toContainEqual(['anonymousId', 'anon-7']);
    expect(out.counts.suppressed).toBe(1);
  });

  it('Sec-GPC: 1 with gpc: drop withholds; without the header nothing happens', async () => {
    const p = policy({ gpc: 'drop' });
    const dropped = await redactEvents(
      [queued(structuredClone(EVENT))],
      input({ policy: p, gpc: true }),
    );
    expect(dropped.withheld).toEqual([{ index: 0, reason: 'gpc' }]);
    const e = queued(structuredClone(EVENT));
    const kept = await redactEvents([e], input({ policy: p, gpc: false }));
    expect(kept.events[0]).toBe(e);
  });

  it('Sec-GPC: 1 with gpc: anonymize hashes ids and traits, drops the ip, keeps the country', async () => {
    const out = await one({ gpc: 'anonymize' }, { gpc: true });
    expect(out['userId']).toBe(vector('u-42'));
    expect(out['anonymousId']).toBe(vector('anon-7'));
    expect(out['traits']).toEqual({ name: vector('Ada') });
    const context = out['context'] as JsonObject;
    expect(context['traits']).toEqual({
      ssn: vector('123-45-6789'),
      email: vector('ada@example.com'),
    });
    expect(context).not.toHaveProperty('ip');
    expect(context['location']).toEqual({ country: 'AU' });
  });

  it('with gpc: anonymize and a hash rule on userId, hashes it once', async () => {
    const out = await one(
      { gpc: 'anonymize', fields: [{ path: '/userId', action: 'hash' }] },
      { gpc: true },
    );
    expect(out['userId']).toBe(vector('u-42'));
  });
});
