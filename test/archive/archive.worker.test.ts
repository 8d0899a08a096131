// Dead letters end to end inside workerd: the DLQ consumer writes them to R2 with reason and
// attempts, the admin API lists and replays them onto the events queue, and the real queues
// carry a failed event from ingest through the DLQ and the archive back to Firehose.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Env } from '../../src/env';
import { encodeDeadLetter } from '../../src/archive/format';
import { archiveBatch, type ArchiveDeps as ConsumerDeps } from '../../src/archive/writer';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { TEST_FIREHOSE } from '../support/firehose-credentials';
import { eventually, landedEvents, setStreamFaults } from '../support/firehose';
import { basic, harness, recordingQueue } from '../support/worker';
import { captureErrors } from '../support/console';
import { archivedText } from '../support/archive';

const AT = Date.parse('2026-11-29T10:00:00.000Z');
const deps: ConsumerDeps = { now: () => AT, random: () => 0.5, newId: () => 'batch1' };
const testEnv = env as unknown as Env;
const ADMIN = { Authorization: 'Bearer test-admin-token' };

function deadLetter(source: string, ids: string[], reason: string, token = `q-${source}`): string {
  const [m] = packMessages(
    ids.map((id) => ({ line: JSON.stringify({ type: 'track', messageId: id }), messageId: id })),
    { source, receivedAt: AT - 60_000 },
  );
  const decoded = decodeMessage(m?.body);
  if (decoded === undefined) throw new Error('pack');
  return encodeDeadLetter(decoded, { reason, attempts: 4, at: AT - 1000 }, token);
}

async function archive(bodies: unknown[]): Promise<{ key?: string; result: FetcherQueueResult }> {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-dlq',
    bodies.map((body, i) => ({ id: `d${i}`, timestamp: new Date(AT), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  const report = await archiveBatch(batch, testEnv, deps);
  return {
    ...(report.key === undefined ? {} : { key: report.key }),
    result: await getQueueResult(batch, ctx),
  };
}

describe('archiveBatch', () => {
  it('writes every dead-lettered event to R2 as NDJSON with reason and attempts, then acks', async () => {
    const { key, result } = await archive([
      deadLetter('web', ['a', 'b'], 'ResourceNotFoundException'),
      'raw junk',
    ]);
    expect(result.ackAll).toBe(true);
    expect(key).toBe('dead-letters/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson');
    const object = await testEnv.ARCHIVE.get(key ?? '');
    expect(object?.customMetadata).toEqual({ events: '3' });
    const lines = (await archivedText(key ?? ''))
      ?.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        reason: 'ResourceNotFoundException',
        attempts: 4,
        source: 'web',
        receivedAt: '2026-11-29T09:59:00.000Z',
        deadLetteredAt: '2026-11-29T09:59:59.000Z',
        archiveAttempts: 1,
        token: 'q-web',
        event: { type: 'track', messageId: 'a' },
      },
      expect.objectContaining({ event: { type: 'track', messageId: 'b' } }),
      { reason: 'undecodable', deadLetteredAt: '2026-11-29T10:00:00.000Z', raw: 'raw junk' },
    ]);
  });

  it('retries the batch when R2 refuses the write', async () => {
    const batch = createMessageBatch<unknown>('ndc-segment-dlq', [
      { id: 'd0', timestamp: new Date(AT), attempts: 2, body: deadLetter('web', ['a'], 'x') },
    ]);
    const ctx = createExecutionContext();
    const errors = captureErrors();
    const failing = {
      put: () => Promise.reject(new Error('R2 down')),
    } as unknown as R2Bucket;
    const report = await archiveBatch(batch, { ...testEnv, ARCHIVE: failing }, deps);
    const result = await getQueueResult(batch, ctx);
    expect(report.archivedEvents).toBe(0);
    expect(result.ackAll).toBe(false);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['d0']);
    expect(errors).toHaveBeenCalledWith('archive write failed', 'R2 down');
  });

  it('archives a batch holding a poison message that cannot be serialised, keeping the rest', async () => {
    // A body a queue can carry (structured clone) but JSON.stringify throws on, as it throws
    // on nesting deeper than the runtime's stack.
    const poison = { count: 10n };
    const { key, result } = await archive([poison, deadLetter('web', ['ok1'], 'X')]);
    expect(result.ackAll).toBe(true);
    const text = (await archivedText(key ?? '')) ?? '';
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['reason'])).toEqual(['undecodable', 'X']);
  });
});

describe('admin API', () => {
  it('refuses without the admin token, and when ADMIN_TOKEN is unset', async () => {
    const h = harness();
    expect((await h.fetch('/admin/dead-letters')).status).toBe(401);
    expect(
      (
        await h.fetch('/admin/replay', {
          method: 'POST',
          headers: { Authorization: 'Bearer nope' },
        })
      ).status,
    ).toBe(401);
    const disabled = await h.fetch(
      '/admin/dead-letters',
      { headers: ADMIN },
      { ADMIN_TOKEN: undefined },
    );
    expect(disabled.status).toBe(401);
    expect(await disabled.text()).toContain('ADMIN_TOKEN');
  });

  it('lists archived objects and replays them onto the events queue, moving them to replayed/', async () => {
    const { key } = await archive([
      deadLetter('web', ['r1', 'r2'], 'ResourceNotFoundException'),
      deadLetter('ios', ['r3'], 'X'),
    ]);
    const h = harness();
    const listed = await h.fetch('/admin/dead-letters', { headers: ADMIN });
    const listing = await listed.json<{ objects: Array<{ key: string; events: number }> }>();
    expect(listing.objects).toContainEqual(expect.objectContaining({ key, events: 3 }));

    const res = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      success: true,
      objects: 1,
      events: 3,
      skipped: 0,
      replayed: [key],
      busy: [],
      truncated: false,
    });
    const messages = h.queue.messages();
    expect(
      messages.map((m) => [m.header.source, m.header.receivedAt, m.header.events, m.header.token]),
    ).toEqual([
      ['web', AT - 60_000, 2, 'q-web'],
      ['ios', AT - 60_000, 1, 'q-ios'],
    ]);
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['r1', 'r2', 'r3']);
    expect(await testEnv.ARCHIVE.head(key ?? '')).toBeNull();
    const moved = (key ?? '').replace('dead-letters/', 'replayed/');
    expect(await testEnv.ARCHIVE.head(moved)).not.toBeNull();
    const replayedListing = await h.fetch(
      `/admin/dead-letters?prefix=${encodeURIComponent(moved)}`,
      {
        headers: ADMIN,
      },
    );
    expect(await replayedListing.json()).toMatchObject({
      success: true,
      objects: [{ key: moved, events: 3, replayedAt: expect.any(String) }],
    });
  });

  it("replays a routed source's events onto its route's queue, the others' onto EVENTS", async () => {
    const { key } = await archive([
      deadLetter('web', ['rr1'], 'X', 'q-web-routed'),
      deadLetter('eu-web', ['rr2', 'rr3'], 'X', 'q-eu-routed'),
    ]);
    const h = harness();
    const eu = recordingQueue();
    const res = await h.fetch(
      '/admin/replay',
      { method: 'POST', headers: ADMIN, body: JSON.stringify({ prefix: key }) },
      {
        FIREHOSE_ROUTES: { 'eu-web': { streams: ['eu-1'], queues: ['EVENTS_EU'] } },
        EVENTS_EU: eu.queue,
      } as Partial<Env>,
    );
    expect(res.status).toBe(200);
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['rr1']);
    expect(eu.events().map((e) => e['messageId'])).toEqual(['rr2', 'rr3']);
  });

  it('replays a letter in the version 1 format, and a version 2 message Queues moved, as sent', async () => {
    // Verbatim as the collector wrote dead letters before version 2 (src/queue/message.ts).
    const lineA =
      '{"type":"track","context":{"ip":"203.0.113.42","userAgent":"ua é"},"event":"Ö",' +
      '"messageId":"v1-a","source":"web","receivedAt":"2026-11-29T09:59:00.000Z"}';
    const v1 =
      '{"v":1,"source":"web","receivedAt":' +
      String(AT - 60_000) +
      ',"events":1,"ids":["v1-a"],"token":"q-v1","deadLetter":{"reason":"X","attempts":4,"at":' +
      String(AT - 1000) +
      '}}\n' +
      `${lineA}\n`;
    // A version 2 message as ingest packs one (facts in its header), moved by Queues itself
    // after its retries.
    const lines = ['v2-a', 'v2-b'].map(
      (id) =>
        `{"type":"track","context":{"ip":"203.0.113.42","userAgent":"ua é"},"messageId":"${id}",` +
        '"source":"web","receivedAt":"2026-11-29T09:59:00.000Z"}',
    );
    const [v2] = packMessages(
      lines.map((line, i) => ({ line, messageId: `v2-${'ab'.charAt(i)}` })),
      {
        source: 'web',
        receivedAt: AT - 60_000,
        facts: ['"ip":"203.0.113.42"', '"userAgent":"ua é"', '"source":"web"'],
      },
    );
    expect(v2?.body.startsWith('{"v":2,')).toBe(true);
    const { key } = await archive([v1, v2?.body]);
    const h = harness();
    const res = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true, events: 3, skipped: 0 });
    // The events queue gets the lines back byte for byte.
    expect(
      h.queue
        .messages()
        .map((m) => m.ndjson)
        .join(''),
    ).toBe([lineA, ...lines].map((l) => `${l}\n`).join(''));
  });

  it('queues each event once when two replays of the same object run at once', async () => {
    const { key } = await archive([
      deadLetter('web', ['c1', 'c2'], 'X'),
      deadLetter('ios', ['c3'], 'Y'),
    ]);
    const h = harness();
    const replay = (): Promise<Response> =>
      h.fetch('/admin/replay', {
        method: 'POST',
        headers: ADMIN,
        body: JSON.stringify({ prefix: key }),
      });
    const answers = await Promise.all([replay(), replay()]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(
      h.queue
        .events()
        .map((e) => e['messageId'])
        .sort(),
    ).toEqual(['c1', 'c2', 'c3']);
    const bodies = await Promise.all(answers.map((a) => a.json<{ events: number }>()));
    expect(bodies.reduce((n, b) => n + b.events, 0)).toBe(3);
  });

  it('resumes a replay the queue interrupted where it stopped, queueing nothing twice', async () => {
    const { key } = await archive([deadLetter('web', ['i1'], 'X'), deadLetter('ios', ['i2'], 'Y')]);
    // The first group goes, the second is refused: 503, the object stays with its progress.
    const flaky = harness({ failQueueCall: (n) => n === 1 });
    const errors = captureErrors();
    const first = await flaky.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    expect(first.status).toBe(503);
    expect(errors).toHaveBeenCalledWith(
      'replay enqueue failed',
      'Queue send failed: simulated outage',
    );
    expect(flaky.queue.events().map((e) => e['messageId'])).toEqual(['i1']);
    expect(await testEnv.ARCHIVE.head(key ?? '')).not.toBeNull();
    const h = harness();
    const again = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    expect(again.status).toBe(200);
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['i2']);
    expect(await testEnv.ARCHIVE.head(key ?? '')).toBeNull();
  });

  it('keeps the archive object when the queue refuses the replay', async () => {
    const { key } = await archive([deadLetter('web', ['k1'], 'X')]);
    const errors = captureErrors();
    const h = harness({ failQueue: true });
    const res = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    expect(res.status).toBe(503);
    expect(await testEnv.ARCHIVE.head(key ?? '')).not.toBeNull();
    expect(errors).toHaveBeenCalledWith('replay enqueue failed', expect.stringContaining('outage'));
  });

  it('refuses a prefix outside dead-letters/ and a bad limit', async () => {
    const h = harness();
    const post = (body: unknown): Promise<Response> =>
      h.fetch('/admin/replay', { method: 'POST', headers: ADMIN, body: JSON.stringify(body) });
    expect((await post({ prefix: 'replayed/' })).status).toBe(400);
    expect((await post({ prefix: 'replay-claims/' })).status).toBe(400);
    expect((await post({ limit: 0 })).status).toBe(400);
    expect((await post({ limit: 'x' })).status).toBe(400);
  });
});

describe('through the real queues', () => {
  it('delivers an event that Firehose refused once via DLQ, archive and replay', async () => {
    // The default stream refuses calls for a moment: the consumer dead-letters the event.
    const stream = TEST_FIREHOSE.stream;
    const messageId = `flow-${crypto.randomUUID()}`;
    await setStreamFaults(stream, { notFound: 1 });
    // The consumer reports the refused call; asserted below rather than printed.
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    onTestFinished(() => warnings.mockRestore());
    const posted = await exports.default.fetch('https://collector.test/v1/track', {
      method: 'POST',
      headers: { Authorization: basic('test-key-1') },
      body: JSON.stringify({ userId: 'u', event: 'flow', messageId }),
    });
    expect(posted.status).toBe(200);

    const archivedKey = await eventually(async () => {
      const listing = await testEnv.ARCHIVE.list({ prefix: 'dead-letters/' });
      for (const o of listing.objects) {
        const text = await archivedText(o.key);
        if (text?.includes(messageId)) return o.key;
      }
      return undefined;
    }, 20_000);
    await setStreamFaults(stream, { notFound: 0 });

    const replay = await exports.default.fetch('https://collector.test/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: archivedKey }),
    });
    expect(replay.status).toBe(200);
    const landed = await eventually(async () => {
      const events = await landedEvents(stream);
      const mine = events.filter((e) => e['messageId'] === messageId);
      return mine.length > 0 ? mine : undefined;
    }, 20_000);
    expect(landed).toHaveLength(1);
    expect(warnings).toHaveBeenCalledWith(
      expect.stringContaining('Firehose calls failed (ResourceNotFoundException'),
    );
    expect(landed[0]).toMatchObject({ event: 'flow', source: 'web', type: 'track' });
  }, 60_000);
});
