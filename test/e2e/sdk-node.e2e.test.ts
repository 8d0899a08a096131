// The official Node SDK end to end, unmodified: @segment/analytics-node pointed at the Worker
// under wrangler dev sends 1,000 calls of all six types through POST /v1/batch, and every one
// must land in the local Firehose files exactly once, as the SDK sent it plus our enrichment.
import { Analytics } from '@segment/analytics-node';
import type { Context } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEnriched, isJson, omit, type Json } from './sdk-support';
import { landed, SEED_KEY, startTestStack, waitForAll, type TestStack } from './support';

const EVENTS = 1_000;
const FLUSH_AT = 20;
const FLUSH_INTERVAL_MS = 100;
const SOURCE = 'ndc-demo';
const TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
type CallType = (typeof TYPES)[number];

/** What one call passed to the SDK, to find in the landed event. */
interface Call {
  type: CallType;
  fields: Json;
}

// One call of the given type, with fields every type checks (ids, names, nested objects).
function makeCall(i: number): Call {
  const type = TYPES[i % TYPES.length] ?? 'track';
  // Alternate identities so both userId-only and anonymousId-only calls travel.
  const who = i % 2 === 0 ? { userId: `user-${i}` } : { anonymousId: `anon-${i}` };
  // Some calls carry their own, older timestamp: skew correction must keep its distance.
  const timestamp = i % 10 === 3 ? { timestamp: new Date(Date.now() - 3_600_000) } : {};
  const context = { app: { name: 'sdk-node-e2e', build: String(i) } };
  switch (type) {
    case 'track':
      return {
        type,
        fields: {
          ...who,
          ...timestamp,
          context,
          event: `Order Completed ${i % 7}`,
          properties: { index: i, revenue: i + 0.99, items: [{ sku: `sku-${i}`, qty: 2 }] },
        },
      };
    case 'identify':
      return {
        type,
        fields: { ...who, ...timestamp, context, traits: { index: i, email: `u${i}@example.com` } },
      };
    case 'page':
    case 'screen':
      return {
        type,
        fields: {
          ...who,
          ...timestamp,
          context,
          category: 'Docs',
          name: `${type === 'page' ? 'Page' : 'Screen'} ${i}`,
          properties: { index: i, path: `/docs/${i}` },
        },
      };
    case 'group':
      return {
        type,
        fields: {
          ...who,
          ...timestamp,
          context,
          groupId: `group-${i % 13}`,
          traits: { index: i, plan: 'enterprise' },
        },
      };
    case 'alias':
      return {
        type,
        fields: { ...timestamp, context, userId: `user-${i}`, previousId: `anon-${i}` },
      };
  }
}

// analytics-node's methods take one params object whose shape depends on the type.
function send(
  analytics: Analytics,
  call: Call,
  done: (err: unknown, ctx: Context | undefined) => void,
): void {
  const params = call.fields as never;
  switch (call.type) {
    case 'track':
      return analytics.track(params, done);
    case 'identify':
      return analytics.identify(params, done);
    case 'page':
      return analytics.page(params, done);
    case 'screen':
      return analytics.screen(params, done);
    case 'group':
      return analytics.group(params, done);
    case 'alias':
      return analytics.alias(params, done);
  }
}

/** A field as it travels in JSON (Dates become ISO strings). */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

describe('@segment/analytics-node against the Worker', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ stream: 'e2e-sdk-node' });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('lands all 1,000 calls of every type exactly once, intact and enriched', async () => {
    const analytics = new Analytics({
      writeKey: SEED_KEY,
      host: stack.workerUrl,
      path: '/v1/batch',
      flushAt: FLUSH_AT,
      flushInterval: FLUSH_INTERVAL_MS,
    });

    const errors: unknown[] = [];
    analytics.on('error', (err) => errors.push(err));
    // The SDK emits each call's type with its context once the call is delivered.
    const emitted = new Map<string, CallType>();
    for (const type of TYPES) {
      analytics.on(type, (ctx) => emitted.set(ctx.event.messageId ?? '', type));
    }
    // What went on the wire, and how the Worker answered each request.
    const statuses: number[] = [];
    const requestUserAgents = new Set<string>();
    const wireEvents = new Map<string, { sent: Json; sentAt: string }>();
    analytics.on('http_request', (req) => {
      requestUserAgents.add(req.headers['User-Agent'] ?? '');
    });
    analytics.on('http_response', (res) => {
      statuses.push(res.status);
      if (res.status !== 200) return;
      const body = JSON.parse(res.body) as { batch: Json[]; sentAt: string; writeKey: string };
      expect(body.writeKey).toBe(SEED_KEY);
      for (const sent of body.batch) {
        wireEvents.set(String(sent['messageId']), { sent, sentAt: body.sentAt });
      }
    });

    // Each call's own callback names its messageId and any delivery failure.
    const calls = Array.from({ length: EVENTS }, (_v, i) => makeCall(i));
    const delivered = await Promise.all(
      calls.map(
        (call) =>
          new Promise<{ call: Call; messageId: string; err: unknown }>((ok) => {
            send(analytics, call, (err, ctx) => {
              ok({ call, messageId: ctx?.event.messageId ?? '', err });
            });
          }),
      ),
    );
    await analytics.closeAndFlush({ timeout: 60_000 });

    const ids = delivered.map((d) => d.messageId);
    expect(delivered.filter((d) => d.err !== undefined).map((d) => String(d.err))).toEqual([]);
    expect(errors).toEqual([]);
    expect(new Set(ids).size).toBe(EVENTS);
    expect(ids.every((id) => id !== '')).toBe(true);
    expect([...emitted.keys()].sort()).toEqual([...ids].sort());
    // A 4xx would be the Worker refusing what the SDK sends; the SDK retries only 5xx/429.
    expect(statuses.filter((s) => s >= 400 && s < 500)).toEqual([]);
    expect(wireEvents.size).toBe(EVENTS);

    const t = await waitForAll(stack, ids, 60_000);
    const events = await landed(stack);
    console.log(
      `sdk-node e2e: sent=${EVENTS} requests=${statuses.length} ` +
        `non200=${statuses.filter((s) => s !== 200).length} landed=${t.distinct} ` +
        `missing=${t.missing.length} duplicates=${t.duplicates} lines=${events.length}`,
    );
    expect(t.missing).toEqual([]);
    expect(t.duplicates).toBe(0);
    expect(t.distinct).toBe(EVENTS);
    // Only our events are in this stream.
    expect(events).toHaveLength(EVENTS);

    const byId = new Map(events.map((e) => [String(e['messageId']), e]));
    const userAgent = [...requestUserAgents];
    expect(userAgent).toHaveLength(1);
    const counts: Record<string, number> = {};
    for (const { call, messageId } of delivered) {
      const got = byId.get(messageId);
      const onWire = wireEvents.get(messageId);
      if (got === undefined || onWire === undefined) throw new Error(`no ${messageId}`);
      counts[String(got['type'])] = (counts[String(got['type'])] ?? 0) + 1;

      // What we passed to the SDK is in what landed ...
      expect(got['type']).toBe(call.type);
      expect(got).toMatchObject(wire(omit(call.fields, ['timestamp'])) as Json);
      if (call.fields['timestamp'] instanceof Date) {
        expect(got['originalTimestamp']).toBe(call.fields['timestamp'].toISOString());
      }
      // ... with the SDK's own additions (library, _metadata) ...
      const context = got['context'];
      expect(isJson(context) && context['library']).toEqual({
        name: '@segment/analytics-node',
        version: analytics.VERSION,
      });
      // ... and the wire event whole, enriched by the Worker.
      expectEnriched(got, { ...onWire, ip: '127.0.0.1', userAgent: userAgent[0] ?? '' }, SOURCE);
    }
    const expected: Record<string, number> = {};
    for (const call of calls) expected[call.type] = (expected[call.type] ?? 0) + 1;
    expect(counts).toEqual(expected);

    // The write key never reaches Firehose, in any field.
    expect(JSON.stringify(events)).not.toContain(SEED_KEY);
    expect(JSON.stringify(events)).not.toContain('writeKey');
  });
});
