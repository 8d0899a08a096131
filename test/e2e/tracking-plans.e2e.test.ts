// Tracking plans end to end: the Worker under wrangler dev with its local KV, queues and R2, and
// the local Firehose endpoint. A plan put through the admin API changes what lands: annotated
// under `allow`, kept out under `block` (archived, listed), and delivered by a replay once the
// plan lets it through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  landed,
  metricSum,
  metricsText,
  SEED_KEY,
  startTestStack,
  until,
  waitForAll,
  type TestStack,
} from './support';

const ADMIN_TOKEN = 'e2e-plans-admin';
const SOURCE = 'ndc-demo';

type Json = Record<string, unknown>;

const PLAN = {
  events: {
    'Order Completed': {
      properties: {
        type: 'object',
        required: ['total'],
        properties: { total: { type: 'number' } },
      },
    },
  },
};

const order = (messageId: string, properties: Json): Json => ({
  type: 'track',
  event: 'Order Completed',
  anonymousId: 'a1',
  messageId,
  properties,
});

describe('tracking plans through the API, down to the Firehose files', () => {
  let stack: TestStack;

  const admin = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${stack.workerUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Json;
    if (res.status !== 200)
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const track = async (event: Json): Promise<void> => {
    const res = await fetch(`${stack.workerUrl}/v1/track`, {
      method: 'POST',
      headers: { Authorization: basic(SEED_KEY), 'Content-Type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
  };

  const landedEvent = async (id: string): Promise<Json | undefined> =>
    (await landed(stack)).find((e) => e['messageId'] === id);

  beforeAll(async () => {
    stack = await startTestStack({ stream: 'e2e-plans', vars: { ADMIN_TOKEN } });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('annotates a bad event under allow and leaves a good one as sent', async () => {
    const saved = await admin('PUT', `/admin/tracking-plans/${SOURCE}`, PLAN);
    expect(saved).toMatchObject({ success: true, source: SOURCE, version: expect.any(String) });
    await track(order('plan-good', { total: 12 }));
    await track(order('plan-bad', { total: 'twelve' }));
    const t = await waitForAll(stack, ['plan-good', 'plan-bad'], 60_000);
    expect(t.missing).toEqual([]);
    const good = await landedEvent('plan-good');
    const bad = await landedEvent('plan-bad');
    expect((good?.['context'] as Json)['violations']).toBeUndefined();
    expect((bad?.['context'] as Json)['violations']).toEqual([
      {
        type: 'violation',
        path: '/properties/total',
        message: 'Instance type "string" is invalid. Expected "number".',
        keyword: 'type',
      },
    ]);
  });

  it('keeps a bad event out of Firehose under block, archives it, and replays it once allowed', async () => {
    await admin('PUT', `/admin/tracking-plans/${SOURCE}`, { ...PLAN, violations: 'block' });
    await track(order('plan-blocked', { total: 'x' }));
    await track(order('plan-after', { total: 3 }));
    // The good event sent after it lands; the blocked one does not.
    expect((await waitForAll(stack, ['plan-after'], 60_000)).missing).toEqual([]);
    expect(await landedEvent('plan-blocked')).toBeUndefined();

    // The events consumer archives it under blocked/ndc-demo/ before it delivers the batch.
    const objects = await until(
      'the blocked event to be archived',
      async () => {
        const listing = await admin('GET', `/admin/blocked?prefix=blocked/${SOURCE}/`);
        const found = listing['objects'] as Json[];
        return found.length > 0 ? found : undefined;
      },
      60_000,
    );
    expect(objects[0]).toMatchObject({ events: 1 });
    // Counted by source and reason (the isolate flushes its counts every second here).
    await until(
      'the blocked event to be counted',
      async () => {
        const text = await metricsText(stack);
        const n = metricSum(text, 'ndc_segment_events_blocked_total', 'reason="violation"');
        return n >= 1 ? n : undefined;
      },
      30_000,
    );

    // Still blocked under the same plan: the replay keeps it archived.
    const refused = await admin('POST', '/admin/replay', { prefix: `blocked/${SOURCE}/` });
    expect(refused).toMatchObject({ events: 0, stillBlocked: 1 });

    // Back to allow: the replay checks it again and delivers it, annotated.
    await admin('PUT', `/admin/tracking-plans/${SOURCE}`, PLAN);
    const replay = await admin('POST', '/admin/replay', { prefix: `blocked/${SOURCE}/` });
    expect(replay).toMatchObject({ events: 1, stillBlocked: 0 });
    expect((await waitForAll(stack, ['plan-blocked'], 60_000)).missing).toEqual([]);
    const delivered = await landedEvent('plan-blocked');
    expect((delivered?.['context'] as Json)['violations']).toEqual([
      expect.objectContaining({ path: '/properties/total', keyword: 'type' }),
    ]);
    const left = await admin('GET', `/admin/blocked?prefix=blocked/${SOURCE}/`);
    expect(left['objects']).toEqual([]);
  });

  it('delivers everything again once the plan is deleted', async () => {
    await admin('DELETE', `/admin/tracking-plans/${SOURCE}`);
    await track(order('plan-deleted', { total: 'anything' }));
    expect((await waitForAll(stack, ['plan-deleted'], 60_000)).missing).toEqual([]);
    const event = await landedEvent('plan-deleted');
    expect((event?.['context'] as Json)['violations']).toBeUndefined();
  });
});
