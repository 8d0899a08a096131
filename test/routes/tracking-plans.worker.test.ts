// Tracking plans through the real routes inside workerd: the admin API over the local KV
// namespace, enforcement on ingest (allow, omit, block), the isolate cache's KV reads, and the
// 503 when a new isolate cannot read its plans.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { PlanCache } from '../../src/plans/cache';
import { INDEX_KEY } from '../../src/plans/layout';
import { LOCAL_WRITE_PIN_MS } from '../../src/plans/limits';
import { FIXED_NOW, basic, fixedDeps, harness, jsonPost, recordingQueue } from '../support/worker';
import { captureErrors } from '../support/console';

const ADMIN = { Authorization: 'Bearer test-admin-token' };
const testEnv = env as unknown as Env;

const ORDER_PLAN = {
  events: {
    'Order Completed': {
      properties: {
        type: 'object',
        required: ['total'],
        properties: { total: { type: 'number' }, coupon: { type: 'string' } },
      },
    },
  },
  identify: { traits: { properties: { email: { type: 'string', format: 'email' } } } },
};

/** A source of its own per test (the KV namespace is shared by the file's tests). */
function source(name: string): { key: string; overrides: Partial<Env>; auth: string } {
  const key = `key-${name}`;
  return { key, overrides: { WRITE_KEYS: `${key}=${name}` }, auth: basic(key) };
}

function put(plan: unknown, headers: Record<string, string> = ADMIN): RequestInit<CfProperties> {
  return {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof plan === 'string' ? plan : JSON.stringify(plan),
  };
}

const order = (messageId: string, properties: Record<string, unknown>) => ({
  type: 'track',
  event: 'Order Completed',
  userId: 'u1',
  messageId,
  properties,
});

type Json = Record<string, unknown>;

function violationsOf(event: Json | undefined): unknown {
  return (event?.['context'] as Json | undefined)?.['violations'];
}

/** A KV namespace that counts the reads each key gets, over the real local one. */
function countingKv(kv: KVNamespace): { kv: KVNamespace; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const counted = new Proxy(kv, {
    get(target, prop) {
      if (prop === 'get') {
        return (key: string, options?: unknown) => {
          reads.set(key, (reads.get(key) ?? 0) + 1);
          return target.get(key, options as KVNamespaceGetOptions<'json'>);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { kv: counted, reads };
}

describe('admin API for tracking plans', () => {
  it('refuses every method without the admin token, and when ADMIN_TOKEN is unset', async () => {
    const h = harness();
    expect((await h.fetch('/admin/tracking-plans/web', put({}, {}))).status).toBe(401);
    expect((await h.fetch('/admin/tracking-plans/web')).status).toBe(401);
    expect((await h.fetch('/admin/tracking-plans/web', { method: 'DELETE' })).status).toBe(401);
    expect((await h.fetch('/admin/tracking-plans')).status).toBe(401);
    const wrong = await h.fetch(
      '/admin/tracking-plans/web',
      put({}, { Authorization: 'Bearer x' }),
    );
    expect(wrong.status).toBe(401);
    const off = await h.fetch('/admin/tracking-plans/web', put({}), { ADMIN_TOKEN: undefined });
    expect(off.status).toBe(401);
  });

  it('saves a plan with a new version, returns it, lists it and deletes it', async () => {
    const h = harness();
    const saved = await h.fetch('/admin/tracking-plans/api-crud', put(ORDER_PLAN));
    expect(saved.status).toBe(200);
    const { version } = await saved.json<{ version: string }>();
    expect(version).toMatch(/^20261129T100000000Z-[A-Za-z0-9]+$/);

    const got = await h.fetch('/admin/tracking-plans/api-crud', { headers: ADMIN });
    expect(await got.json()).toEqual({
      success: true,
      source: 'api-crud',
      version,
      plan: { ...ORDER_PLAN, unplannedEvents: 'allow', violations: 'allow' },
    });
    const again = await h.fetch('/admin/tracking-plans/api-crud', put({ violations: 'block' }));
    const second = (await again.json<{ version: string }>()).version;
    expect(second).not.toBe(version);
    const listed = await h.fetch('/admin/tracking-plans', { headers: ADMIN });
    expect((await listed.json<{ plans: Json }>()).plans['api-crud']).toBe(second);

    const deleted = await h.fetch('/admin/tracking-plans/api-crud', {
      method: 'DELETE',
      headers: ADMIN,
    });
    expect(await deleted.json()).toEqual({ success: true, source: 'api-crud', deleted: second });
    expect((await h.fetch('/admin/tracking-plans/api-crud', { headers: ADMIN })).status).toBe(404);
    const twice = await h.fetch('/admin/tracking-plans/api-crud', {
      method: 'DELETE',
      headers: ADMIN,
    });
    expect(twice.status).toBe(404);
    const index = await testEnv.TRACKING_PLANS?.get<{ plans: Json }>(INDEX_KEY, 'json');
    expect(index?.plans['api-crud']).toBeUndefined();
  });

  // Loading the checker (recheck, 2.9 MB) takes seconds in a fresh isolate: a generous limit,
  // nothing timed.
  it(
    'answers 400 to an expression that backtracks exponentially (ReDoS), naming its pointer',
    {
      timeout: 120_000,
    },
    async () => {
      const h = harness();
      const plan = { events: { A: { properties: { properties: { c: { pattern: '^(a+)+$' } } } } } };
      const res = await h.fetch('/admin/tracking-plans/api-redos', put(plan));
      expect(res.status).toBe(400);
      const body = await res.json<{ error: { code: string; field?: string; message: string } }>();
      expect(body.error).toMatchObject({
        code: 'invalid_plan',
        field: '/events/A/properties/properties/c/pattern',
      });
      expect(body.error.message).toContain('exponential');
      expect((await h.fetch('/admin/tracking-plans/api-redos', { headers: ADMIN })).status).toBe(
        404,
      );
    },
  );

  it.each([
    ['a plan that is not JSON', '{"events": ', 'invalid_json', undefined],
    [
      'a schema with a misspelt type',
      { events: { A: { properties: { type: 'objekt' } } } },
      'invalid_plan',
      '/events/A/properties/type',
    ],
    ['an unknown mode', { violations: 'drop' }, 'invalid_plan', '/violations'],
  ])('answers 400 to %s, naming the problem, and saves nothing', async (_w, plan, code, field) => {
    const h = harness();
    const res = await h.fetch('/admin/tracking-plans/api-invalid', put(plan));
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string; field?: string; message: string } }>();
    expect(body.error.code).toBe(code);
    expect(body.error.field).toBe(field);
    expect((await h.fetch('/admin/tracking-plans/api-invalid', { headers: ADMIN })).status).toBe(
      404,
    );
  });

  it('writes the index again when KV refuses it (one write per second per key)', async () => {
    const real = testEnv.TRACKING_PLANS as KVNamespace;
    let refusals = 1;
    const busy = new Proxy(real, {
      get(target, prop) {
        if (prop === 'put') {
          return (key: string, value: string, options?: KVNamespacePutOptions) => {
            if (key === INDEX_KEY && refusals-- > 0) {
              return Promise.reject(new Error('KV PUT failed: 429 Too Many Requests'));
            }
            return target.put(key, value, options);
          };
        }
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const h = harness();
    const res = await h.fetch('/admin/tracking-plans/api-busy', put({}), { TRACKING_PLANS: busy });
    expect(res.status).toBe(200);
    const index = await real.get<{ plans: Json }>(INDEX_KEY, 'json');
    expect(index?.plans['api-busy']).toBe((await res.json<{ version: string }>()).version);
  });

  it('refuses a source name that WRITE_KEYS could not give', async () => {
    const h = harness();
    const res = await h.fetch('/admin/tracking-plans/a%20b', put({}));
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { field: string } }>()).error.field).toBe('source');
  });
});

describe('enforcement on ingest', () => {
  it('allow: delivers a bad event annotated and a good one as it came', async () => {
    const s = source('enforce-allow');
    const h = harness();
    await h.fetch('/admin/tracking-plans/enforce-allow', put(ORDER_PLAN));
    const good = await h.fetch(
      '/v1/track',
      jsonPost(order('good', { total: 10 }), { Authorization: s.auth }),
      s.overrides,
    );
    const bad = await h.fetch(
      '/v1/track',
      jsonPost(order('bad', { total: 'ten' }), { Authorization: s.auth }),
      s.overrides,
    );
    expect([good.status, bad.status]).toEqual([200, 200]);
    const [first, second] = h.queue.events();
    expect(violationsOf(first)).toBeUndefined();
    expect(violationsOf(second)).toEqual([
      {
        type: 'violation',
        path: '/properties/total',
        message: 'Instance type "string" is invalid. Expected "number".',
        keyword: 'type',
      },
    ]);
  });

  it('omit: removes the failing property from a batch item, keeping the rest', async () => {
    const s = source('enforce-omit');
    const h = harness();
    await h.fetch('/admin/tracking-plans/enforce-omit', put({ ...ORDER_PLAN, violations: 'omit' }));
    const res = await h.fetch(
      '/v1/batch',
      jsonPost(
        {
          batch: [
            order('o1', { total: 5, coupon: 7, note: 'x' }),
            { type: 'identify', userId: 'u1', messageId: 'o2', traits: { email: 'nope' } },
          ],
        },
        { Authorization: s.auth },
      ),
      s.overrides,
    );
    expect(await res.json()).toEqual({ success: true, accepted: 2 });
    const [o1, o2] = h.queue.events();
    expect(o1?.['properties']).toEqual({ total: 5, note: 'x' });
    expect(violationsOf(o1)).toEqual([
      expect.objectContaining({ path: '/properties/coupon', action: 'omitted' }),
    ]);
    expect(o2?.['traits']).toEqual({});
    expect(violationsOf(o2)).toEqual([
      expect.objectContaining({ path: '/traits/email', keyword: 'format', action: 'omitted' }),
    ]);
  });

  it('block: answers 200, queues the bad events marked beside the good one, and counts them', async () => {
    const s = source('enforce-block');
    const metrics = new MetricsBuffer();
    const h = harness({ deps: fixedDeps(FIXED_NOW, metrics) });
    const dlq = recordingQueue();
    await h.fetch(
      '/admin/tracking-plans/enforce-block',
      put({ ...ORDER_PLAN, violations: 'block', unplannedEvents: 'block' }),
    );
    const res = await h.fetch(
      '/v1/batch',
      jsonPost(
        {
          batch: [
            order('b-good', { total: 1 }),
            order('b-bad', { total: 'x' }),
            { ...order('b-unplanned', {}), event: 'Order Refunded' },
          ],
        },
        { Authorization: s.auth },
      ),
      { ...s.overrides, DLQ: dlq.queue },
    );
    expect(await res.json()).toEqual({ success: true, accepted: 3 });
    // One message: the good event to deliver, the blocked ones marked (src/archive/blocked.ts).
    expect(h.queue.calls).toHaveLength(1);
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['b-good']);
    expect(dlq.calls).toEqual([]);
    const [message] = h.queue.messages();
    expect(message?.blocked?.reasons).toEqual(['violation', 'unplanned_event']);
    const blocked = (message?.blocked?.lines ?? []).map((l) => JSON.parse(l) as Json);
    expect(blocked.map((e) => [e['messageId'], violationsOf(e)])).toEqual([
      ['b-bad', [expect.objectContaining({ path: '/properties/total', action: 'blocked' })]],
      ['b-unplanned', [expect.objectContaining({ type: 'unplanned_event', action: 'blocked' })]],
    ]);
    expect(metrics.drain().counters).toMatchObject({
      'ndc_segment_tracking_plan_violations_total{source="enforce-block"}': 2,
      'ndc_segment_events_blocked_total{reason="violation",source="enforce-block"}': 1,
      'ndc_segment_events_blocked_total{reason="unplanned_event",source="enforce-block"}': 1,
      'ndc_segment_events_received_total{source="enforce-block",type="track"}': 3,
    });
  });

  it('answers 503 when the events queue refuses blocked events, so the client retries', async () => {
    const s = source('enforce-queue-down');
    const h = harness({ failQueue: true });
    const dlq = recordingQueue();
    await h.fetch(
      '/admin/tracking-plans/enforce-queue-down',
      put({ violations: 'block', ...ORDER_PLAN }),
    );
    const errors = captureErrors();
    const res = await h.fetch('/v1/track', jsonPost(order('d1', {}), { Authorization: s.auth }), {
      ...s.overrides,
      DLQ: dlq.queue,
    });
    expect(res.status).toBe(503);
    expect(errors).toHaveBeenCalledWith('queue send failed', expect.stringContaining('outage'));
    expect(dlq.calls).toEqual([]);
  });

  it('leaves the events of a source without a plan untouched', async () => {
    const s = source('enforce-none');
    const h = harness();
    const event = { ...order('n1', { total: 'x' }), context: { violations: 'mine' } };
    await h.fetch('/v1/track', jsonPost(event, { Authorization: s.auth }), s.overrides);
    expect(violationsOf(h.queue.events()[0])).toBe('mine');
  });

  it('applies a deleted plan no more, at once, in the isolate that deleted it', async () => {
    const s = source('enforce-delete');
    const h = harness();
    await h.fetch('/admin/tracking-plans/enforce-delete', put(ORDER_PLAN));
    await h.fetch('/admin/tracking-plans/enforce-delete', { method: 'DELETE', headers: ADMIN });
    await h.fetch('/v1/track', jsonPost(order('x1', {}), { Authorization: s.auth }), s.overrides);
    expect(violationsOf(h.queue.events()[0])).toBeUndefined();
  });
});

describe('the isolate cache', () => {
  it('reads the index once per cache window for every source, and a body once per version', async () => {
    const s = source('cache-reads');
    const other = source('cache-reads-2');
    const admin = harness();
    await admin.fetch('/admin/tracking-plans/cache-reads', put(ORDER_PLAN));
    await admin.fetch('/admin/tracking-plans/cache-reads-2', put(ORDER_PLAN));
    // Another isolate: its own cache, on a clock the test moves.
    let now = FIXED_NOW + LOCAL_WRITE_PIN_MS;
    const plans = new PlanCache(() => now);
    const h = harness({ deps: { ...fixedDeps(), now: () => now, plans } });
    const { kv, reads } = countingKv(testEnv.TRACKING_PLANS as KVNamespace);
    const send = (id: string, from = s): Promise<Response> =>
      h.fetch('/v1/track', jsonPost(order(id, { total: 'x' }), { Authorization: from.auth }), {
        WRITE_KEYS: `${s.key}=cache-reads,${other.key}=cache-reads-2`,
        TRACKING_PLANS: kv,
        TRACKING_PLAN_CACHE_SECONDS: '30',
      });
    for (let i = 0; i < 20; i++) {
      expect((await send(`c${i}`)).status).toBe(200);
      expect((await send(`d${i}`, other)).status).toBe(200);
    }
    // One index read for both sources; one body read per source.
    expect(reads.get(INDEX_KEY)).toBe(1);
    const bodies = [...reads.keys()].filter((k) => k.startsWith('plan:'));
    expect(bodies.map((k) => reads.get(k))).toEqual([1, 1]);
    expect(h.queue.events().every((e) => Array.isArray(violationsOf(e)))).toBe(true);

    // Past the window the first request refreshes (in its waitUntil); the plan has not changed,
    // so no body is read again.
    now += 31_000;
    await send('c-late');
    await send('c-later');
    expect(reads.get(INDEX_KEY)).toBe(2);
    expect(bodies.map((k) => reads.get(k))).toEqual([1, 1]);
  });

  it('picks up a plan another isolate saved once its cache window has passed', async () => {
    const s = source('cache-change');
    let now = FIXED_NOW;
    const plans = new PlanCache(() => now);
    const h = harness({ deps: { ...fixedDeps(), now: () => now, plans } });
    const vars = { ...s.overrides, TRACKING_PLAN_CACHE_SECONDS: '30' };
    await h.fetch('/v1/track', jsonPost(order('p1', {}), { Authorization: s.auth }), vars);
    await harness().fetch('/admin/tracking-plans/cache-change', put(ORDER_PLAN));
    await h.fetch('/v1/track', jsonPost(order('p2', {}), { Authorization: s.auth }), vars);
    now += 31_000;
    // This request starts the refresh and goes on with what the isolate had; the next one, for
    // a source never loaded here, reads the body itself.
    await h.fetch('/v1/track', jsonPost(order('p3', {}), { Authorization: s.auth }), vars);
    await h.fetch('/v1/track', jsonPost(order('p4', {}), { Authorization: s.auth }), vars);
    expect(h.queue.events().map((e) => [e['messageId'], violationsOf(e) !== undefined])).toEqual([
      ['p1', false],
      ['p2', false],
      ['p3', false],
      ['p4', true],
    ]);
  });

  it('answers 503 with Retry-After when a new isolate cannot read its plans', async () => {
    const s = source('cache-down');
    const down = {
      get: () => Promise.reject(new Error('KV unavailable')),
    } as unknown as KVNamespace;
    const h = harness();
    const errors = captureErrors();
    const res = await h.fetch('/v1/track', jsonPost(order('k1', {}), { Authorization: s.auth }), {
      ...s.overrides,
      TRACKING_PLANS: down,
    });
    expect(res.status).toBe(503);
    expect(errors).toHaveBeenCalledWith('tracking plan unavailable', 'KV unavailable');
    expect(res.headers.get('Retry-After')).toBe('5');
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe(
      'tracking_plan_unavailable',
    );
    expect(h.queue.calls).toEqual([]);
  });
});
