// Blocked events inside workerd: from ingest to the dead-letter queue, archived by the DLQ
// consumer under blocked/<source>/, listed by GET /admin/blocked, and replayed by POST
// /admin/replay after a check against the plan in force at the time.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { archiveBatch, type ConsumerDeps } from '../../src/queue/consumer';
import { encodeDeadLetter } from '../../src/queue/dead-letter';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { basic, FIXED_NOW, harness, jsonPost, recordingQueue } from '../support/worker';

const ADMIN = { Authorization: 'Bearer test-admin-token' };
const testEnv = env as unknown as Env;
const deps: ConsumerDeps = { now: () => FIXED_NOW, random: () => 0.5, newId: () => 'batch1' };

type Json = Record<string, unknown>;

const PLAN = {
  events: {
    'Order Completed': {
      properties: { required: ['total'], properties: { total: { type: 'number' } } },
    },
  },
  unplannedEvents: 'block',
  violations: 'block',
};

const order = (messageId: string, properties: Json, event = 'Order Completed'): Json => ({
  type: 'track',
  event,
  userId: 'u1',
  messageId,
  properties,
});

function put(plan: unknown): RequestInit<CfProperties> {
  return { method: 'PUT', headers: ADMIN, body: JSON.stringify(plan) };
}

/** Posts `events` for `source` under `plan`; what the dead-letter queue received. */
async function blockedBodies(source: string, plan: unknown, events: Json[]): Promise<string[]> {
  const h = harness();
  await h.fetch(`/admin/tracking-plans/${source}`, put(plan));
  const dlq = recordingQueue();
  const res = await h.fetch(
    '/v1/batch',
    jsonPost({ batch: events }, { Authorization: basic(`key-${source}`) }),
    { WRITE_KEYS: `key-${source}=${source}`, DLQ: dlq.queue },
  );
  expect(res.status).toBe(200);
  return dlq.calls.flat();
}

async function archive(bodies: unknown[]) {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-dlq',
    bodies.map((body, i) => ({ id: `d${i}`, timestamp: new Date(FIXED_NOW), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  const report = await archiveBatch(batch, testEnv, deps);
  return { report, result: await getQueueResult(batch, ctx) };
}

async function lines(key: string): Promise<Json[]> {
  const text = (await (await testEnv.ARCHIVE.get(key))?.text()) ?? '';
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Json);
}

function deadLetter(): string {
  const [m] = packMessages(
    [{ line: JSON.stringify({ type: 'track', messageId: 'dl1' }), messageId: 'dl1' }],
    { source: 'web', receivedAt: FIXED_NOW },
  );
  const decoded = decodeMessage(m?.body);
  if (decoded === undefined) throw new Error('pack');
  return encodeDeadLetter(decoded, { reason: 'X', attempts: 3, at: FIXED_NOW }, 'tok');
}

describe('archiving blocked events', () => {
  it('writes them per source under blocked/<source>/, apart from dead letters, then acks', async () => {
    const a = await blockedBodies('arch-a', PLAN, [order('a1', { total: 'x' })]);
    const b = await blockedBodies('arch-b', PLAN, [order('b1', {}, 'Unplanned')]);
    const { report, result } = await archive([deadLetter(), ...a, ...b]);
    expect(result.ackAll).toBe(true);
    expect(report.keys).toEqual([
      'dead-letters/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson',
      'blocked/arch-a/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson',
      'blocked/arch-b/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson',
    ]);
    const [archived] = await lines(report.keys[1] ?? '');
    expect(archived).toMatchObject({
      reason: 'blocked: violation',
      attempts: 0,
      source: 'arch-a',
      event: {
        messageId: 'a1',
        context: { violations: [{ path: '/properties/total', action: 'blocked' }] },
      },
    });
    expect((await lines(report.keys[2] ?? ''))[0]?.['reason']).toBe('blocked: unplanned_event');
  });

  it('retries only the messages whose object could not be written', async () => {
    const a = await blockedBodies('arch-fail', PLAN, [order('f1', {})]);
    const failing = {
      put: (key: string) =>
        key.startsWith('blocked/')
          ? Promise.reject(new Error('R2 down'))
          : Promise.resolve({ key }),
    } as unknown as R2Bucket;
    const batch = createMessageBatch<unknown>('ndc-segment-dlq', [
      { id: 'd0', timestamp: new Date(FIXED_NOW), attempts: 1, body: deadLetter() },
      { id: 'd1', timestamp: new Date(FIXED_NOW), attempts: 1, body: a[0] },
    ]);
    const ctx = createExecutionContext();
    await archiveBatch(batch, { ...testEnv, ARCHIVE: failing }, deps);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(['d0']);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['d1']);
  });
});

describe('GET /admin/blocked', () => {
  it('lists blocked objects like /admin/dead-letters, and only them', async () => {
    const bodies = await blockedBodies('list-src', PLAN, [order('l1', {}), order('l2', {})]);
    const { report } = await archive(bodies);
    const h = harness();
    const res = await h.fetch('/admin/blocked?prefix=blocked/list-src/', { headers: ADMIN });
    expect(await res.json()).toEqual({
      success: true,
      objects: [
        {
          key: report.key,
          size: expect.any(Number),
          uploaded: expect.any(String),
          events: 2,
        },
      ],
      truncated: false,
    });
    const other = await h.fetch('/admin/blocked?prefix=dead-letters/', { headers: ADMIN });
    expect(other.status).toBe(400);
    expect((await h.fetch('/admin/blocked')).status).toBe(401);
  });
});

describe('POST /admin/replay of blocked events', () => {
  it('queues what the plan now accepts and keeps what it still refuses, annotated afresh', async () => {
    const bodies = await blockedBodies('replay-src', PLAN, [
      order('r-bad', { total: 'x' }),
      order('r-unplanned', { total: 1 }, 'Order Refunded'),
    ]);
    const { report } = await archive(bodies);
    const key = report.key ?? '';
    const h = harness();
    // The plan now takes any total, but still no unplanned event.
    await h.fetch(
      '/admin/tracking-plans/replay-src',
      put({ ...PLAN, events: { 'Order Completed': {} } }),
    );
    const res = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: 'blocked/replay-src/' }),
    });
    expect(await res.json()).toEqual({
      success: true,
      objects: 1,
      events: 1,
      skipped: 0,
      stillBlocked: 1,
      replayed: [key],
      busy: [],
      truncated: false,
    });
    const [queued] = h.queue.events();
    expect(queued).toMatchObject({ messageId: 'r-bad', source: 'replay-src' });
    expect((queued?.['context'] as Json)['violations']).toBeUndefined();
    expect(h.queue.messages()[0]?.header.token).toBe('d0');

    const kept = await lines(key);
    expect(kept.map((l) => [l['reason'], (l['event'] as Json)['messageId']])).toEqual([
      ['blocked: unplanned_event', 'r-unplanned'],
    ]);
    const listed = await testEnv.ARCHIVE.list({ prefix: 'replayed/blocked/replay-src/' });
    expect(listed.objects).toHaveLength(1);
    expect(await testEnv.ARCHIVE.head(`replay-claims/${key}`)).toBeNull();
  });

  it('queues every event once the source has no plan, and removes the object', async () => {
    const bodies = await blockedBodies('replay-noplan', PLAN, [order('n1', {})]);
    const { report } = await archive(bodies);
    const h = harness();
    await h.fetch('/admin/tracking-plans/replay-noplan', { method: 'DELETE', headers: ADMIN });
    const res = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: report.key }),
    });
    expect(await res.json()).toMatchObject({ events: 1, stillBlocked: 0 });
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['n1']);
    expect(await testEnv.ARCHIVE.head(report.key ?? '')).toBeNull();
  });

  it('leaves the object untouched and unclaimed when the plans cannot be read', async () => {
    const bodies = await blockedBodies('replay-kvdown', PLAN, [order('k1', {})]);
    const { report } = await archive(bodies);
    const down = { get: () => Promise.reject(new Error('KV down')) } as unknown as KVNamespace;
    const h = harness();
    const res = await h.fetch(
      '/admin/replay',
      { method: 'POST', headers: ADMIN, body: JSON.stringify({ prefix: report.key }) },
      { TRACKING_PLANS: down },
    );
    expect(res.status).toBe(503);
    expect(h.queue.calls).toEqual([]);
    expect(await testEnv.ARCHIVE.head(report.key ?? '')).not.toBeNull();
    expect(await testEnv.ARCHIVE.head(`replay-claims/${report.key}`)).toBeNull();
  });
});
