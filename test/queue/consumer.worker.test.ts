// The delivery consumer inside workerd against the real local Firehose endpoint (which checks
// every SigV4 signature independently): ack on success, retry only what failed, dead-letter
// what retrying cannot fix.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env';
import { deliverBatch, type ConsumerDeps } from '../../src/queue/consumer';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { DELIVERY_MAX_ATTEMPTS } from '../../src/queue/retry';
import { TEST_FIREHOSE } from '../support/firehose-credentials';
import { landedEvents, setStreamFaults, streamStats, uniqueStream } from '../support/firehose';
import { recordingQueue } from '../support/worker';
import { captureErrors } from '../support/console';

const RECEIVED = Date.parse('2026-11-29T10:00:00.000Z');
const deps: ConsumerDeps = { now: () => RECEIVED + 1000, random: () => 0.5, newId: () => 'id' };

function message(source: string, ids: string[], pad = 0): string {
  const lines = ids.map((id) =>
    JSON.stringify({ type: 'track', messageId: id, pad: 'p'.repeat(pad) }),
  );
  const [m] = packMessages(lines, source, RECEIVED, Number.MAX_SAFE_INTEGER);
  if (m === undefined) throw new Error('pack');
  return m.body;
}

interface Run {
  result: Awaited<ReturnType<typeof getQueueResult>>;
  /** delaySeconds passed to each retried message, by message id (getQueueResult omits it). */
  delays: Map<string, number | undefined>;
  report: Awaited<ReturnType<typeof deliverBatch>>;
  dlq: ReturnType<typeof recordingQueue>;
}

async function run(bodies: string[], overrides: Partial<Env>, attempts = 1): Promise<Run> {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-events',
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(RECEIVED), attempts, body })),
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
  const dlq = recordingQueue();
  const testEnv = { ...(env as unknown as Env), DLQ: dlq.queue as Queue<unknown>, ...overrides };
  const report = await deliverBatch(batch, testEnv, deps);
  return { result: await getQueueResult(batch, ctx), delays, report, dlq };
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
          { at: RECEIVED, events: 2 },
          { at: RECEIVED, events: 1 },
        ],
      },
    ]);
    expect(report.failed).toEqual([]);
    expect((await streamStats(stream))?.calls).toBe(1);
  });

  it('shards sources across the streams of a comma-separated FIREHOSE_STREAM', async () => {
    const a = uniqueStream('shard-a');
    const b = uniqueStream('shard-b');
    const sources = Array.from({ length: 12 }, (_v, i) => `source-${i}`);
    await run(
      sources.map((s) => message(s, [s])),
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

  it('dead-letters a call the endpoint refuses for a bad signature (wrong secret)', async () => {
    const { dlq } = await run([message('web', ['a'])], { AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(decodeMessage(dlq.calls.flat()[0])?.header.deadLetter?.reason).toBe(
      'InvalidSignatureException',
    );
  });

  it('dead-letters after the last attempt instead of retrying forever', async () => {
    const stream = uniqueStream('exhausted');
    await setStreamFaults(stream, { throttle: 1 });
    const { result, dlq } = await run(
      [message('web', ['a'])],
      { FIREHOSE_STREAM: stream },
      DELIVERY_MAX_ATTEMPTS,
    );
    expect(result.explicitAcks).toEqual(['m0']);
    expect(decodeMessage(dlq.calls.flat()[0])?.header.deadLetter?.reason).toBe(
      'retries_exhausted: ServiceUnavailableException',
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
      'Queue send failed: simulated outage',
    );
  });

  it('dead-letters a message that is not ours, as it came', async () => {
    const { result, dlq } = await run(['not a queue message'], {});
    expect(result.explicitAcks).toEqual(['m0']);
    expect(dlq.calls.flat()).toEqual(['not a queue message']);
  });

  it('dead-letters everything when AWS credentials are missing', async () => {
    const { dlq } = await run([message('web', ['a'])], { AWS_ACCESS_KEY_ID: undefined });
    expect(decodeMessage(dlq.calls.flat()[0])?.header.deadLetter?.reason).toMatch(
      /^not_configured/,
    );
  });
});

describe('the test endpoint', () => {
  it('is the one configured for the Worker', () => {
    expect((env as unknown as Env).AWS_ACCESS_KEY_ID).toBe(TEST_FIREHOSE.accessKeyId);
  });
});
