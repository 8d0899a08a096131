// The events consumer's sends of whole messages: fresh copies back to an events queue (a step
// `requeue`, src/queue/step.ts) and dead letters to the DLQ (a step `dead`), each in sendBatch
// groups within the Queues limits. A message is acked only once its copy or dead letter was
// accepted; the caller retries those whose own group failed. Adapter.

import type { Env } from '../env';
import { utf8Length } from '../segment/utf8';
import { encodeDeadLetter, undecodableLine } from '../archive/format';
import { QUEUE_SEND_BATCH_MAX_BYTES } from './limits';
import { encodeRequeued } from './message';
import { groupForSendBatch, type PackedMessage } from './pack';
import type { BatchMessage } from './prepare';
import { eventsQueues, pickQueue } from './producer';
import type { Step } from './step';

type Kept = ReadonlyMap<number, { lines: string[]; ids: string[] }>;

interface Outbound extends PackedMessage {
  index: number;
  delaySeconds?: number;
}

/** Sends the messages in sendBatch groups; returns the indexes of those whose group failed. */
async function sendGroups(
  queue: Queue<unknown> | undefined,
  outbound: readonly Outbound[],
  what: string,
): Promise<Set<number>> {
  const failed = new Set<number>();
  if (outbound.length === 0) return failed;
  if (queue === undefined) return new Set(outbound.map((o) => o.index));
  const groups = groupForSendBatch(outbound, undefined, QUEUE_SEND_BATCH_MAX_BYTES) as Outbound[][];
  await Promise.all(
    groups.map(async (group) => {
      try {
        await queue.sendBatch(
          group.map((o) => ({
            body: o.body,
            contentType: 'text' as const,
            ...(o.delaySeconds === undefined ? {} : { delaySeconds: o.delaySeconds }),
          })),
        );
      } catch (e) {
        console.error(`${what} send failed`, e instanceof Error ? e.message : String(e));
        for (const o of group) failed.add(o.index);
      }
    }),
  );
  return failed;
}

const outbound = (
  index: number,
  body: string,
  events: number,
  delaySeconds?: number,
): Outbound => ({
  index,
  body,
  bytes: utf8Length(body),
  events,
  ...(delaySeconds === undefined ? {} : { delaySeconds }),
});

/**
 * Sends a fresh copy of each message whose step is `requeue` to an events queue, after its
 * backoff, carrying its token, first-queued time, attempts so far and reason; returns the
 * indexes whose send failed.
 */
export async function requeue(
  env: Env,
  messages: readonly BatchMessage[],
  kept: Kept,
  steps: readonly Step[],
  random: () => number,
): Promise<Set<number>> {
  const copies: Outbound[] = [];
  steps.forEach((step, index) => {
    const m = messages[index];
    const lines = kept.get(index);
    if (step.kind !== 'requeue' || m?.decoded === undefined || lines === undefined) return;
    const header = m.decoded.header;
    const body = encodeRequeued(m.decoded, lines, {
      token: m.token,
      queuedAt: header.queuedAt ?? m.raw.timestamp.getTime(),
      priorAttempts: (header.priorAttempts ?? 0) + m.raw.attempts,
      wait: step.wait,
    });
    copies.push(outbound(index, body, lines.lines.length, step.delaySeconds));
  });
  const queue = pickQueue(eventsQueues(env), random)?.queue;
  return sendGroups(queue, copies, 'requeue');
}

/**
 * Sends each message whose step is `dead` to the DLQ, with the reason, the attempts made, the
 * events still undelivered and their dedupe token; returns the indexes whose send failed.
 */
export async function deadLetter(
  env: Env,
  messages: readonly BatchMessage[],
  kept: Kept,
  steps: readonly Step[],
  at: number,
): Promise<Set<number>> {
  const letters: Outbound[] = [];
  steps.forEach((step, index) => {
    const m = messages[index];
    if (step.kind !== 'dead' || m === undefined) return;
    const attempts = (m.decoded?.header.priorAttempts ?? 0) + m.raw.attempts;
    const info = { reason: step.reason, attempts, at };
    const lines = kept.get(index);
    let body: string;
    // A body that is not ours goes to the DLQ as it came; the archive keeps it raw.
    if (m.decoded === undefined)
      body = typeof m.raw.body === 'string' ? m.raw.body : undecodableLine(m.raw.body, at);
    else body = encodeDeadLetter(m.decoded, info, m.token, lines);
    letters.push(outbound(index, body, m.decoded === undefined ? 1 : m.lines.length));
  });
  return sendGroups(env.DLQ, letters, 'dead-letter');
}
