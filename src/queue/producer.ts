// Producer adapter: the events queues an env binds, and the send of one request's events to one
// of them: a single message with send(), more with sendBatch() in groups within its limits.

import type { Env } from '../env';
import { groupForSendBatch, packMessages, type PackContext, type PackEvent } from './pack';

export interface EventsQueue {
  /** The binding name: EVENTS, EVENTS_1, … (the `queue` label of the sent-messages metric). */
  name: string;
  queue: Queue<string>;
}

// Issue #9: "Every producer binding named EVENTS or EVENTS_<n> is an events queue".
const EVENTS_BINDING = /^EVENTS(?:_(\d+))?$/;

export function isQueue(value: unknown): value is Queue<string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { send?: unknown }).send === 'function' &&
    typeof (value as { sendBatch?: unknown }).sendBatch === 'function'
  );
}

const cache = new WeakMap<object, EventsQueue[]>();

/** The events queues bound in env, EVENTS first then by number; found once per env object. */
export function eventsQueues(env: Env): EventsQueue[] {
  let queues = cache.get(env);
  if (queues === undefined) {
    queues = Object.keys(env)
      .map((name) => ({ name, match: EVENTS_BINDING.exec(name) }))
      .filter((q) => q.match !== null)
      .sort((a, b) => Number(a.match?.[1] ?? -1) - Number(b.match?.[1] ?? -1))
      .map(({ name }) => ({ name, queue: (env as unknown as Record<string, unknown>)[name] }))
      .filter((q): q is EventsQueue => isQueue(q.queue));
    cache.set(env, queues);
  }
  return queues;
}

/** The dedupe shard of a request's one event: its index, of how many (DEDUPE_SHARDS). */
export interface ShardHint {
  index: number;
  of: number;
}

/**
 * The queue for one request. A request of one event whose dedupe shard is given, when the
 * number of queues divides the number of shards, goes to the queue its shard maps to (shard mod
 * queues): each queue's consumer batches then hold keys of shards / queues shards only, and call
 * that many dedupe objects instead of up to all of them (browser traffic at 100,000 events/s: 6
 * calls per batch of 100 instead of ~68; bench/cost.ts). Keys spread uniformly over the shards,
 * so the queues still take equal shares. Any other request goes to one queue uniformly at
 * random: every queue takes an equal share of requests.
 */
export function pickQueue<T>(
  queues: readonly T[],
  random: () => number,
  shard?: ShardHint,
): T | undefined {
  if (shard !== undefined && shard.of % queues.length === 0) {
    return queues[shard.index % queues.length];
  }
  return queues[Math.min(queues.length - 1, Math.floor(random() * queues.length))];
}

export interface EnqueueResult {
  messages: number;
  bytes: number;
}

/**
 * Sends one request's events to a queue. Resolves only when every message was accepted; a
 * group that fails is sent once more before giving up (so a partial failure, which makes the
 * client resend the whole request, is rarer), then throws.
 */
export async function enqueueEvents(
  queue: Queue<string>,
  events: readonly PackEvent[],
  context: PackContext,
): Promise<EnqueueResult> {
  const messages = packMessages(events, context);
  const result = { messages: messages.length, bytes: messages.reduce((n, m) => n + m.bytes, 0) };
  const [only] = messages;
  if (messages.length === 1 && only !== undefined) {
    // send() of one message costs less than sendBatch([one]) (bench, issue #11).
    await queue.send(only.body, { contentType: 'text' });
    return result;
  }
  const groups = groupForSendBatch(messages).map((g) =>
    g.map((m) => ({ body: m.body, contentType: 'text' as const })),
  );
  const first = await Promise.allSettled(groups.map((g) => queue.sendBatch(g)));
  const failed = groups.filter((_g, i) => first[i]?.status === 'rejected');
  if (failed.length > 0) await Promise.all(failed.map((g) => queue.sendBatch(g)));
  return result;
}
