// The events queues an env binds, how requests spread over them, and how one request's events
// are sent; and that wrangler.toml gives every queue its role (events, dead letters, forward,
// forward dead letters) by configuration.
import wranglerToml from '../../wrangler.toml?raw';
import twoQueuesToml from '../fixtures/wrangler.two-queues.toml?raw';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import {
  DEFAULT_DEAD_LETTER_QUEUE,
  DEFAULT_FORWARD_DEAD_LETTER_QUEUE,
  DEFAULT_FORWARD_QUEUE,
  queueRole,
} from '../../src/queue/handler';
import { FORWARD_QUEUE_MAX_RETRIES } from '../../src/queue/retry';
import { enqueueEvents, eventsQueues, pickQueue } from '../../src/queue/producer';
import { shardOfEvent } from '../../src/dedupe/keys';
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

  it("sends a one-event request to its dedupe shard's queue when the queues divide the shards", () => {
    // Shard 7 of 12 over 3 queues: 7 mod 3 = 1, whatever the random draw.
    expect(pickQueue([0, 1, 2], () => 0.99, { index: 7, of: 12 })).toBe(1);
    expect(pickQueue([0, 1], () => 0.99, { index: 7, of: 12 })).toBe(1);
    expect(pickQueue([0, 1], () => 0, { index: 6, of: 12 })).toBe(0);
    // 12 shards over 5 queues would give some queues 3 shards and others 2: random instead.
    expect(pickQueue([0, 1, 2, 3, 4], () => 0.99, { index: 7, of: 12 })).toBe(4);
    expect(pickQueue([], () => 0.5, { index: 7, of: 12 })).toBeUndefined();
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
      // Two events a request: the queue is drawn at random (one event would follow its shard).
      const batch = [0, 1].map((k) => ({ ...VALID_CALLS.track, messageId: `q${i}-${k}` }));
      const res = await h.fetch(
        '/v1/batch',
        jsonPost({ batch }, { Authorization: basic('test-key-1') }),
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

  it("sends a one-event request to its dedupe shard's queue, so a queue's batches touch fewer shards", async () => {
    const shards = Number(base.DEDUPE_SHARDS);
    expect(shards % 2).toBe(0);
    // A random draw that would always pick EVENTS: only the shard can pick EVENTS_1.
    const h = harness({ deps: { ...fixedDeps(), random: () => 0 } });
    const second = recordingQueue();
    const ids = Array.from({ length: 40 }, (_v, i) => `shard-route-${i}`);
    for (const messageId of ids) {
      const res = await h.fetch(
        '/v1/track',
        jsonPost({ ...VALID_CALLS.track, messageId }, { Authorization: basic('test-key-1') }),
        { EVENTS_1: second.queue },
      );
      expect(res.status).toBe(200);
    }
    const inQueue = (q: ReturnType<typeof recordingQueue>) =>
      q.messages().flatMap((m) => m.header.ids ?? []);
    const shardQueue = (id: string) => shardOfEvent('web', id, shards) % 2;
    expect(inQueue(h.queue).sort()).toEqual(ids.filter((id) => shardQueue(id) === 0).sort());
    expect(inQueue(second).sort()).toEqual(ids.filter((id) => shardQueue(id) === 1).sort());
    // Both queues carried traffic, and each holds keys of half the shards only.
    expect(inQueue(second).length).toBeGreaterThan(0);
    expect(inQueue(h.queue).length).toBeGreaterThan(0);
    const shardsIn = (q: ReturnType<typeof recordingQueue>) =>
      new Set(inQueue(q).map((id) => shardOfEvent('web', id, shards)));
    expect([...shardsIn(second)].every((s) => s % 2 === 1)).toBe(true);

    // With deduplication off the shard plays no part: the random draw picks EVENTS every time.
    const off = harness({ deps: { ...fixedDeps(), random: () => 0 } });
    const other = recordingQueue();
    for (const messageId of ids.slice(0, 10)) {
      await off.fetch(
        '/v1/track',
        jsonPost({ ...VALID_CALLS.track, messageId }, { Authorization: basic('test-key-1') }),
        { EVENTS_1: other.queue, DEDUPE_WINDOW_SECONDS: '0' },
      );
    }
    expect([off.queue.calls.length, other.calls.length]).toEqual([10, 0]);
  });
});

describe('wrangler.toml', () => {
  const blocks = (header: string): string[] =>
    wranglerToml.split(/\n(?=\[)/).filter((b) => b.startsWith(header));

  const queueOf = (b: string): string | undefined => /^queue = "([^"]+)"/m.exec(b)?.[1];
  const bindingOf = (b: string): string | undefined => /^binding = "([^"]+)"/m.exec(b)?.[1];
  const varOf = (name: string): string | undefined =>
    new RegExp(`^${name} = "([^"]+)"`, 'm').exec(wranglerToml)?.[1];
  /** The [vars] of wrangler.toml, as the queue() handler reads them. */
  const vars = (): Env =>
    ({
      DEAD_LETTER_QUEUE: varOf('DEAD_LETTER_QUEUE'),
      FORWARD_QUEUE: varOf('FORWARD_QUEUE'),
      FORWARD_DEAD_LETTER_QUEUE: varOf('FORWARD_DEAD_LETTER_QUEUE'),
    }) as Env;

  it('names the queues of each role in vars, with the defaults the handler falls back to', () => {
    expect(varOf('DEAD_LETTER_QUEUE')).toBe(DEFAULT_DEAD_LETTER_QUEUE);
    expect(varOf('FORWARD_QUEUE')).toBe(DEFAULT_FORWARD_QUEUE);
    expect(varOf('FORWARD_DEAD_LETTER_QUEUE')).toBe(DEFAULT_FORWARD_DEAD_LETTER_QUEUE);
  });

  it('gives every consumer a role from the vars, and every events consumer DEAD_LETTER_QUEUE', () => {
    const consumers = blocks('[[queues.consumers]]');
    const role = (b: string) => queueRole(queueOf(b) ?? '', vars());
    const events = consumers.filter((b) => role(b) === 'events');
    expect(events.length).toBeGreaterThan(0);
    for (const b of events)
      expect(b).toContain(`dead_letter_queue = "${varOf('DEAD_LETTER_QUEUE')}"`);
    expect(consumers.map(role).sort()).toEqual(
      ['dead-letters', 'forward', 'forward-dead-letters', ...events.map(() => 'events')].sort(),
    );
  });

  it('dead-letters the forward consumer to FORWARD_DEAD_LETTER_QUEUE, with FORWARD_QUEUE_MAX_RETRIES', () => {
    const forward = blocks('[[queues.consumers]]').find(
      (b) => queueOf(b) === varOf('FORWARD_QUEUE'),
    );
    expect(forward).toContain(`dead_letter_queue = "${varOf('FORWARD_DEAD_LETTER_QUEUE')}"`);
    expect(forward).toContain(`max_retries = ${FORWARD_QUEUE_MAX_RETRIES}`);
  });

  it('binds FORWARD and FORWARD_DLQ to the queues the vars name', () => {
    const producers = blocks('[[queues.producers]]');
    const queueOfBinding = (name: string) =>
      queueOf(producers.find((b) => bindingOf(b) === name) ?? '');
    expect(queueOfBinding('FORWARD')).toBe(varOf('FORWARD_QUEUE'));
    expect(queueOfBinding('FORWARD_DLQ')).toBe(varOf('FORWARD_DEAD_LETTER_QUEUE'));
    expect(queueOfBinding('DLQ')).toBe(varOf('DEAD_LETTER_QUEUE'));
  });

  it('adds a queue with two blocks: the two-queue test config is wrangler.toml, uncommented', () => {
    const uncommented = wranglerToml.replace(
      /^# (\[\[queues\.(?:producers|consumers)\]\]\n(?:# .*\n)*)/gm,
      (block) => block.replace(/^# /gm, ''),
    );
    // The fixture lives in test/fixtures/: wrangler resolves these paths from the config's folder
    // (the [build] command alone runs where wrangler was started, the repository's root).
    const relocated = uncommented
      .replace('main = "src/index.ts"', 'main = "../../src/index.ts"')
      .replace('watch_dir = "scripts/', 'watch_dir = "../../scripts/')
      .replace('directory = "./assets"', 'directory = "../../assets"');
    // Its own header comment, then wrangler.toml's text from its first line on.
    const body = twoQueuesToml.slice(twoQueuesToml.indexOf('# ndc-segment:'));
    expect(body).toBe(relocated);
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

describe('queueRole', () => {
  it('routes by the vars, never by name: a renamed forward queue is still the forward queue', () => {
    const env = {
      DEAD_LETTER_QUEUE: 'dlq-x',
      FORWARD_QUEUE: 'copies',
      FORWARD_DEAD_LETTER_QUEUE: 'copies-dead',
    } as Env;
    expect(queueRole('dlq-x', env)).toBe('dead-letters');
    expect(queueRole('copies', env)).toBe('forward');
    expect(queueRole('copies-dead', env)).toBe('forward-dead-letters');
    expect(queueRole('ndc-segment-forward', env)).toBe('events');
    expect(queueRole('ndc-segment-events', env)).toBe('events');
  });

  it('falls back to the default names when the vars are unset', () => {
    const none = {} as Env;
    expect(queueRole(DEFAULT_DEAD_LETTER_QUEUE, none)).toBe('dead-letters');
    expect(queueRole(DEFAULT_FORWARD_QUEUE, none)).toBe('forward');
    expect(queueRole(DEFAULT_FORWARD_DEAD_LETTER_QUEUE, none)).toBe('forward-dead-letters');
  });
});
