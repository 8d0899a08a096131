// Where copies for forwarding enter: the events consumer queues a copy of what it delivers for
// the forwarded sources, before the Firehose call, once per event (the dedupe ledger remembers
// it was queued), and acks a message only when its record landed and its copy is queued.
// Checked against the real local Firehose and real dedupe shards, with a recording forward
// queue and a recording events queue (the fresh copies of messages held back).
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { Outbox, flushOutbox, type DedupeSettings } from '../../src/dedupe/client';
import type { Env } from '../../src/env';
import { deliverBatch, type ConsumerDeps } from '../../src/queue/consumer';
import { packMessages } from '../../src/queue/pack';
import { captureErrors } from '../support/console';
import { landedEvents, setStreamFaults, uniqueStream } from '../support/firehose';
import { forwardEndpoint } from '../support/segment';
import { recordingQueue, type RecordingQueue } from '../support/worker';

const RECEIVED = Date.parse('2026-11-29T10:00:00.000Z');
const deps: ConsumerDeps = { now: () => RECEIVED + 1000, random: () => 0.5, newId: () => 'id' };

function message(source: string, ids: string[]): string {
  const events = ids.map((id) => ({
    line: JSON.stringify({ type: 'track', messageId: id, source }),
    messageId: id,
  }));
  const [m] = packMessages(events, { source, receivedAt: RECEIVED });
  if (m === undefined) throw new Error('pack');
  return m.body;
}

function dedupe(): { settings: DedupeSettings; outbox: Outbox } {
  const namespace = (env as unknown as Env).DEDUPE;
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

interface Setup {
  stream: string;
  forward: RecordingQueue;
  /** The events queue: fresh copies of messages held back land here. */
  requeued?: RecordingQueue;
  dedupe?: ReturnType<typeof dedupe>;
  overrides?: Partial<Env>;
}

async function deliver(
  s: Setup,
  bodies: Array<[id: string, body: string]>,
  attempts = 1,
): Promise<{ result: FetcherQueueResult; report: Awaited<ReturnType<typeof deliverBatch>> }> {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-events',
    bodies.map(([id, body]) => ({ id, timestamp: new Date(RECEIVED), attempts, body })),
  );
  const ctx = createExecutionContext();
  const testEnv: Env = {
    ...(env as unknown as Env),
    FIREHOSE_STREAM: s.stream,
    FORWARD_ENDPOINT: forwardEndpoint(),
    FORWARD_WRITE_KEYS: 'web=dest-web',
    FORWARD: s.forward.queue,
    DLQ: recordingQueue().queue,
    EVENTS: (s.requeued ??= recordingQueue()).queue,
    ...s.overrides,
  };
  const report = await deliverBatch(batch, testEnv, deps, s.dedupe?.settings, s.dedupe?.outbox);
  if (s.dedupe !== undefined) await flushOutbox(s.dedupe.settings.io, s.dedupe.outbox);
  return { result: await getQueueResult(batch, ctx), report };
}

const ids = (events: Array<Record<string, unknown>>): string[] =>
  events.map((e) => String(e['messageId'])).sort();

describe('deliverBatch with forwarding', () => {
  it('queues a copy of what it delivers for forwarded sources only, and acks', async () => {
    const s: Setup = { stream: uniqueStream('fwd'), forward: recordingQueue() };
    const { result } = await deliver(s, [
      ['m0', message('web', ['a', 'b'])],
      ['m1', message('ios', ['c'])],
    ]);
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1']);
    expect(ids(await landedEvents(s.stream))).toEqual(['a', 'b', 'c']);
    const [copy] = s.forward.messages();
    expect(s.forward.messages()).toHaveLength(1);
    expect(copy?.header).toMatchObject({ source: 'web', receivedAt: RECEIVED, ids: ['a', 'b'] });
    // The copy holds the lines exactly as delivered.
    const delivered = (await landedEvents(s.stream)).filter((e) => e['source'] === 'web');
    expect(ids(s.forward.events())).toEqual(ids(delivered));
  });

  it('re-packs the copies of many small messages into one', async () => {
    const s: Setup = { stream: uniqueStream('fwd-pack'), forward: recordingQueue() };
    const bodies = Array.from({ length: 20 }, (_v, i): [string, string] => [
      `m${i}`,
      message('web', [`p${i}`]),
    ]);
    const { result } = await deliver(s, bodies);
    expect(result.explicitAcks).toHaveLength(20);
    expect(s.forward.calls).toEqual([[expect.any(String)]]);
    expect(s.forward.messages()[0]?.header.ids).toEqual(bodies.map((_b, i) => `p${i}`));
  });

  it('queues nothing while forwarding is off', async () => {
    const s: Setup = {
      stream: uniqueStream('fwd-off'),
      forward: recordingQueue(),
      overrides: { FORWARD_ENDPOINT: '' },
    };
    const { result } = await deliver(s, [['m0', message('web', ['a'])]]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(s.forward.calls).toEqual([]);
  });

  it('holds back, without delivering, a message whose copy the forward queue refused', async () => {
    const errors = captureErrors();
    const s: Setup = {
      stream: uniqueStream('fwd-refused'),
      forward: recordingQueue({ fail: true }),
      requeued: recordingQueue(),
    };
    const { result, report } = await deliver(s, [
      ['m0', message('web', ['a'])],
      ['m1', message('ios', ['b'])],
    ]);
    // m0 waits as a fresh copy (the queue must be fixed), m1 is delivered.
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1']);
    expect(s.requeued?.messages().map((m) => [m.header.wait, m.header.ids])).toEqual([
      ['queue', ['a']],
    ]);
    // Firehose got only the message that needed no copy.
    expect(ids(await landedEvents(s.stream))).toEqual(['b']);
    expect(report.forwardCopyFailedEvents).toBe(1);
    expect(errors).toHaveBeenCalledWith(
      'forward copy send failed',
      'Queue sendBatch failed: simulated outage',
    );
  });

  it('holds back a forwarded message while the FORWARD binding is missing, never losing its copy', async () => {
    const s: Setup = {
      stream: uniqueStream('fwd-unbound'),
      forward: recordingQueue(),
      requeued: recordingQueue(),
      overrides: { FORWARD: undefined },
    };
    await deliver(s, [['m0', message('web', ['a'])]]);
    expect(s.requeued?.messages().map((m) => m.header.wait)).toEqual(['queue']);
    expect(await landedEvents(s.stream)).toEqual([]);
  });

  it('sends the copy on the retry after a refused copy: each event once in Firehose and once forwarded', async () => {
    // The trap this design avoids: had Firehose landed first and the copy failed after, the
    // retry would find its events committed by the dedupe gate and send no copy at all.
    const errors = captureErrors();
    const refusing = recordingQueue({ failCall: (n) => n < 2 });
    const requeued = recordingQueue();
    const s: Setup = {
      stream: uniqueStream('fwd-retry'),
      forward: refusing,
      requeued,
      dedupe: dedupe(),
    };
    await deliver(s, [['m0', message('web', ['a', 'b'])]]);
    expect(await landedEvents(s.stream)).toEqual([]);
    expect(errors).toHaveBeenCalledWith('forward copy send failed', expect.any(String));
    const [copy] = requeued.calls.flat();
    const retry = await deliver(s, [['c0', copy as string]]);
    expect(retry.result.explicitAcks).toEqual(['c0']);
    expect(ids(await landedEvents(s.stream))).toEqual(['a', 'b']);
    expect(ids(refusing.events())).toEqual(['a', 'b']);
    // A client's resend of b (another queue message) is dropped as a duplicate, with no copy:
    // the delivery that committed b had queued b's copy first.
    const resend = await deliver(s, [['n0', message('web', ['b', 'c'])]]);
    expect(resend.result.explicitAcks).toEqual(['n0']);
    expect(resend.report.deduplicated).toEqual([{ source: 'web', events: 1 }]);
    expect(ids(await landedEvents(s.stream))).toEqual(['a', 'b', 'c']);
    expect(ids(refusing.events())).toEqual(['a', 'b', 'c']);
    // The copy of a partly deduplicated message holds the lines actually delivered.
    expect(refusing.messages().at(-1)?.header.ids).toEqual(['c']);
  });

  it('queues the copy once, not once per Firehose attempt, while Firehose fails after it', async () => {
    const s: Setup = {
      stream: uniqueStream('fwd-firehose-down'),
      forward: recordingQueue(),
      dedupe: dedupe(),
    };
    await setStreamFaults(s.stream, { throttle: 1 });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const failed = await deliver(s, [['m0', message('web', ['a', 'b'])]], attempt);
      expect(failed.result.retryMessages.map((r) => r.msgId)).toEqual(['m0']);
    }
    await setStreamFaults(s.stream, { throttle: 0 });
    // A client's resend of b with a new event c, in another message: c gets its copy, b not again.
    const resend = await deliver(s, [['n0', message('web', ['b', 'c'])]]);
    expect(resend.result.explicitAcks).toEqual(['n0']);
    const retry = await deliver(s, [['m0', message('web', ['a', 'b'])]], 4);
    expect(retry.result.explicitAcks).toEqual(['m0']);
    expect(ids(await landedEvents(s.stream))).toEqual(['a', 'b', 'c']);
    expect(ids(s.forward.events())).toEqual(['a', 'b', 'c']);
    expect(s.forward.calls).toHaveLength(2);
  });

  it('queues the copy again without deduplication: at least once, never lost', async () => {
    const s: Setup = { stream: uniqueStream('fwd-no-dedupe'), forward: recordingQueue() };
    await setStreamFaults(s.stream, { throttle: 1 });
    await deliver(s, [['m0', message('web', ['a'])]]);
    await setStreamFaults(s.stream, { throttle: 0 });
    await deliver(s, [['m0', message('web', ['a'])]], 2);
    expect(ids(await landedEvents(s.stream))).toEqual(['a']);
    // Twice on the forward queue; the destination drops the repeat by messageId.
    expect(ids(s.forward.events())).toEqual(['a', 'a']);
  });

  it('makes no copy while Firehose is not configured (every message waits anyway)', async () => {
    const s: Setup = {
      stream: uniqueStream('fwd-no-creds'),
      forward: recordingQueue(),
      requeued: recordingQueue(),
      overrides: { AWS_ACCESS_KEY_ID: undefined },
    };
    await deliver(s, [['m0', message('web', ['a'])]]);
    expect(s.requeued?.messages().map((m) => m.header.wait)).toEqual(['credentials']);
    expect(s.forward.calls).toEqual([]);
  });
});
