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
import { pickQueue } from './producer';
import { placement } from '../sources/placement';
import { writeLetters } from '../archive/writer';
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
  if (copies.length === 0) return new Set();
  // Each copy goes back on a queue of its source's (FIREHOSE_ROUTES): a routed source's events
  // never pass through another's queue. Unresolvable routes: nothing sent, the messages retried.
  const resolved = placement(env);
  if (!resolved.ok) return new Set(copies.map((c) => c.index));
  const bySource = new Map<string, Outbound[]>();
  for (const copy of copies) {
    const source = messages[copy.index]?.decoded?.header.source ?? '';
    const list = bySource.get(source);
    if (list === undefined) bySource.set(source, [copy]);
    else list.push(copy);
  }
  const failed = new Set<number>();
  await Promise.all(
    [...bySource].map(async ([source, list]) => {
      const queue = pickQueue(resolved.value.queuesFor(source), random)?.queue;
      for (const index of await sendGroups(queue, list, 'requeue')) failed.add(index);
    }),
  );
  return failed;
}

/**
 * Sends each message whose step is `dead` to the DLQ (a routed source's with an `archive`: to
 * that bucket directly, as the DLQ consumer would write it), with the reason, the attempts made, the
 * events still undelivered and their dedupe token; returns the indexes whose send failed.
 */
export async function deadLetter(
  env: Env,
  messages: readonly BatchMessage[],
  kept: Kept,
  steps: readonly Step[],
  at: number,
  newId: () => string = () => crypto.randomUUID(),
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
  const resolved = placement(env);
  const routed = new Map<R2Bucket, Outbound[]>();
  const rest: Outbound[] = [];
  for (const letter of letters) {
    const source = messages[letter.index]?.decoded?.header.source;
    const archive = source === undefined ? undefined : routedArchive(resolved, source);
    if (archive === undefined) rest.push(letter);
    else routed.set(archive, [...(routed.get(archive) ?? []), letter]);
  }
  const failed = await sendGroups(env.DLQ, rest, 'dead-letter');
  for (const [bucket, list] of routed) {
    const inputs = list.map((l) => ({
      body: l.body,
      attempts: messages[l.index]?.raw.attempts ?? 1,
      id: messages[l.index]?.raw.id ?? '',
      timestamp: messages[l.index]?.raw.timestamp.getTime() ?? at,
    }));
    const notWritten = await writeLetters(bucket, inputs, at, newId());
    for (const i of notWritten) failed.add(list[i]?.index ?? -1);
  }
  failed.delete(-1);
  return failed;
}

/** A routed source's own archive (its route's `archive`), where its dead letters go directly. */
function routedArchive(
  resolved: ReturnType<typeof placement>,
  source: string,
): R2Bucket | undefined {
  if (!resolved.ok) return undefined;
  const archive = resolved.value.archiveFor(source);
  return archive.name === 'ARCHIVE' ? undefined : archive.bucket;
}
