// Routes against a real env inside workerd: a route's queues carry its source's events and no
// other's, a route naming a binding this Worker lacks fails the first request with the name,
// and a routed source's Durable Objects live apart (its jurisdiction's namespace).
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { resolvePlacement } from '../../src/sources/placement';
import { deliverBatch, type ConsumerDeps } from '../../src/queue/consumer';
import { packMessages } from '../../src/queue/pack';
import { dedupeSettings, flushOutbox, Outbox } from '../../src/dedupe/client';
import { setStreamFaults, uniqueStream } from '../support/firehose';
import { VALID_CALLS } from '../fixtures/calls';
import { captureErrors } from '../support/console';
import { basic, harness, jsonPost, recordingQueue } from '../support/worker';
import { shardOfEvent } from '../../src/dedupe/keys';

const base = env as unknown as Env;
const WRITE_KEYS = 'key-eu=eu-web,key-us=us-web';
const ROUTES = JSON.stringify({
  'eu-web': {
    region: 'eu-west-1',
    streams: ['eu-events-1'],
    queues: ['EVENTS_EU'],
    jurisdiction: 'eu',
  },
});

describe('routes at ingest', () => {
  it("puts a routed source's events on its route's queues only, and no other source's", async () => {
    const eu = recordingQueue();
    const h = harness();
    const overrides = { WRITE_KEYS, FIREHOSE_ROUTES: ROUTES, EVENTS_EU: eu.queue } as Partial<Env>;
    for (let i = 0; i < 20; i++) {
      for (const key of ['key-eu', 'key-us']) {
        const res = await h.fetch(
          '/v1/track',
          jsonPost(VALID_CALLS.track, { Authorization: basic(key) }),
          overrides,
        );
        expect(res.status).toBe(200);
      }
    }
    expect(eu.events().map((e) => e['source'])).toEqual(Array(20).fill('eu-web'));
    expect(h.queue.events().map((e) => e['source'])).toEqual(Array(20).fill('us-web'));
  });

  it('fails the first request with the name of a binding a route names and the Worker lacks', async () => {
    const h = harness();
    const errors = captureErrors();
    const res = await h.fetch(
      '/v1/track',
      jsonPost(VALID_CALLS.track, { Authorization: basic('key-us') }),
      { WRITE_KEYS, FIREHOSE_ROUTES: ROUTES },
    );
    expect(errors).toHaveBeenCalledWith('FIREHOSE_ROUTES', expect.stringContaining('EVENTS_EU'));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      success: false,
      error: {
        code: 'misconfigured',
        message:
          'FIREHOSE_ROUTES["eu-web"].queues names EVENTS_EU, which is not a queue producer binding of this Worker',
      },
    });
    expect(h.queue.calls).toHaveLength(0);
  });
});

describe('resolvePlacement', () => {
  it('names a missing archive binding, and accepts the bound one', () => {
    const missing = resolvePlacement({
      ...base,
      FIREHOSE_ROUTES: { 'eu-web': { streams: ['s'], archive: 'ARCHIVE_EU' } },
    });
    expect(!missing.ok && missing.error).toBe(
      'FIREHOSE_ROUTES["eu-web"].archive names ARCHIVE_EU, which is not an R2 binding of this Worker',
    );
    const bound = resolvePlacement({
      ...base,
      ARCHIVE_EU: base.ARCHIVE,
      FIREHOSE_ROUTES: { 'eu-web': { streams: ['s'], archive: 'ARCHIVE_EU' } },
    } as Env);
    if (!bound.ok) throw new Error(bound.error);
    expect(bound.value.archiveFor('eu-web').name).toBe('ARCHIVE_EU');
    expect(bound.value.archiveFor('other').name).toBe('ARCHIVE');
  });

  it("gives a routed source its region and streams, the others AWS_REGION and FIREHOSE_STREAM's", () => {
    const resolved = resolvePlacement({
      ...base,
      AWS_REGION: 'us-east-2',
      FIREHOSE_STREAM: 'main-1, main-2',
      FIREHOSE_ROUTES: {
        'eu-web': { region: 'eu-west-1', streams: ['eu-1'] },
        big: { streams: ['b'] },
      },
    });
    if (!resolved.ok) throw new Error(resolved.error);
    expect(resolved.value.firehoseFor('eu-web')).toEqual({
      region: 'eu-west-1',
      streams: ['eu-1'],
    });
    expect(resolved.value.firehoseFor('big')).toEqual({ region: 'us-east-2', streams: ['b'] });
    expect(resolved.value.firehoseFor('web')).toEqual({
      region: 'us-east-2',
      streams: ['main-1', 'main-2'],
    });
  });

  it("keeps a routed source's Durable Objects apart from the unrestricted ones", async () => {
    const resolved = resolvePlacement({
      ...base,
      FIREHOSE_ROUTES: { 'eu-web': { streams: ['s'], jurisdiction: 'eu' } },
    });
    if (!resolved.ok) throw new Error(resolved.error);
    const eu = resolved.value.dedupeFor('eu');
    const plain = resolved.value.dedupeFor(undefined);
    if (eu === undefined || plain === undefined) throw new Error('no DEDUPE');
    // workerd outside Cloudflare has no jurisdictions: a namespace of the route's own stands in.
    expect(eu.idFromName('shard-0').equals(plain.idFromName('shard-0'))).toBe(false);
    expect(resolved.value.debuggerFor('eu-web')).not.toBe(resolved.value.debuggerFor('web'));
  });
});

describe("a routed source's archive", () => {
  /** An R2 binding of the test's own: what was put in it, by key. */
  function bucket(): { bucket: R2Bucket; objects: Map<string, string> } {
    const objects = new Map<string, string>();
    const b = {
      put: async (key: string, value: string) => {
        objects.set(key, value);
        return {} as R2Object;
      },
      get: async () => null,
      list: async () => ({ objects: [], truncated: false, delimitedPrefixes: [] }),
      delete: async () => undefined,
    };
    return { bucket: b as unknown as R2Bucket, objects };
  }

  const RECEIVED = Date.parse('2026-12-01T10:00:00.000Z');
  const deps: ConsumerDeps = { now: () => RECEIVED, random: () => 0.5, newId: () => 'batch' };

  function body(source: string, blocked: boolean): string {
    const line = JSON.stringify({ type: 'track', event: 'E', messageId: `${source}-1` });
    const [m] = packMessages(
      [{ line, messageId: `${source}-1`, ...(blocked ? { blocked: 'unplanned_event' } : {}) }],
      { source, receivedAt: RECEIVED },
    );
    if (m === undefined) throw new Error('pack');
    return m.body;
  }

  async function deliver(bodies: string[], overrides: Partial<Env>): Promise<void> {
    const batch = createMessageBatch<unknown>(
      'ndc-segment-events',
      bodies.map((b, i) => ({ id: `m${i}`, timestamp: new Date(RECEIVED), attempts: 1, body: b })),
    );
    await deliverBatch(batch, { ...base, ...overrides }, deps);
    await getQueueResult(batch, createExecutionContext());
  }

  it('takes its blocked events, and no other source its', async () => {
    const eu = bucket();
    const routes = { 'eu-web': { streams: [uniqueStream('eu')], archive: 'ARCHIVE_EU' } };
    await deliver([body('eu-web', true), body('us-web', true)], {
      FIREHOSE_ROUTES: routes,
      ARCHIVE_EU: eu.bucket,
    } as Partial<Env>);
    expect([...eu.objects.keys()].every((k) => k.startsWith('blocked/eu-web/'))).toBe(true);
    expect(eu.objects.size).toBe(1);
    expect([...eu.objects.values()].join('')).toContain('eu-web-1');
  });

  it('takes its dead letters directly, never through the DLQ', async () => {
    const eu = bucket();
    const dlq = recordingQueue();
    const stream = uniqueStream('eu-refused');
    // Firehose refuses the stream for good: the message is dead-lettered at once.
    await setStreamFaults(stream, { notFound: 1 });
    const routes = { 'eu-web': { streams: [stream], archive: 'ARCHIVE_EU' } };
    await deliver([body('eu-web', false)], {
      FIREHOSE_ROUTES: routes,
      ARCHIVE_EU: eu.bucket,
      DLQ: dlq.queue,
    } as Partial<Env>);
    expect(dlq.calls).toEqual([]);
    expect([...eu.objects.keys()].map((k) => k.split('/')[0])).toEqual(['dead-letters']);
    expect([...eu.objects.values()].join('')).toContain('eu-web-1');
  });
});

describe("a routed source's dedupe shards", () => {
  const RECEIVED = Date.parse('2026-12-01T11:00:00.000Z');
  const deps: ConsumerDeps = { now: () => RECEIVED, random: () => 0.5, newId: () => 'batch' };

  it('dedupe a mixed batch through both jurisdictions, each source in its own objects', async () => {
    const run = crypto.randomUUID();
    const routes = { 'eu-web': { streams: [uniqueStream('eu-d')], jurisdiction: 'eu' } };
    const testEnv = { ...base, FIREHOSE_ROUTES: routes, FIREHOSE_STREAM: uniqueStream('main-d') };
    const settings = dedupeSettings(testEnv);
    if (settings === undefined) throw new Error('dedupe off');
    // Both events in one shard, so one shard call holds both sources' keys and is split (a
    // merge that put the second source's verdict in the wrong place once let it through twice).
    const euId = `${run}-eu-web`;
    const shard = shardOfEvent('eu-web', euId, settings.shards);
    let n = 0;
    while (shardOfEvent('web', `${run}-web-${n}`, settings.shards) !== shard) n += 1;
    const idOf = (source: string): string => (source === 'eu-web' ? euId : `${run}-web-${n}`);
    const bodies = ['eu-web', 'web'].map((source) => {
      const line = JSON.stringify({ type: 'track', messageId: idOf(source) });
      const [m] = packMessages([{ line, messageId: idOf(source) }], {
        source,
        receivedAt: RECEIVED,
      });
      return m?.body ?? '';
    });
    const deliverOnce = async (attempt: string) => {
      const batch = createMessageBatch<unknown>(
        'ndc-segment-events',
        bodies.map((b, i) => ({
          id: `${attempt}-${i}`,
          timestamp: new Date(RECEIVED),
          attempts: 1,
          body: b,
        })),
      );
      const outbox = new Outbox();
      const report = await deliverBatch(batch, testEnv, deps, settings, outbox);
      await flushOutbox(settings.io, outbox);
      return report;
    };
    const first = await deliverOnce('a');
    expect(first.deduplicated).toEqual([]);
    expect(first.delivered.reduce((n, d) => n + d.events, 0)).toBe(2);
    // The same events again (a client's resend): both found, each in its own jurisdiction.
    const second = await deliverOnce('b');
    expect(second.deduplicated).toEqual([
      { source: 'eu-web', events: 1 },
      { source: 'web', events: 1 },
    ]);
    // The unrestricted objects alone do not know the EU source's key: a batch through them
    // (no route) delivers it again.
    const plain = dedupeSettings({ ...base, FIREHOSE_STREAM: uniqueStream('plain-d') });
    if (plain === undefined) throw new Error('dedupe off');
    const batch = createMessageBatch<unknown>('ndc-segment-events', [
      { id: 'c-0', timestamp: new Date(RECEIVED), attempts: 1, body: bodies[0] ?? '' },
    ]);
    const third = await deliverBatch(
      batch,
      { ...base, FIREHOSE_STREAM: uniqueStream('p') },
      deps,
      plain,
      new Outbox(),
    );
    expect(third.deduplicated).toEqual([]);
  });
});
