// Blocked events inside workerd: from ingest, in the same queue message as the events delivered
// (one send, none to the dead-letter queue), archived by the events consumer under
// blocked/<source>/ (deduplicated, so a resend or a retry writes them once), listed by GET
// /admin/blocked, and replayed by POST /admin/replay after a check against the plan in force;
// letters of the older format (whole blocked letters on the DLQ) still archived and replayed.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { encodeDeadLetter } from '../../src/archive/format';
import { archiveBatch, type ArchiveDeps } from '../../src/archive/writer';
import { Outbox, flushOutbox, type DedupeSettings } from '../../src/dedupe/client';
import type { Env } from '../../src/env';
import { deliverBatch } from '../../src/queue/consumer';
import { decodeMessage, encodeHeader } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { DELIVERY_MAX_ATTEMPTS } from '../../src/queue/retry';
import { QUEUE_RETENTION_DEFAULT_SECONDS } from '../../src/queue/step';
import { captureErrors } from '../support/console';
import { landedEvents, uniqueStream } from '../support/firehose';
import { basic, FIXED_NOW, harness, jsonPost, recordingQueue } from '../support/worker';
import { archivedText } from '../support/archive';

const ADMIN = { Authorization: 'Bearer test-admin-token' };
const testEnv = env as unknown as Env;
const deps: ArchiveDeps = { now: () => FIXED_NOW, random: () => 0.5, newId: () => 'batch1' };

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

/** Posts `events` for `source` under `plan`; the events queue's and the DLQ's sends. */
async function ingest(
  source: string,
  plan: unknown,
  events: Json[],
): Promise<{ calls: string[][]; dlqCalls: string[][] }> {
  const h = harness();
  await h.fetch(`/admin/tracking-plans/${source}`, put(plan));
  const dlq = recordingQueue();
  const res = await h.fetch(
    '/v1/batch',
    jsonPost({ batch: events }, { Authorization: basic(`key-${source}`) }),
    { WRITE_KEYS: `key-${source}=${source}`, DLQ: dlq.queue },
  );
  expect(res.status).toBe(200);
  return { calls: h.queue.calls, dlqCalls: dlq.calls };
}

/** The events queue's message bodies for `events` posted under `plan`. */
async function ingested(source: string, plan: unknown, events: Json[]): Promise<string[]> {
  return (await ingest(source, plan, events)).calls.flat();
}

/** Dedupe shards of this test's own, and an outbox. */
function dedupe(): { settings: DedupeSettings; outbox: Outbox } {
  const namespace = testEnv.DEDUPE;
  if (namespace === undefined) throw new Error('no DEDUPE binding');
  const run = crypto.randomUUID();
  return {
    settings: {
      shards: 2,
      io: {
        call: (shard, request) =>
          namespace.get(namespace.idFromName(`${run}-${shard}`)).apply(request),
      },
    },
    outbox: new Outbox(),
  };
}

interface Consumed {
  result: FetcherQueueResult;
  report: Awaited<ReturnType<typeof deliverBatch>>;
  dlq: ReturnType<typeof recordingQueue>;
  /** The events queue: fresh copies the consumer requeued. */
  events: ReturnType<typeof recordingQueue>;
}

/** Runs the events consumer over `bodies` (message ids `<prefix>0`, …). */
async function consume(
  bodies: string[],
  options: {
    stream: string;
    dedupe?: ReturnType<typeof dedupe>;
    archive?: R2Bucket;
    attempts?: number;
    prefix?: string;
    /** When the messages were sent (default FIXED_NOW, the consumer's clock). */
    sentAt?: number;
  },
): Promise<Consumed> {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-events',
    bodies.map((body, i) => ({
      id: `${options.prefix ?? 'e'}${i}`,
      timestamp: new Date(options.sentAt ?? FIXED_NOW),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  const dlq = recordingQueue();
  const events = recordingQueue();
  const consumerEnv: Env = {
    ...testEnv,
    FIREHOSE_STREAM: options.stream,
    DLQ: dlq.queue,
    EVENTS: events.queue,
    ...(options.archive ? { ARCHIVE: options.archive } : {}),
  };
  const d = options.dedupe;
  // Each run names its objects apart (as a fresh id per batch does), the first `batch1`.
  const runDeps = { ...deps, newId: () => (options.prefix ? `batch-${options.prefix}` : 'batch1') };
  const report = await deliverBatch(batch, consumerEnv, runDeps, d?.settings, d?.outbox);
  if (d !== undefined) await flushOutbox(d.settings.io, d.outbox);
  return { result: await getQueueResult(batch, ctx), report, dlq, events };
}

async function lines(key: string): Promise<Json[]> {
  const text = (await archivedText(key)) ?? '';
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Json);
}

async function blockedKeys(source: string): Promise<string[]> {
  const listing = await testEnv.ARCHIVE.list({ prefix: `blocked/${source}/` });
  return listing.objects.map((o) => o.key);
}

/** Every archived blocked event of a source, by messageId. */
async function archivedIds(source: string): Promise<string[]> {
  const all = await Promise.all((await blockedKeys(source)).map(lines));
  return all
    .flat()
    .map((l) => String((l['event'] as Json)['messageId']))
    .sort();
}

/** Archives `events` posted under PLAN through the events consumer; the object's key. */
async function archived(source: string, events: Json[]): Promise<string> {
  const bodies = await ingested(source, PLAN, events);
  await consume(bodies, { stream: uniqueStream(source) });
  const [key] = await blockedKeys(source);
  if (key === undefined) throw new Error('nothing archived');
  return key;
}

const failingPuts = (): R2Bucket =>
  ({ put: () => Promise.reject(new Error('R2 down')) }) as unknown as R2Bucket;

describe('ingest of blocked events', () => {
  it('queues them in the same message as the events delivered, marked, with one send', async () => {
    const { calls, dlqCalls } = await ingest('one-send', PLAN, [
      order('ok1', { total: 1 }),
      order('bad1', { total: 'x' }),
      order('un1', { total: 1 }, 'Unplanned'),
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(1);
    expect(dlqCalls).toEqual([]);
    const decoded = decodeMessage(calls[0]?.[0]);
    expect(decoded?.header).toMatchObject({ source: 'one-send', events: 1, ids: ['ok1'] });
    expect(decoded?.blocked?.ids).toEqual(['bad1', 'un1']);
    expect(decoded?.blocked?.reasons).toEqual(['violation', 'unplanned_event']);
  });

  it('queues a request whose every event is blocked as one message too', async () => {
    const { calls, dlqCalls } = await ingest('all-blocked', PLAN, [order('b1', {})]);
    expect(calls.flat()).toHaveLength(1);
    expect(dlqCalls).toEqual([]);
    const decoded = decodeMessage(calls[0]?.[0]);
    expect([decoded?.header.events, decoded?.blocked?.ids]).toEqual([0, ['b1']]);
  });
});

describe('the events consumer', () => {
  it('archives blocked events per source under blocked/<source>/ and delivers the rest', async () => {
    const stream = uniqueStream('blocked-split');
    const a = await ingested('arch-a', PLAN, [
      order('a-ok', { total: 1 }),
      order('a1', { total: 'x' }),
    ]);
    const b = await ingested('arch-b', PLAN, [order('b1', {}, 'Unplanned')]);
    const { result, report } = await consume([...a, ...b], { stream });
    expect(result.explicitAcks.sort()).toEqual(['e0', 'e1']);
    expect((await landedEvents(stream)).map((e) => e['messageId'])).toEqual(['a-ok']);
    expect(report.archivedEvents).toBe(2);
    expect(await blockedKeys('arch-a')).toEqual([
      'blocked/arch-a/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson',
    ]);
    const [line] = await lines((await blockedKeys('arch-a'))[0] ?? '');
    expect(line).toMatchObject({
      reason: 'blocked: violation',
      attempts: 0,
      source: 'arch-a',
      receivedAt: '2026-11-29T10:00:00.000Z',
      deadLetteredAt: '2026-11-29T10:00:00.000Z',
      token: 'e0',
      event: {
        messageId: 'a1',
        context: { violations: [{ path: '/properties/total', action: 'blocked' }] },
      },
    });
    expect((await lines((await blockedKeys('arch-b'))[0] ?? ''))[0]?.['reason']).toBe(
      'blocked: unplanned_event',
    );
  });

  it("archives a resent request's blocked events once, and delivers its good ones once", async () => {
    const stream = uniqueStream('blocked-resend');
    const d = dedupe();
    const events = [order('rs-ok', { total: 1 }), order('rs-bad', {})];
    const first = await ingested('resend-src', PLAN, events);
    // The client sends the same request again: a second message with the same events.
    const again = await ingested('resend-src', PLAN, events);
    await consume(first, { stream, dedupe: d, prefix: 'first' });
    const { result } = await consume(again, { stream, dedupe: d, prefix: 'again' });
    expect(result.explicitAcks).toEqual(['again0']);
    expect(await archivedIds('resend-src')).toEqual(['rs-bad']);
    expect((await landedEvents(stream)).map((e) => e['messageId'])).toEqual(['rs-ok']);
  });

  it('leaves no repeat anywhere after a request answered 503 part-queued and sent again', async () => {
    const stream = uniqueStream('blocked-partial');
    const d = dedupe();
    const source = 'partial-src';
    const pad = 'x'.repeat(14_000);
    const events = Array.from({ length: 24 }, (_v, i) =>
      i % 2 === 0 ? order(`pg${i}`, { total: i, pad }) : order(`pb${i}`, { pad }),
    );
    // Two sendBatch groups; the second is refused, and again when sent once more: a 503.
    const h = harness({ failQueueCall: (n) => n === 1 || n === 2 });
    await h.fetch(`/admin/tracking-plans/${source}`, put(PLAN));
    const post = () =>
      h.fetch('/v1/batch', jsonPost({ batch: events }, { Authorization: basic(`key-${source}`) }), {
        WRITE_KEYS: `key-${source}=${source}`,
      });
    const errors = captureErrors();
    expect((await post()).status).toBe(503);
    expect(errors).toHaveBeenCalledWith('queue send failed', expect.stringContaining('outage'));
    const firstMessages = h.queue.calls.flat().length;
    expect(firstMessages).toBeGreaterThan(0);
    // The client sends the whole request again, as SDKs do after a 503.
    expect((await post()).status).toBe(200);
    const bodies = h.queue.calls.flat();
    expect(bodies.length).toBeGreaterThan(firstMessages);
    await consume(bodies.slice(0, firstMessages), { stream, dedupe: d });
    const again = await consume(bodies.slice(firstMessages), { stream, dedupe: d, prefix: 'a' });
    expect(again.result.retryMessages).toEqual([]);
    const good = events.filter((_e, i) => i % 2 === 0).map((e) => String(e['messageId']));
    const bad = events.filter((_e, i) => i % 2 === 1).map((e) => String(e['messageId']));
    expect((await landedEvents(stream)).map((e) => String(e['messageId'])).sort()).toEqual(
      good.sort(),
    );
    expect(await archivedIds(source)).toEqual(bad.sort());
  });

  it('holds back a message whose blocked events R2 refused, requeued with them and sending nothing, then archives them once', async () => {
    const stream = uniqueStream('blocked-r2');
    const d = dedupe();
    const bodies = await ingested('retry-src', PLAN, [
      order('rt-ok', { total: 1 }),
      order('rt1', {}),
    ]);
    const errors = captureErrors();
    const down = await consume(bodies, { stream, dedupe: d, archive: failingPuts() });
    expect(errors).toHaveBeenCalledWith('blocked archive write failed', 'R2 down');
    expect(await landedEvents(stream)).toEqual([]);
    // Waiting on R2 (src/queue/step.ts): acked once a fresh copy, blocked lines and all, is queued.
    expect(down.result.explicitAcks).toEqual(['e0']);
    const [copy] = down.events.calls.flat();
    const decoded = decodeMessage(copy);
    expect(decoded?.header).toMatchObject({ ids: ['rt-ok'], wait: 'archive' });
    expect(decoded?.blocked?.ids).toEqual(['rt1']);
    const up = await consume([copy ?? ''], { stream, dedupe: d, prefix: 'copy' });
    expect(up.result.explicitAcks).toEqual(['copy0']);
    expect(await archivedIds('retry-src')).toEqual(['rt1']);
    expect((await landedEvents(stream)).map((e) => e['messageId'])).toEqual(['rt-ok']);
    // The original message once more (a redelivery, say) archives nothing again.
    await consume(bodies, { stream, dedupe: d, attempts: 3 });
    expect(await archivedIds('retry-src')).toEqual(['rt1']);
  });

  it('dead-letters blocked events not yet archived with a message past the retention, and the DLQ consumer archives them', async () => {
    const stream = uniqueStream('blocked-last');
    const bodies = await ingested('last-src', PLAN, [order('l-ok', { total: 1 }), order('l1', {})]);
    const errors = captureErrors();
    // Only past the queue's retention is a waiting message dead-lettered (src/queue/step.ts).
    const { result, dlq } = await consume(bodies, {
      stream,
      archive: failingPuts(),
      attempts: DELIVERY_MAX_ATTEMPTS,
      sentAt: FIXED_NOW - (QUEUE_RETENTION_DEFAULT_SECONDS + 60) * 1000,
    });
    expect(errors).toHaveBeenCalledWith('blocked archive write failed', 'R2 down');
    expect(result.explicitAcks).toEqual(['e0']);
    const [letter] = dlq.calls.flat();
    const decoded = decodeMessage(letter);
    expect(decoded?.header.ids).toEqual(['l-ok']);
    expect(decoded?.blocked?.ids).toEqual(['l1']);
    const batch = createMessageBatch<unknown>('ndc-segment-dlq', [
      { id: 'd0', timestamp: new Date(FIXED_NOW), attempts: 1, body: letter },
    ]);
    const report = await archiveBatch(batch, testEnv, { ...deps, newId: () => 'last' });
    expect(report.keys).toEqual([
      'dead-letters/2026/11/29/10/2026-11-29T100000000Z-last.ndjson',
      'blocked/last-src/2026/11/29/10/2026-11-29T100000000Z-last.ndjson',
    ]);
    expect(await archivedIds('last-src')).toEqual(['l1']);
  });
});

/** A whole letter of blocked events as ingest sent them to the DLQ before they rode along. */
function olderBlockedLetter(source: string, id: string): string {
  const event = JSON.stringify(order(id, {}));
  const header = encodeHeader({
    source,
    receivedAt: FIXED_NOW,
    events: 1,
    ids: [id],
    deadLetter: { reason: 'blocked: violation', attempts: 0, at: FIXED_NOW },
  });
  return `${header}${event}\n`;
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

async function archive(bodies: unknown[]) {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-dlq',
    bodies.map((body, i) => ({ id: `d${i}`, timestamp: new Date(FIXED_NOW), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  const report = await archiveBatch(batch, testEnv, deps);
  return { report, result: await getQueueResult(batch, ctx) };
}

describe('the DLQ consumer with letters of the older format', () => {
  it('archives them per source under blocked/<source>/, apart from dead letters', async () => {
    const { report, result } = await archive([
      deadLetter(),
      olderBlockedLetter('old-a', 'o1'),
      olderBlockedLetter('old-b', 'o2'),
    ]);
    expect(result.ackAll).toBe(true);
    expect(report.keys).toEqual([
      'dead-letters/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson',
      'blocked/old-a/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson',
      'blocked/old-b/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson',
    ]);
    expect((await lines(report.keys[1] ?? ''))[0]).toMatchObject({
      reason: 'blocked: violation',
      attempts: 0,
      source: 'old-a',
      event: { messageId: 'o1' },
    });
  });

  it('retries only the messages whose object could not be written', async () => {
    const failing = {
      put: (key: string) =>
        key.startsWith('blocked/')
          ? Promise.reject(new Error('R2 down'))
          : Promise.resolve({ key }),
    } as unknown as R2Bucket;
    const batch = createMessageBatch<unknown>('ndc-segment-dlq', [
      { id: 'd0', timestamp: new Date(FIXED_NOW), attempts: 1, body: deadLetter() },
      {
        id: 'd1',
        timestamp: new Date(FIXED_NOW),
        attempts: 1,
        body: olderBlockedLetter('f', 'f1'),
      },
    ]);
    const ctx = createExecutionContext();
    const errors = captureErrors();
    await archiveBatch(batch, { ...testEnv, ARCHIVE: failing }, deps);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(['d0']);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['d1']);
    expect(errors).toHaveBeenCalledWith('archive write failed', 'R2 down');
  });

  it('replays an object they were archived in, as any blocked object', async () => {
    const { report } = await archive([olderBlockedLetter('old-replay', 'or1')]);
    const h = harness();
    await h.fetch('/admin/tracking-plans/old-replay', { method: 'DELETE', headers: ADMIN });
    const res = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: 'blocked/old-replay/' }),
    });
    expect(await res.json()).toMatchObject({ events: 1, stillBlocked: 0, replayed: [report.key] });
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['or1']);
  });
});

describe('GET /admin/blocked', () => {
  it('lists blocked objects like /admin/dead-letters, and only them', async () => {
    const key = await archived('list-src', [order('l1', {}), order('l2', {})]);
    const h = harness();
    const res = await h.fetch('/admin/blocked?prefix=blocked/list-src/', { headers: ADMIN });
    expect(await res.json()).toEqual({
      success: true,
      objects: [{ key, size: expect.any(Number), uploaded: expect.any(String), events: 2 }],
      truncated: false,
    });
    const other = await h.fetch('/admin/blocked?prefix=dead-letters/', { headers: ADMIN });
    expect(other.status).toBe(400);
    expect((await h.fetch('/admin/blocked')).status).toBe(401);
  });
});

describe('POST /admin/replay of blocked events', () => {
  it('queues what the plan now accepts and keeps what it still refuses, annotated afresh', async () => {
    const key = await archived('replay-src', [
      order('r-bad', { total: 'x' }),
      order('r-unplanned', { total: 1 }, 'Order Refunded'),
    ]);
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
    expect(h.queue.messages()[0]?.header.token).toBe('e0');

    const kept = await lines(key);
    expect(kept.map((l) => [l['reason'], (l['event'] as Json)['messageId']])).toEqual([
      ['blocked: unplanned_event', 'r-unplanned'],
    ]);
    const listed = await testEnv.ARCHIVE.list({ prefix: 'replayed/blocked/replay-src/' });
    expect(listed.objects).toHaveLength(1);
    expect(await testEnv.ARCHIVE.head(`replay-claims/${key}`)).toBeNull();
  });

  it('delivers a replayed blocked event though its blocked copy is committed', async () => {
    const stream = uniqueStream('blocked-replay-dedupe');
    const d = dedupe();
    const bodies = await ingested('replay-dd', PLAN, [order('rd1', {})]);
    await consume(bodies, { stream, dedupe: d });
    const [key] = await blockedKeys('replay-dd');
    const h = harness();
    await h.fetch('/admin/tracking-plans/replay-dd', { method: 'DELETE', headers: ADMIN });
    await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    const replayed = h.queue.calls.flat();
    expect(replayed).toHaveLength(1);
    await consume(replayed, { stream, dedupe: d, prefix: 'replay' });
    expect((await landedEvents(stream)).map((e) => e['messageId'])).toEqual(['rd1']);
  });

  it('queues every event once the source has no plan, and removes the object', async () => {
    const key = await archived('replay-noplan', [order('n1', {})]);
    const h = harness();
    await h.fetch('/admin/tracking-plans/replay-noplan', { method: 'DELETE', headers: ADMIN });
    const res = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    expect(await res.json()).toMatchObject({ events: 1, stillBlocked: 0 });
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['n1']);
    expect(await testEnv.ARCHIVE.head(key)).toBeNull();
  });

  it('leaves the object untouched and unclaimed when the plans cannot be read', async () => {
    const key = await archived('replay-kvdown', [order('k1', {})]);
    const down = { get: () => Promise.reject(new Error('KV down')) } as unknown as KVNamespace;
    const h = harness();
    const errors = captureErrors();
    const res = await h.fetch(
      '/admin/replay',
      { method: 'POST', headers: ADMIN, body: JSON.stringify({ prefix: key }) },
      { TRACKING_PLANS: down },
    );
    expect(res.status).toBe(503);
    expect(errors).toHaveBeenCalledWith('tracking plan unavailable', 'KV down');
    expect(h.queue.calls).toEqual([]);
    expect(await testEnv.ARCHIVE.head(key)).not.toBeNull();
    expect(await testEnv.ARCHIVE.head(`replay-claims/${key}`)).toBeNull();
  });
});
