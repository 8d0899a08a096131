// The dead-letter queues' consumer never drops: R2 first, then the dedupe release; a message that
// keeps failing is sent to its queue again as a fresh copy before its attempts run out, so an R2
// or dedupe outage longer than the queue's 101 attempts loses nothing and everything is archived
// once it ends. Driven by a stand-in for Queues that deletes a message after its last attempt,
// as Queues does for a queue without a dead-letter queue, against the real R2 bucket; and the
// real queues archiving a letter of a source whose name is longer than an R2 key.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { encodeDeadLetter } from '../../src/archive/format';
import { ARCHIVE_QUEUE_MAX_RETRIES, R2_KEY_MAX_BYTES } from '../../src/archive/limits';
import { blockedSourcePrefix } from '../../src/archive/keys';
import { archiveBatch, type ArchiveDeps } from '../../src/archive/writer';
import type { DedupeSettings } from '../../src/dedupe/client';
import type { ShardRequest } from '../../src/dedupe/ledger';
import type { Env } from '../../src/env';
import { decodeMessage, encodeHeader } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { captureErrors } from '../support/console';
import { eventually } from '../support/firehose';
import { archivedText } from '../support/archive';

const AT = Date.parse('2026-12-01T08:00:00.000Z');
const testEnv = env as unknown as Env;

interface Pending {
  id: string;
  body: unknown;
  attempts: number;
}

/**
 * Queues as one consumer sees them: every message handed over each round until it is acked,
 * with its attempt count; a message retried on its last attempt (1 + max_retries) is deleted
 * and counted in `dropped`. `binding` is the queue's producer binding, for fresh copies.
 */
class QueueStandIn {
  pending: Pending[] = [];
  dropped: Pending[] = [];
  sent = 0;
  readonly binding: Queue<unknown>;

  constructor(readonly name: string) {
    this.binding = {
      send: async (body: unknown) => {
        this.add(body);
        return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
      },
    } as unknown as Queue<unknown>;
  }

  add(body: unknown): void {
    this.sent += 1;
    this.pending.push({ id: `${this.name}-${this.sent}`, body, attempts: 0 });
  }

  /** Hands every pending message to `consume` once. */
  async round(consume: (batch: MessageBatch<unknown>) => Promise<unknown>): Promise<void> {
    const handed = this.pending;
    this.pending = [];
    for (const m of handed) m.attempts += 1;
    const batch = createMessageBatch<unknown>(
      this.name,
      handed.map((m) => ({
        id: m.id,
        timestamp: new Date(AT),
        attempts: m.attempts,
        body: m.body,
      })),
    );
    const ctx = createExecutionContext();
    await consume(batch);
    const result = await getQueueResult(batch, ctx);
    if (result.ackAll) return;
    const acked = new Set(result.explicitAcks);
    for (const m of handed) {
      if (acked.has(m.id)) continue;
      if (m.attempts >= ARCHIVE_QUEUE_MAX_RETRIES + 1) this.dropped.push(m);
      else this.pending.push(m);
    }
  }
}

/** A bucket whose puts fail while `down` says so; everything else is the real bucket. */
function flakyBucket(down: () => boolean): R2Bucket & { puts: number } {
  const bucket = {
    puts: 0,
    put: (key: string, value: string, options?: R2PutOptions) => {
      bucket.puts += 1;
      if (down()) return Promise.reject(new Error('R2 is unavailable'));
      return testEnv.ARCHIVE.put(key, value, options);
    },
  };
  return bucket as unknown as R2Bucket & { puts: number };
}

function letter(source: string, ids: string[], reason?: string): string {
  const [m] = packMessages(
    ids.map((id) => ({ line: JSON.stringify({ type: 'track', messageId: id }), messageId: id })),
    { source, receivedAt: AT - 60_000 },
  );
  if (reason === undefined) return m?.body ?? '';
  const decoded = decodeMessage(m?.body);
  if (decoded === undefined) throw new Error('pack');
  return encodeDeadLetter(decoded, { reason, attempts: 21, at: AT - 1000 }, `q-${source}`);
}

describe('archiving through an R2 outage longer than the queue lets a message live', () => {
  it('loses nothing in 3 × 101 attempts of R2 refusing every put, and archives everything after', async () => {
    let id = 0;
    const deps: ArchiveDeps = { now: () => AT, random: () => 0.5, newId: () => `out-${++id}` };
    const queue = new QueueStandIn('ndc-segment-dlq');
    const source = `outage-${crypto.randomUUID().slice(0, 8)}`;
    queue.add(letter(source, ['o1', 'o2'], 'ResourceNotFoundException'));
    queue.add(letter(source, ['o3'], 'retries_exhausted: ServiceUnavailableException'));
    queue.add('a body that is not ours');
    let down = true;
    const bucket = flakyBucket(() => down);
    const errors = captureErrors();
    const consume = (batch: MessageBatch<unknown>) =>
      archiveBatch(batch, { ...testEnv, ARCHIVE: bucket, DLQ: queue.binding }, deps);
    const rounds = 3 * (ARCHIVE_QUEUE_MAX_RETRIES + 1);
    for (let r = 0; r < rounds; r++) await queue.round(consume);
    expect(queue.dropped).toEqual([]);
    expect(queue.pending).toHaveLength(3);
    // Fresh copies were sent before the attempts ran out: more sends than the three letters.
    expect(queue.sent).toBeGreaterThan(3);
    // Every round tried R2 again: no message ever gave up.
    expect(bucket.puts).toBe(rounds);
    expect(errors).toHaveBeenCalledWith('archive write failed', 'R2 is unavailable');

    down = false;
    await queue.round(consume);
    expect(queue.pending).toEqual([]);
    expect(queue.dropped).toEqual([]);
    const prefix = `dead-letters/2026/12/01/08/`;
    const listing = await testEnv.ARCHIVE.list({ prefix });
    const mine = await Promise.all(listing.objects.map(async (o) => archivedText(o.key)));
    const lines = mine
      .flatMap((t) => (t ?? '').split('\n'))
      .filter((l) => l.includes(source) || l.includes('a body that is not ours'))
      .map((l) => JSON.parse(l) as { event?: { messageId: string }; raw?: string });
    expect(lines.map((l) => l.event?.messageId ?? l.raw).sort()).toEqual([
      'a body that is not ours',
      'o1',
      'o2',
      'o3',
    ]);
  });

  it('keeps retrying a message whose fresh copy the queue refused, until one goes', async () => {
    const deps: ArchiveDeps = { now: () => AT, random: () => 0.5, newId: () => 'x' };
    const queue = new QueueStandIn('ndc-segment-dlq');
    queue.add(letter('web', ['q1'], 'X'));
    const refusing = {
      send: () => Promise.reject(new Error('Queue send failed')),
    } as unknown as Queue<unknown>;
    const bucket = flakyBucket(() => true);
    const errors = captureErrors();
    const consume = (batch: MessageBatch<unknown>) =>
      archiveBatch(batch, { ...testEnv, ARCHIVE: bucket, DLQ: refusing }, deps);
    for (let r = 0; r < ARCHIVE_QUEUE_MAX_RETRIES; r++) await queue.round(consume);
    // Attempt 100 of 101: still there, still retried, not acked.
    expect(queue.pending.map((m) => m.attempts)).toEqual([ARCHIVE_QUEUE_MAX_RETRIES]);
    expect(errors).toHaveBeenCalledWith('archive requeue failed', 'Queue send failed');
  });

  it('requeues forward dead letters onto the forward dead-letter queue', async () => {
    const deps: ArchiveDeps = { now: () => AT, random: () => 0.5, newId: () => 'fx' };
    const forwardDlq = new QueueStandIn('ndc-segment-forward-dlq');
    const dlq = new QueueStandIn('ndc-segment-dlq');
    forwardDlq.add(letter('web', ['fq1'], 'http_400'));
    forwardDlq.pending[0] = { ...(forwardDlq.pending[0] as Pending), attempts: 60 };
    captureErrors();
    await forwardDlq.round((batch) =>
      archiveBatch(
        batch,
        {
          ...testEnv,
          ARCHIVE: flakyBucket(() => true),
          DLQ: dlq.binding,
          FORWARD_DLQ: forwardDlq.binding,
        },
        deps,
        undefined,
        'forward-dead-letters/',
      ),
    );
    expect(forwardDlq.pending.map((m) => m.attempts)).toEqual([0]);
    expect(dlq.sent).toBe(0);
  });
});

/** Dedupe shards that refuse every call while `down` says so, recording the calls. */
function recordingShards(down: () => boolean): DedupeSettings & { calls: ShardRequest[] } {
  const calls: ShardRequest[] = [];
  return {
    shards: 2,
    calls,
    io: {
      call: async (_shard, request) => {
        if (down()) throw new Error('shard unreachable');
        calls.push(request);
        return { verdicts: new Uint8Array(), keys: 0, droppedEarly: 0 };
      },
    },
  };
}

describe('letters Queues moved itself (their keys to release)', () => {
  it('writes them to R2 before releasing their keys, and releases nothing it could not write', async () => {
    const deps: ArchiveDeps = { now: () => AT, random: () => 0.5, newId: () => 'mv' };
    const queue = new QueueStandIn('ndc-segment-dlq');
    queue.add(letter('web', ['mv1']));
    let down = true;
    const shards = recordingShards(() => false);
    captureErrors();
    const consume = (batch: MessageBatch<unknown>) =>
      archiveBatch(batch, { ...testEnv, ARCHIVE: flakyBucket(() => down) }, deps, shards);
    await queue.round(consume);
    expect(shards.calls).toEqual([]);
    down = false;
    await queue.round(consume);
    expect(queue.pending).toEqual([]);
    expect(shards.calls.flatMap((c) => c.release.map((r) => r.token))).toEqual(['*']);
  });

  it('rewrites the same object, never a second one, while the shards cannot release their keys', async () => {
    const deps: ArchiveDeps = {
      now: () => AT,
      random: () => 0.5,
      newId: () => crypto.randomUUID(),
    };
    const queue = new QueueStandIn('ndc-segment-dlq');
    const source = `moved-${crypto.randomUUID().slice(0, 8)}`;
    queue.add(letter(source, ['m1', 'm2']));
    let down = true;
    const shards = recordingShards(() => down);
    const errors = captureErrors();
    const consume = (batch: MessageBatch<unknown>) => archiveBatch(batch, testEnv, deps, shards);
    for (let r = 0; r < 5; r++) await queue.round(consume);
    expect(errors).toHaveBeenCalledWith('dedupe release failed', 'shard unreachable');
    expect(queue.pending).toHaveLength(1);
    down = false;
    await queue.round(consume);
    expect(queue.pending).toEqual([]);
    const listing = await testEnv.ARCHIVE.list({ prefix: 'dead-letters/2026/12/01/08/' });
    const texts = await Promise.all(listing.objects.map(async (o) => archivedText(o.key)));
    const mine = texts.filter((t) => t?.includes(`"source":"${source}"`));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.trim().split('\n')).toHaveLength(2);
  });
});

describe('a source name longer than an R2 key', () => {
  const long = `long-${'s'.repeat(5_000)}`;

  it('archives its blocked events under a bounded key, keeping the whole name in the lines', async () => {
    const deps: ArchiveDeps = { now: () => AT, random: () => 0.5, newId: () => 'long' };
    const body = `${encodeHeader({
      source: long,
      receivedAt: AT,
      events: 1,
      ids: ['lb1'],
      deadLetter: { reason: 'blocked: violation', attempts: 0, at: AT },
    })}${JSON.stringify({ type: 'track', messageId: 'lb1' })}\n`;
    const queue = new QueueStandIn('ndc-segment-dlq');
    queue.add(body);
    await queue.round((batch) => archiveBatch(batch, testEnv, deps));
    expect(queue.pending).toEqual([]);
    const listing = await testEnv.ARCHIVE.list({ prefix: blockedSourcePrefix(long) });
    const [object] = listing.objects;
    expect(new TextEncoder().encode(object?.key).length).toBeLessThan(R2_KEY_MAX_BYTES);
    const text = (await archivedText(object?.key ?? '')) ?? '';
    expect(JSON.parse(text.trim())).toMatchObject({ source: long, event: { messageId: 'lb1' } });
  });

  it('is archived by the real events consumer from a message the real queue carried', async () => {
    const source = `${long}-${crypto.randomUUID()}`;
    const body = `${encodeHeader({
      source,
      receivedAt: Date.now(),
      events: 1,
      ids: ['real-long-1'],
      blocked: { violation: [0] },
    })}${JSON.stringify({ type: 'track', messageId: 'real-long-1' })}\n`;
    await testEnv.EVENTS.send(body, { contentType: 'text' });
    const text = await eventually(async () => {
      const listing = await testEnv.ARCHIVE.list({ prefix: blockedSourcePrefix(source) });
      const [object] = listing.objects;
      return object === undefined ? undefined : archivedText(object.key);
    }, 20_000);
    expect(JSON.parse(text.trim())).toMatchObject({
      reason: 'blocked: violation',
      source,
      event: { messageId: 'real-long-1' },
    });
  }, 40_000);
});
