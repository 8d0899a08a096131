// Dead letters of forwarding inside workerd: the forward DLQ consumer archives them under
// forward-dead-letters/, the admin API replays them onto the forward queue, and the real queues
// carry a forwarded event from ingest through the events consumer, the forward queue, a
// refusal, the forward DLQ and the archive back to the destination.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Env } from '../../src/env';
import { encodeDeadLetter } from '../../src/archive/format';
import { FORWARD_ARCHIVE_PREFIX } from '../../src/archive/keys';
import { archiveBatch, type ArchiveDeps as ConsumerDeps } from '../../src/archive/writer';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { eventually } from '../support/firehose';
import { forwardedEvents, setKeyFaults } from '../support/segment';
import { basic, harness, recordingQueue } from '../support/worker';
import { archivedText } from '../support/archive';
import { captureErrors } from '../support/console';

const AT = Date.parse('2026-11-29T11:00:00.000Z');
const deps: ConsumerDeps = { now: () => AT, random: () => 0.5, newId: () => 'fwd1' };
const testEnv = env as unknown as Env;
const ADMIN = { Authorization: 'Bearer test-admin-token' };

function forwardLetter(source: string, ids: string[], reason: string): string {
  const [m] = packMessages(
    ids.map((id) => ({ line: JSON.stringify({ type: 'track', messageId: id }), messageId: id })),
    { source, receivedAt: AT - 60_000 },
  );
  const decoded = decodeMessage(m?.body);
  if (decoded === undefined) throw new Error('pack');
  return encodeDeadLetter(decoded, { reason, attempts: 1, at: AT - 1000 }, 'fq-1');
}

async function archiveForward(bodies: unknown[]): Promise<string | undefined> {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-forward-dlq',
    bodies.map((body, i) => ({ id: `d${i}`, timestamp: new Date(AT), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  const report = await archiveBatch(batch, testEnv, deps, undefined, FORWARD_ARCHIVE_PREFIX);
  expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
  return report.key;
}

describe('forward dead letters', () => {
  it('are archived under forward-dead-letters/, with the reason', async () => {
    const key = await archiveForward([forwardLetter('web', ['a'], 'http_400: bad')]);
    expect(key).toBe('forward-dead-letters/2026/11/29/11/2026-11-29T110000000Z-fwd1.ndjson');
    const text = (await archivedText(key ?? '')) ?? '';
    expect(JSON.parse(text.trim())).toMatchObject({
      reason: 'http_400: bad',
      source: 'web',
      event: { type: 'track', messageId: 'a' },
    });
  });

  it('are replayed onto the forward queue, not the events queue, and moved to forward-replayed/', async () => {
    const key = await archiveForward([
      forwardLetter('web', ['r1', 'r2'], 'http_400: bad'),
      forwardLetter('ios', ['r3'], 'http_401'),
    ]);
    const h = harness();
    const forward = recordingQueue();
    const listed = await h.fetch(
      `/admin/dead-letters?prefix=${encodeURIComponent(FORWARD_ARCHIVE_PREFIX)}`,
      { headers: ADMIN },
    );
    expect(await listed.json()).toMatchObject({
      objects: expect.arrayContaining([expect.objectContaining({ key, events: 3 })]),
    });
    const res = await h.fetch(
      '/admin/replay',
      { method: 'POST', headers: ADMIN, body: JSON.stringify({ prefix: key }) },
      { FORWARD: forward.queue },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ objects: 1, events: 3, replayed: [key] });
    expect(h.queue.calls).toEqual([]);
    expect(forward.messages().map((m) => [m.header.source, m.header.ids, m.header.token])).toEqual([
      ['web', ['r1', 'r2'], undefined],
      ['ios', ['r3'], undefined],
    ]);
    expect(await testEnv.ARCHIVE.head(key ?? '')).toBeNull();
    const moved = (key ?? '').replace(FORWARD_ARCHIVE_PREFIX, 'forward-replayed/');
    expect(await testEnv.ARCHIVE.head(moved)).not.toBeNull();
  });

  it('keep their archive object when the forward queue is not bound', async () => {
    const key = await archiveForward([forwardLetter('web', ['k1'], 'x')]);
    const errors = captureErrors();
    const res = await harness().fetch(
      '/admin/replay',
      { method: 'POST', headers: ADMIN, body: JSON.stringify({ prefix: key }) },
      { FORWARD: undefined },
    );
    expect(res.status).toBe(503);
    expect(await testEnv.ARCHIVE.head(key ?? '')).not.toBeNull();
    expect(errors).toHaveBeenCalledWith(
      'replay enqueue failed',
      'no queue is bound to replay onto',
    );
  });
});

describe('through the real queues', () => {
  it('forwards an ingested event of a forwarded source once, without our fields', async () => {
    // (Firehose's side is checked per message in forward-copies.worker.test.ts: the default
    // stream here is shared with tests that fail it on purpose.)
    const messageId = `fwd-flow-${crypto.randomUUID()}`;
    const posted = await exports.default.fetch('https://collector.test/v1/track', {
      method: 'POST',
      headers: { Authorization: basic('test-key-fwd') },
      body: JSON.stringify({ userId: 'u', event: 'forwarded', messageId }),
    });
    expect(posted.status).toBe(200);
    const forwarded = await eventually(async () => {
      const mine = (await forwardedEvents('dest-forwarded')).filter(
        (e) => e['messageId'] === messageId,
      );
      return mine.length > 0 ? mine : undefined;
    }, 20_000);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]).toMatchObject({ type: 'track', event: 'forwarded', userId: 'u' });
    expect(forwarded[0]).not.toHaveProperty('source');
    expect(forwarded[0]).not.toHaveProperty('receivedAt');
  }, 40_000);

  it('sends an event of 40 KB to forward-dead-letters/ with its reason, and its neighbour on', async () => {
    const small = `fwd-small-${crypto.randomUUID()}`;
    const large = `fwd-40k-${crypto.randomUUID()}`;
    const line = (messageId: string, pad: number) =>
      JSON.stringify({ type: 'track', event: 'E', messageId, pad: 'p'.repeat(pad) });
    const [copy] = packMessages(
      [
        { line: line(small, 0), messageId: small },
        { line: line(large, 40_000), messageId: large },
      ],
      { source: 'forwarded', receivedAt: Date.now() },
    );
    await (testEnv.FORWARD as Queue<string>).send(copy?.body ?? '', { contentType: 'text' });
    const forwarded = await eventually(async () => {
      const mine = (await forwardedEvents('dest-forwarded')).filter(
        (e) => e['messageId'] === small,
      );
      return mine.length > 0 ? mine : undefined;
    }, 30_000);
    expect(forwarded).toHaveLength(1);
    const archivedLine = await eventually(async () => {
      const listing = await testEnv.ARCHIVE.list({ prefix: FORWARD_ARCHIVE_PREFIX });
      for (const o of listing.objects) {
        const text = await archivedText(o.key);
        const found = text?.split('\n').find((l) => l.includes(large));
        if (found !== undefined) return JSON.parse(found) as Record<string, unknown>;
      }
      return undefined;
    }, 30_000);
    expect(archivedLine['reason']).toMatch(
      /^event_too_large: \d+ bytes, over the destination's 32000$/,
    );
    expect(archivedLine['event']).toMatchObject({ messageId: large });
    expect((await forwardedEvents('dest-forwarded')).some((e) => e['messageId'] === large)).toBe(
      false,
    );
  }, 90_000);

  it('forwards an event the destination refused once, via forward DLQ, archive and replay', async () => {
    const messageId = `fwd-dlq-${crypto.randomUUID()}`;
    // The forward consumer reports the refused call; asserted below rather than printed.
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    onTestFinished(() => warnings.mockRestore());
    await setKeyFaults('dest-forwarded', { badRequest: 1 });
    try {
      const posted = await exports.default.fetch('https://collector.test/v1/track', {
        method: 'POST',
        headers: { Authorization: basic('test-key-fwd') },
        body: JSON.stringify({ userId: 'u', event: 'refused', messageId }),
      });
      expect(posted.status).toBe(200);
      const archivedKey = await eventually(async () => {
        const listing = await testEnv.ARCHIVE.list({ prefix: FORWARD_ARCHIVE_PREFIX });
        for (const o of listing.objects) {
          const text = await archivedText(o.key);
          if (text?.includes(messageId)) return o.key;
        }
        return undefined;
      }, 30_000);
      await setKeyFaults('dest-forwarded', { badRequest: 0 });
      const replay = await exports.default.fetch('https://collector.test/admin/replay', {
        method: 'POST',
        headers: ADMIN,
        body: JSON.stringify({ prefix: archivedKey }),
      });
      expect(replay.status).toBe(200);
      const forwarded = await eventually(async () => {
        const mine = (await forwardedEvents('dest-forwarded')).filter(
          (e) => e['messageId'] === messageId,
        );
        return mine.length > 0 ? mine : undefined;
      }, 30_000);
      expect(forwarded).toHaveLength(1);
      expect(warnings).toHaveBeenCalledWith(
        expect.stringContaining('forward: 1 of 1 calls failed'),
      );
    } finally {
      await setKeyFaults('dest-forwarded', { badRequest: 0 });
    }
  }, 90_000);
});
