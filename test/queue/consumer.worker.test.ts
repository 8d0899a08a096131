// The delivery consumer inside workerd against the real local Firehose endpoint (which checks
// every SigV4 signature independently): ack on success, retry only what failed, dead-letter
// only what Firehose refuses for good, and hold back (requeued, never dead-lettered) what an
// operator must fix.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env';
import { Outbox, flushOutbox, type DedupeSettings } from '../../src/dedupe/client';
import { deliverBatch, type ConsumerDeps } from '../../src/queue/consumer';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { DELIVERY_MAX_ATTEMPTS } from '../../src/queue/retry';
import { TEST_FIREHOSE } from '../support/firehose-credentials';
import {
  landedEvents,
  landedText,
  setStreamFaults,
  streamStats,
  uniqueStream,
} from '../support/firehose';
import { basic, harness, jsonPost, recordingQueue } from '../support/worker';
import { VALID_CALLS } from '../fixtures/calls';
import { captureErrors } from '../support/console';

const RECEIVED = Date.parse('2026-11-29T10:00:00.000Z');
const deps: ConsumerDeps = { now: () => RECEIVED + 1000, random: () => 0.5, newId: () => 'id' };

function message(source: string, ids: string[], pad = 0): string {
  const events = ids.map((id) => ({
    line: JSON.stringify({ type: 'track', messageId: id, pad: 'p'.repeat(pad) }),
    messageId: id,
  }));
  const [m] = packMessages(events, { source, receivedAt: RECEIVED }, Number.MAX_SAFE_INTEGER);
  if (m === undefined) throw new Error('pack');
  return m.body;
}

/** Dedupe shards of this test's own (a fresh set of Durable Objects), and an outbox. */
function dedupe(shards = 4): { settings: DedupeSettings; outbox: Outbox } {
  const namespace = (env as unknown as Env).DEDUPE;
  if (namespace === undefined) throw new Error('no DEDUPE binding');
  const run = crypto.randomUUID();
  return {
    settings: {
      shards,
      io: {
        call: (shard, request) =>
          namespace.get(namespace.idFromName(`${run}-${shard}`)).apply(request),
      },
    },
    outbox: new Outbox(),
  };
}

interface Run {
  result: Awaited<ReturnType<typeof getQueueResult>>;
  /** delaySeconds passed to each retried message, by message id (getQueueResult omits it). */
  delays: Map<string, number | undefined>;
  report: Awaited<ReturnType<typeof deliverBatch>>;
  dlq: ReturnType<typeof recordingQueue>;
  /** Fresh copies requeued to the events queue. */
  requeued: ReturnType<typeof recordingQueue>;
}

async function run(
  bodies: string[],
  overrides: Partial<Env>,
  attempts = 1,
  options: {
    dedupe?: ReturnType<typeof dedupe>;
    ids?: string[];
    dlq?: ReturnType<typeof recordingQueue>;
  } = {},
): Promise<Run> {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-events',
    bodies.map((body, i) => ({
      id: options.ids?.[i] ?? `m${i}`,
      timestamp: new Date(RECEIVED),
      attempts,
      body,
    })),
  );
  const ctx = createExecutionContext();
  const delays = new Map<string, number | undefined>();
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    vi.spyOn(m, 'retry').mockImplementation((options) => {
      delays.set(m.id, options?.delaySeconds);
      retry(options);
    });
  }
  const dlq = options.dlq ?? recordingQueue();
  const requeued = recordingQueue();
  const testEnv = {
    ...(env as unknown as Env),
    DLQ: dlq.queue as Queue<unknown>,
    EVENTS: requeued.queue,
    ...overrides,
  };
  const report = await deliverBatch(
    batch,
    testEnv,
    deps,
    options.dedupe?.settings,
    options.dedupe?.outbox,
  );
  return { result: await getQueueResult(batch, ctx), delays, report, dlq, requeued };
}

const ids = (events: Array<Record<string, unknown>>): string[] =>
  events.map((e) => String(e['messageId'])).sort();

describe('deliverBatch', () => {
  it('delivers every event once, as NDJSON, and acks every message', async () => {
    const stream = uniqueStream('ok');
    const { result, report } = await run([message('web', ['a', 'b']), message('ios', ['c'])], {
      FIREHOSE_STREAM: stream,
    });
    expect(ids(await landedEvents(stream))).toEqual(['a', 'b', 'c']);
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1']);
    expect(result.retryMessages).toEqual([]);
    expect(report.calls).toEqual([{ stream, outcome: 'ok', records: 1 }]);
    expect(report.delivered).toEqual([
      {
        stream,
        events: 3,
        records: 1,
        bytes: expect.any(Number),
        received: [
          { at: RECEIVED, events: 2, source: 'web' },
          { at: RECEIVED, events: 1, source: 'ios' },
        ],
      },
    ]);
    expect(report.failed).toEqual([]);
    expect((await streamStats(stream))?.calls).toBe(1);
  });

  it('delivers a batch ingest queued in version 2 as the lines ingest made, byte for byte', async () => {
    const h = harness();
    const context = { library: { name: 'analytics.js', version: 'npm:next-1.84.3' } };
    const batch = Object.values(VALID_CALLS).map((call) => ({ ...call, context }));
    const res = await h.fetch(
      '/v1/batch',
      jsonPost(
        { batch, sentAt: new Date().toISOString() },
        {
          Authorization: basic('test-key-1'),
          'User-Agent': 'Mozilla/5.0 Chrome/131',
          'CF-Connecting-IP': '203.0.113.9',
        },
      ),
    );
    expect(res.status).toBe(200);
    const bodies = h.queue.calls.flat();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.startsWith('{"v":2,')).toBe(true);
    // The lines as version 1 would have carried them: the decoded message, whose restoring is
    // tested against version 1 in test/queue/compact.unit.test.ts.
    const expected = h.queue.messages()[0]?.ndjson ?? '';
    for (const text of ['"userAgent":"Mozilla/5.0 Chrome/131"', '"ip":"203.0.113.9"'])
      expect(expected.split(text)).toHaveLength(batch.length + 1);
    const stream = uniqueStream('v2');
    await run(bodies, { FIREHOSE_STREAM: stream });
    expect(await landedText(stream)).toBe(expected);
  });

  it('deals batches over the streams of a comma-separated FIREHOSE_STREAM', async () => {
    const a = uniqueStream('shard-a');
    const b = uniqueStream('shard-b');
    const sources = Array.from({ length: 12 }, (_v, i) => `source-${i}`);
    // Two batches of one record each: one to each stream (src/firehose/spread.ts).
    for (const half of [sources.slice(0, 6), sources.slice(6)])
      await run(
        half.map((s) => message(s, [s])),
        { FIREHOSE_STREAM: `${a},${b}` },
      );
    const onA = ids(await landedEvents(a));
    const onB = ids(await landedEvents(b));
    expect([...onA, ...onB].sort()).toEqual([...sources].sort());
    expect(onA.length).toBeGreaterThan(0);
    expect(onB.length).toBeGreaterThan(0);
  });

  it('retries only the messages of records Firehose failed, with backoff', async () => {
    const stream = uniqueStream('partial');
    await setStreamFaults(stream, { failRecords: 0.5, seed: 7 });
    // 40 messages of ~60 KB: 16 per 1,000 KiB record, so three records in one call.
    const bodies = Array.from({ length: 40 }, (_v, i) => message('web', [`e${i}`], 60_000));
    const { result, delays } = await run(bodies, { FIREHOSE_STREAM: stream });
    const landed = new Set(ids(await landedEvents(stream)));
    const stats = await streamStats(stream);
    expect(stats?.recordsFailed).toBeGreaterThan(0);
    expect(stats?.recordsAccepted).toBeGreaterThan(0);
    const acked = result.explicitAcks.map((id) => Number(id.slice(1))).sort((x, y) => x - y);
    const retried = result.retryMessages.map((r) => Number(r.msgId.slice(1))).sort((x, y) => x - y);
    // Acked exactly the messages whose event landed; retried exactly the others.
    expect(acked.map((i) => `e${i}`).sort()).toEqual([...landed].sort());
    expect(acked.length + retried.length).toBe(40);
    expect(retried.every((i) => !landed.has(`e${i}`))).toBe(true);
    // attempts 1 with random 0.5: between half and all of the 2 s base delay, rounded up.
    expect(result.retryMessages.map((r) => delays.get(r.msgId))).toEqual(retried.map(() => 2));
  });

  it.each([
    ['a throttled call', { throttle: 1 }],
    ['a 500', { error500: 1 }],
  ])('retries every message of %s and writes nothing', async (_n, faults) => {
    const stream = uniqueStream('whole');
    await setStreamFaults(stream, faults);
    const { result, report } = await run([message('web', ['a']), message('web', ['b'])], {
      FIREHOSE_STREAM: stream,
    });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual(['m0', 'm1']);
    expect(report.retriedEvents).toBe(2);
    expect(report.failed).toEqual([{ stream, events: 2 }]);
    expect(await landedEvents(stream)).toEqual([]);
  });

  it('abandons a stalled call after FIREHOSE_TIMEOUT_SECONDS and retries it', async () => {
    const stream = uniqueStream('stall');
    await setStreamFaults(stream, { stall: 1, stallMs: 5_000 });
    const { result, report } = await run([message('web', ['a'])], {
      FIREHOSE_STREAM: stream,
      FIREHOSE_TIMEOUT_SECONDS: '1',
    });
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['m0']);
    expect(report.calls[0]?.code).toBe('Timeout');
    // The call may have landed: counted as ambiguous.
    expect(report.ambiguousEvents).toBe(1);
  });

  it('retries on a network error (nothing listening)', async () => {
    const { result, report } = await run([message('web', ['a'])], {
      FIREHOSE_ENDPOINT: 'http://127.0.0.1:9/',
    });
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['m0']);
    expect(report.calls[0]?.code).toBe('NetworkError');
  });

  it('dead-letters, with the reason, what retrying cannot fix (unknown stream)', async () => {
    const stream = uniqueStream('missing');
    await setStreamFaults(stream, { notFound: 1 });
    const { result, dlq, report } = await run(
      [message('web', ['a', 'b'])],
      { FIREHOSE_STREAM: stream },
      3,
    );
    expect(result.explicitAcks).toEqual(['m0']);
    expect(result.retryMessages).toEqual([]);
    expect(report.deadLetteredEvents).toBe(2);
    expect(report.deadLetteredBySource).toEqual([{ source: 'web', events: 2 }]);
    const [dead] = dlq.calls.flat().map((b) => decodeMessage(b));
    expect(dead?.header.deadLetter).toEqual({
      reason: 'ResourceNotFoundException',
      attempts: 3,
      at: RECEIVED + 1000,
    });
    expect(
      dead?.ndjson
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { messageId: string }).messageId),
    ).toEqual(['a', 'b']);
  });

  it('holds back, never dead-letters, a call refused for a bad signature (wrong secret)', async () => {
    const { dlq, result, report, requeued } = await run([message('web', ['a'])], {
      AWS_SECRET_ACCESS_KEY: 'wrong',
    });
    expect(dlq.calls).toEqual([]);
    // Requeued at once as a fresh copy that waits on the credentials, and counted so.
    expect(result.explicitAcks).toEqual(['m0']);
    expect(requeued.messages().map((m) => m.header.wait)).toEqual(['credentials']);
    expect(report.authFailure).toBe(true);
    expect(report.waiting).toEqual([
      { reason: 'credentials', kind: 'entered', queuedAt: RECEIVED, events: 1 },
    ]);
  });

  it('retries a waiting copy of an expired session token with backoff, and requeues it again before its attempts run out', async () => {
    const stream = uniqueStream('expired');
    await setStreamFaults(stream, { expiredToken: 1 });
    const first = await run([message('web', ['a'])], { FIREHOSE_STREAM: stream }, 2);
    const [copy] = first.requeued.calls.flat();
    expect(first.dlq.calls).toEqual([]);
    expect(decodeMessage(copy)?.header).toMatchObject({
      wait: 'credentials',
      token: 'm0',
      queuedAt: RECEIVED,
      priorAttempts: 2,
    });
    expect(first.report.authFailure).toBe(true);
    // The copy's own attempts: retried with backoff that goes on from the attempts made...
    const retried = await run([copy as string], { FIREHOSE_STREAM: stream }, 1, { ids: ['c0'] });
    expect(retried.result.retryMessages.map((r) => r.msgId)).toEqual(['c0']);
    expect(retried.delays.get('c0')).toBeGreaterThanOrEqual(4);
    expect(retried.report.waiting?.map((w) => w.kind)).toEqual(['seen']);
    // ...and requeued once more on its last attempts, never dead-lettered.
    const last = await run([copy as string], { FIREHOSE_STREAM: stream }, DELIVERY_MAX_ATTEMPTS, {
      ids: ['c0'],
    });
    expect(last.dlq.calls).toEqual([]);
    expect(last.result.explicitAcks).toEqual(['c0']);
    expect(decodeMessage(last.requeued.calls.flat()[0])?.header).toMatchObject({
      wait: 'credentials',
      token: 'm0',
      priorAttempts: 2 + DELIVERY_MAX_ATTEMPTS,
    });
  });

  it('splits and resends a call Firehose refuses for its size, dead-lettering nothing', async () => {
    const stream = uniqueStream('size');
    // The endpoint reads "4 MB" as 300,000 bytes: every call of ~1.2 MB is refused whole.
    await setStreamFaults(stream, { maxCallBytes: 300_000 });
    const bodies = Array.from({ length: 20 }, (_v, i) => message('web', [`s${i}`], 60_000));
    const { result, dlq, report } = await run(bodies, { FIREHOSE_STREAM: stream });
    expect(dlq.calls).toEqual([]);
    expect(result.explicitAcks).toHaveLength(20);
    expect(ids(await landedEvents(stream))).toEqual(bodies.map((_b, i) => `s${i}`).sort());
    expect(report.calls.some((c) => c.outcome === 'too_large')).toBe(false);
  });

  it('requeues, never dead-letters, what Firehose still throttles on the last attempt', async () => {
    const stream = uniqueStream('exhausted');
    await setStreamFaults(stream, { throttle: 1 });
    const { result, dlq, requeued, report } = await run(
      [message('web', ['a'])],
      { FIREHOSE_STREAM: stream },
      DELIVERY_MAX_ATTEMPTS,
    );
    expect(dlq.calls).toEqual([]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(requeued.messages().map((m) => m.header.wait)).toEqual(['firehose']);
    expect(report.requeued).toEqual([{ reason: 'firehose', events: 1 }]);
  });

  it('dead-letters, with the reason, what could not be delivered within the queue retention', async () => {
    const stream = uniqueStream('retention');
    await setStreamFaults(stream, { expiredToken: 1 });
    const old = RECEIVED - 61_000;
    const body = message('web', ['a']).replace(
      '{"v":1,',
      `{"v":1,"queuedAt":${old},"wait":"credentials",`,
    );
    const { dlq, result, report } = await run([body], {
      FIREHOSE_STREAM: stream,
      QUEUE_RETENTION_SECONDS: '60',
    });
    expect(result.explicitAcks).toEqual(['m0']);
    expect(decodeMessage(dlq.calls.flat()[0])?.header.deadLetter?.reason).toBe(
      'waited_past_retention: ExpiredTokenException',
    );
    expect(report.waiting?.map((w) => [w.reason, w.kind])).toEqual([['credentials', 'left']]);
  });

  it('retries when the requeue is refused, and dead-letters only when Queues would give up', async () => {
    const stream = uniqueStream('requeue-down');
    await setStreamFaults(stream, { expiredToken: 1 });
    const errors = captureErrors();
    const broken = recordingQueue({ fail: true });
    const early = await run([message('web', ['a'])], {
      FIREHOSE_STREAM: stream,
      EVENTS: broken.queue,
    });
    expect(early.result.retryMessages.map((r) => r.msgId)).toEqual(['m0']);
    expect(early.dlq.calls).toEqual([]);
    const last = await run(
      [message('web', ['a'])],
      { FIREHOSE_STREAM: stream, EVENTS: broken.queue },
      DELIVERY_MAX_ATTEMPTS,
    );
    expect(decodeMessage(last.dlq.calls.flat()[0])?.header.deadLetter?.reason).toBe(
      'requeue_failed: ExpiredTokenException',
    );
    expect(errors).toHaveBeenCalledWith(
      'requeue send failed',
      'Queue sendBatch failed: simulated outage',
    );
  });

  it('retries instead of acking when the dead-letter send fails', async () => {
    const stream = uniqueStream('dlq-down');
    await setStreamFaults(stream, { notFound: 1 });
    const batch = createMessageBatch<unknown>('ndc-segment-events', [
      { id: 'm0', timestamp: new Date(RECEIVED), attempts: 1, body: message('web', ['a']) },
    ]);
    const ctx = createExecutionContext();
    const errors = captureErrors();
    const broken = recordingQueue({ fail: true });
    await deliverBatch(
      batch,
      { ...(env as unknown as Env), FIREHOSE_STREAM: stream, DLQ: broken.queue },
      deps,
    );
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['m0']);
    expect(errors).toHaveBeenCalledWith(
      'dead-letter send failed',
      'Queue sendBatch failed: simulated outage',
    );
  });

  it('dead-letters a message that is not ours, as it came', async () => {
    const { result, dlq } = await run(['not a queue message'], {});
    expect(result.explicitAcks).toEqual(['m0']);
    expect(dlq.calls.flat()).toEqual(['not a queue message']);
  });

  it('holds back, never dead-letters, while AWS credentials or the stream are missing', async () => {
    const noKey = await run([message('web', ['a'])], { AWS_ACCESS_KEY_ID: undefined });
    expect(noKey.dlq.calls).toEqual([]);
    expect(noKey.requeued.messages().map((m) => m.header.wait)).toEqual(['credentials']);
    expect(noKey.report.authFailure).toBe(true);
    const noStream = await run([message('web', ['a'])], { FIREHOSE_STREAM: '' });
    expect(noStream.dlq.calls).toEqual([]);
    expect(noStream.requeued.messages().map((m) => m.header.wait)).toEqual(['configuration']);
  });

  it('sends dead letters in sendBatch calls and retries only those whose own call failed', async () => {
    const stream = uniqueStream('dlq-partial');
    await setStreamFaults(stream, { notFound: 1 });
    // Five ~60 KB messages: two sendBatch calls of at most 256,000 bytes; the second fails.
    const bodies = Array.from({ length: 5 }, (_v, i) => message('web', [`d${i}`], 60_000));
    const dlq = recordingQueue({ failCall: (n) => n === 1 });
    const errors = captureErrors();
    const { result, report } = await run(bodies, { FIREHOSE_STREAM: stream }, 1, { dlq });
    expect(errors).toHaveBeenCalledWith(
      'dead-letter send failed',
      'Queue sendBatch failed: simulated outage',
    );
    expect(dlq.calls).toHaveLength(1);
    const sent = dlq.calls.flat().map((b) => decodeMessage(b)?.header.ids?.[0]);
    const acked = result.explicitAcks.map((id) => `d${id.slice(1)}`);
    const retried = result.retryMessages.map((r) => `d${r.msgId.slice(1)}`);
    expect(acked.sort()).toEqual([...sent].sort());
    expect([...acked, ...retried].sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    expect(retried.length).toBeGreaterThan(0);
    expect(report.deadLetteredEvents).toBe(acked.length);
  });
});

describe('deliverBatch with deduplication', () => {
  it('drops an event whose messageId was delivered in an earlier batch, counted by source', async () => {
    const stream = uniqueStream('dedupe');
    const d = dedupe();
    await run([message('web', ['a', 'b'])], { FIREHOSE_STREAM: stream }, 1, { dedupe: d });
    const second = await run(
      [message('web', ['b', 'c']), message('ios', ['a'])],
      { FIREHOSE_STREAM: stream },
      1,
      {
        dedupe: d,
        ids: ['n0', 'n1'],
      },
    );
    expect(ids(await landedEvents(stream))).toEqual(['a', 'a', 'b', 'c']);
    expect(second.report.deduplicated).toEqual([{ source: 'web', events: 1 }]);
    expect(second.result.explicitAcks.sort()).toEqual(['n0', 'n1']);
  });

  it('acks without sending a message whose every event was delivered already', async () => {
    const stream = uniqueStream('dedupe-all');
    const d = dedupe();
    await run([message('web', ['a'])], { FIREHOSE_STREAM: stream }, 1, { dedupe: d });
    const again = await run([message('web', ['a'])], { FIREHOSE_STREAM: stream }, 1, {
      dedupe: d,
      ids: ['r0'],
    });
    expect(again.result.explicitAcks).toEqual(['r0']);
    expect(again.report.calls).toEqual([]);
    expect(ids(await landedEvents(stream))).toEqual(['a']);
  });

  it('delivers one copy of a messageId repeated in a message and across messages of a batch', async () => {
    const stream = uniqueStream('dedupe-batch');
    const d = dedupe();
    const first = await run(
      [message('web', ['a', 'a', 'b']), message('web', ['b'])],
      { FIREHOSE_STREAM: stream },
      1,
      {
        dedupe: d,
      },
    );
    // The second message's copy of b is held back while the first is in flight, then retried.
    expect(first.result.explicitAcks).toEqual(['m0']);
    expect(first.result.retryMessages.map((r) => r.msgId)).toEqual(['m1']);
    const retry = await run([message('web', ['b'])], { FIREHOSE_STREAM: stream }, 2, {
      dedupe: d,
      ids: ['m1'],
    });
    expect(retry.result.explicitAcks).toEqual(['m1']);
    expect(ids(await landedEvents(stream))).toEqual(['a', 'b']);
  });

  it('never drops a copy because of a delivery that failed: the failure releases its keys', async () => {
    const stream = uniqueStream('dedupe-fail');
    await setStreamFaults(stream, { throttle: 1 });
    const d = dedupe();
    const failed = await run([message('web', ['a'])], { FIREHOSE_STREAM: stream }, 1, {
      dedupe: d,
      ids: ['x0'],
    });
    expect(failed.result.retryMessages.map((r) => r.msgId)).toEqual(['x0']);
    await setStreamFaults(stream, { throttle: 0 });
    // A client's second copy, in another message, is delivered: the first delivery let go.
    const copy = await run([message('web', ['a'])], { FIREHOSE_STREAM: stream }, 1, {
      dedupe: d,
      ids: ['y0'],
    });
    expect(copy.result.explicitAcks).toEqual(['y0']);
    // The first message's retry then finds a is delivered: dropped, acked, nothing sent twice.
    const retry = await run([message('web', ['a'])], { FIREHOSE_STREAM: stream }, 2, {
      dedupe: d,
      ids: ['x0'],
    });
    expect(retry.result.explicitAcks).toEqual(['x0']);
    expect(ids(await landedEvents(stream))).toEqual(['a']);
  });

  it("sends the owner's retry after a call whose answer was lost, counting it ambiguous", async () => {
    const stream = uniqueStream('dedupe-late');
    await setStreamFaults(stream, { lateAnswer: 1, lateAnswerMs: 3_000 });
    const d = dedupe();
    const late = await run(
      [message('web', ['a'])],
      { FIREHOSE_STREAM: stream, FIREHOSE_TIMEOUT_SECONDS: '1' },
      1,
      {
        dedupe: d,
        ids: ['o0'],
      },
    );
    expect(late.report.ambiguousEvents).toBe(1);
    expect(late.result.retryMessages.map((r) => r.msgId)).toEqual(['o0']);
    // Another copy is held back: the owner's delivery may still land.
    const other = await run([message('web', ['a'])], { FIREHOSE_STREAM: stream }, 1, {
      dedupe: d,
      ids: ['p0'],
    });
    expect(other.result.retryMessages.map((r) => r.msgId)).toEqual(['p0']);
    await setStreamFaults(stream, { lateAnswer: 0 });
    const retry = await run([message('web', ['a'])], { FIREHOSE_STREAM: stream }, 2, {
      dedupe: d,
      ids: ['o0'],
    });
    expect(retry.result.explicitAcks).toEqual(['o0']);
    // Two copies landed (the late one and the retry): the only duplicates allowed.
    expect(ids(await landedEvents(stream))).toEqual(['a', 'a']);
  });

  it('holds the message back, sending nothing, when a dedupe shard cannot be asked', async () => {
    const stream = uniqueStream('dedupe-down');
    const errors = captureErrors();
    const down: DedupeSettings = {
      shards: 2,
      io: { call: () => Promise.reject(new Error('unavailable')) },
    };
    const { result, report, requeued } = await run(
      [message('web', ['a'])],
      { FIREHOSE_STREAM: stream },
      1,
      { dedupe: { settings: down, outbox: new Outbox() } },
    );
    expect(result.explicitAcks).toEqual(['m0']);
    expect(requeued.messages().map((m) => m.header.wait)).toEqual(['dedupe']);
    expect(report.calls).toEqual([]);
    expect(await landedEvents(stream)).toEqual([]);
    expect(errors).toHaveBeenCalledWith('dedupe shard call failed', 'unavailable');
  });

  it('carries commits on the next call to each shard, or flushes them on their own', async () => {
    const stream = uniqueStream('dedupe-outbox');
    const d = dedupe(2);
    await run([message('web', ['a', 'b', 'c', 'd'])], { FIREHOSE_STREAM: stream }, 1, {
      dedupe: d,
    });
    expect(d.outbox.isEmpty).toBe(false);
    await flushOutbox(d.settings.io, d.outbox);
    expect(d.outbox.isEmpty).toBe(true);
    // Committed: a copy in a new outbox's batch (another isolate) is dropped at once.
    const elsewhere = await run([message('web', ['c'])], { FIREHOSE_STREAM: stream }, 1, {
      dedupe: { settings: d.settings, outbox: new Outbox() },
      ids: ['z0'],
    });
    expect(elsewhere.report.deduplicated).toEqual([{ source: 'web', events: 1 }]);
  });
});

describe('the test endpoint', () => {
  it('is the one configured for the Worker', () => {
    expect((env as unknown as Env).AWS_ACCESS_KEY_ID).toBe(TEST_FIREHOSE.accessKeyId);
  });
});
