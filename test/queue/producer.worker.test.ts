// The events queues an env binds, how requests spread over them, and how one request's events
// are sent; and that wrangler.toml names the dead-letter queue by configuration.
import wranglerToml from '../../wrangler.toml?raw';
import twoQueuesToml from '../../wrangler.two-queues.toml?raw';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { DEFAULT_DEAD_LETTER_QUEUE } from '../../src/queue/handler';
import { enqueueEvents, eventsQueues, pickQueue } from '../../src/queue/producer';
import { VALID_CALLS } from '../fixtures/calls';
import { basic, harness, jsonPost, recordingQueue } from '../support/worker';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { fixedDeps } from '../support/worker';

const base = env as unknown as Env;
const events = (n: number, pad = 0) =>
  Array.from({ length: n }, (_v, i) => ({
    line: JSON.stringify({ i, pad: 'x'.repeat(pad) }),
    messageId: `e${i}`,
  }));

describe('eventsQueues', () => {
  it('finds EVENTS and every EVENTS_<n>, in order, and nothing else', () => {
    const q = (): Queue<string> => recordingQueue().queue;
    const found = eventsQueues({
      ...base,
      EVENTS: q(),
      EVENTS_10: q(),
      EVENTS_2: q(),
      EVENTS_X: q(),
      EVENTS_3: 'not a queue',
      NOT_EVENTS_1: q(),
    } as unknown as Env);
    expect(found.map((f) => f.name)).toEqual(['EVENTS', 'EVENTS_2', 'EVENTS_10']);
  });
});

describe('pickQueue', () => {
  it('gives every queue an equal share of requests', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const picked = pickQueue([0, 1, 2], () => (i + 0.5) / 3000);
      counts[picked ?? 0] = (counts[picked ?? 0] ?? 0) + 1;
    }
    expect(counts).toEqual([1000, 1000, 1000]);
    expect(pickQueue([], () => 0.5)).toBeUndefined();
  });
});

describe('enqueueEvents', () => {
  it('sends a single message with send(), not sendBatch()', async () => {
    let batches = 0;
    const queue = recordingQueue();
    const spy = {
      ...queue.queue,
      send: queue.queue.send.bind(queue.queue),
      sendBatch: (m: Iterable<MessageSendRequest<string>>) => {
        batches += 1;
        return queue.queue.sendBatch(m);
      },
    } as Queue<string>;
    const sent = await enqueueEvents(spy, events(3), { source: 'web', receivedAt: 1 });
    expect([sent.messages, batches, queue.calls.length]).toEqual([1, 0, 1]);
  });

  it('sends many messages in sendBatch groups, sending a failed group once more', async () => {
    // The second call fails once: only that group is sent again.
    const queue = recordingQueue({ failCall: (n) => n === 1 });
    const sent = await enqueueEvents(queue.queue, events(20, 30_000), {
      source: 'web',
      receivedAt: 1,
    });
    expect(sent.messages).toBeGreaterThan(4);
    const delivered = queue.messages().flatMap((m) => m.header.ids ?? []);
    expect(delivered.sort()).toEqual(
      events(20)
        .map((e) => e.messageId)
        .sort(),
    );
  });

  it('throws when a group fails twice, so the request is answered 503', async () => {
    const queue = recordingQueue({ failCall: (n) => n >= 1 });
    await expect(
      enqueueEvents(queue.queue, events(20, 30_000), { source: 'web', receivedAt: 1 }),
    ).rejects.toThrow();
  });
});

describe('ingest over several events queues', () => {
  it('spreads requests over EVENTS and EVENTS_1 and counts messages by queue', async () => {
    const metrics = new MetricsBuffer();
    let n = 0;
    const deps = { ...fixedDeps(undefined, metrics), random: () => (n++ % 2) * 0.5 + 0.25 };
    const h = harness({ deps });
    const second = recordingQueue();
    for (let i = 0; i < 10; i++) {
      const res = await h.fetch(
        '/v1/track',
        jsonPost(
          { ...VALID_CALLS.track, messageId: `q${i}` },
          { Authorization: basic('test-key-1') },
        ),
        { EVENTS_1: second.queue },
      );
      expect(res.status).toBe(200);
    }
    expect(h.queue.calls).toHaveLength(5);
    expect(second.calls).toHaveLength(5);
    const counters = metrics.drain().counters;
    expect(counters['ndc_segment_queue_messages_sent_total{queue="EVENTS"}']).toBe(5);
    expect(counters['ndc_segment_queue_messages_sent_total{queue="EVENTS_1"}']).toBe(5);
  });
});

describe('wrangler.toml', () => {
  const blocks = (header: string): string[] =>
    wranglerToml.split(/\n(?=\[)/).filter((b) => b.startsWith(header));

  it('names the dead-letter queue in DEAD_LETTER_QUEUE, and every events consumer uses it', () => {
    const dlq = /DEAD_LETTER_QUEUE = "([^"]+)"/.exec(wranglerToml)?.[1];
    expect(dlq).toBe(DEFAULT_DEAD_LETTER_QUEUE);
    const consumers = blocks('[[queues.consumers]]');
    const queueOf = (b: string): string | undefined => /^queue = "([^"]+)"/m.exec(b)?.[1];
    const events = consumers.filter((b) => queueOf(b) !== dlq);
    expect(events.length).toBeGreaterThan(0);
    for (const b of events) expect(b).toContain(`dead_letter_queue = "${dlq}"`);
    expect(consumers.some((b) => queueOf(b) === dlq)).toBe(true);
  });

  it('adds a queue with two blocks: the two-queue test config is wrangler.toml, uncommented', () => {
    const uncommented = wranglerToml.replace(
      /^# (\[\[queues\.(?:producers|consumers)\]\]\n(?:# .*\n)*)/gm,
      (block) => block.replace(/^# /gm, ''),
    );
    const body = twoQueuesToml.split('\n').slice(3).join('\n');
    expect(body).toBe(uncommented);
    expect(body).toContain('binding = "EVENTS_1"');
  });

  it('consumes every queue an EVENTS producer sends to', () => {
    const producers = blocks('[[queues.producers]]').filter((b) =>
      /binding = "EVENTS(_\d+)?"/.test(b),
    );
    const consumed = blocks('[[queues.consumers]]').map((b) => /^queue = "([^"]+)"/m.exec(b)?.[1]);
    for (const p of producers) expect(consumed).toContain(/^queue = "([^"]+)"/m.exec(p)?.[1]);
  });
});
