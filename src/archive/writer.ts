// The dead-letter queues' consumer: each batch written to R2 (batch.ts says which objects),
// then, only once a letter is written, the dedupe keys of letters Queues moved itself released;
// then each message acked, or, if its object or its release failed, retried, and from
// ARCHIVE_REQUEUE_FROM_ATTEMPT on (or a day after it was sent) sent to its queue again as a
// fresh copy, so that no outage
// of R2 or of the dedupe shards, however long, runs a message out of attempts (neither archive
// queue has a dead-letter queue: a message past its last attempt would be deleted). Adapter.

import { callShard, type DedupeSettings } from '../dedupe/client';
import { keysByShard, planGate } from '../dedupe/gate';
import { ANY_OWNER } from '../dedupe/ledger';
import type { Env } from '../env';
import { retryCapSeconds, retryDelaySeconds } from '../queue/retry';
import { afterFailure, planArchive, type MovedLetter, type PlannedObject } from './batch';
import { ARCHIVE_PREFIX, FORWARD_ARCHIVE_PREFIX } from './keys';

export interface ArchiveDeps {
  now: () => number;
  random: () => number;
  newId: () => string;
}

export interface ArchiveReport {
  archivedEvents: number;
  /** The first object written (the dead letters', when the batch had any). */
  key?: string;
  /** Every object written: one for the dead letters, one per source of blocked events. */
  keys: string[];
  /** Messages sent to their queue again as fresh copies. */
  requeued: number;
}

/** Writes every object; the indexes of the messages with lines in one that failed. */
async function writeObjects(
  bucket: R2Bucket,
  objects: readonly PlannedObject[],
  report: ArchiveReport,
): Promise<Set<number>> {
  const failed = new Set<number>();
  const written = await Promise.all(
    objects.map(async (object) => {
      try {
        await bucket.put(object.key, object.text, {
          httpMetadata: { contentType: 'application/x-ndjson' },
          customMetadata: { events: String(object.events) },
        });
        return true;
      } catch (e) {
        console.error('archive write failed', e instanceof Error ? e.message : String(e));
        for (const m of object.messages) failed.add(m);
        return false;
      }
    }),
  );
  objects.forEach((object, i) => {
    if (written[i] !== true) return;
    report.archivedEvents += object.events;
    report.keys.push(object.key);
  });
  return failed;
}

/**
 * Frees the dedupe keys of archived letters that Queues moved itself, whatever token reserved
 * them, so their replay, which cannot carry that token, is delivered rather than taken for a
 * duplicate. Returns the letters whose release failed (retried: their objects are rewritten in
 * place).
 */
async function releaseMoved(
  dedupe: DedupeSettings,
  moved: readonly MovedLetter[],
): Promise<Set<number>> {
  const byShard = new Map<
    number,
    { groups: Array<{ source: string; keys: Uint32Array }>; messages: Set<number> }
  >();
  for (const letter of moved) {
    const { keys } = planGate(
      [{ index: 0, token: ANY_OWNER, attempt: '', source: letter.source, ids: letter.ids }],
      dedupe.shards,
    );
    const lines = letter.ids.map((_id, i) => i);
    for (const [shard, k] of keysByShard(keys[0] ?? new Uint32Array(), lines, dedupe.shards)) {
      const entry = byShard.get(shard) ?? { groups: [], messages: new Set<number>() };
      entry.groups.push({ source: letter.source, keys: k });
      entry.messages.add(letter.message);
      byShard.set(shard, entry);
    }
  }
  const failed = new Set<number>();
  await Promise.all(
    [...byShard].map(async ([shard, { groups, messages }]) => {
      try {
        // Whatever attempt reserved them (ANY_OWNER): src/dedupe/ledger.ts.
        const release = groups.map((g) => ({ ...g, token: ANY_OWNER, attempt: '' }));
        await callShard(dedupe.io, shard, { commit: [], release, reserve: [] }, dedupe.timeoutMs);
      } catch (e) {
        console.error('dedupe release failed', e instanceof Error ? e.message : String(e));
        for (const m of messages) failed.add(m);
      }
    }),
  );
  return failed;
}

/** Sends a fresh copy of a message to its queue; whether it went. */
async function requeue(
  queue: Queue<unknown> | undefined,
  message: Message<unknown>,
  delaySeconds: number,
): Promise<boolean> {
  if (queue === undefined) return false;
  try {
    const contentType = typeof message.body === 'string' ? 'text' : 'v8';
    await queue.send(message.body, { contentType, delaySeconds });
    return true;
  } catch (e) {
    console.error('archive requeue failed', e instanceof Error ? e.message : String(e));
    return false;
  }
}

/** Acks what is archived; retries or requeues the rest (never acked before it is durable). */
async function settle(
  batch: MessageBatch<unknown>,
  failed: ReadonlySet<number>,
  queue: Queue<unknown> | undefined,
  env: Env,
  deps: ArchiveDeps,
): Promise<number> {
  if (failed.size === 0) {
    batch.ackAll();
    return 0;
  }
  const cap = retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS);
  let requeued = 0;
  await Promise.all(
    batch.messages.map(async (message, index) => {
      if (!failed.has(index)) {
        message.ack();
        return;
      }
      const age = deps.now() - message.timestamp.getTime();
      if (
        afterFailure(message.attempts, age) === 'requeue' &&
        (await requeue(queue, message, cap))
      ) {
        requeued += 1;
        message.ack();
        return;
      }
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts, deps.random, cap) });
    }),
  );
  return requeued;
}

/**
 * A DLQ consumer: every message of the batch as NDJSON lines in R2 under `prefix`
 * (dead-letters/ for the events DLQ; forward-dead-letters/ for forwarding's, without dedupe: its
 * letters are copies, whose keys belong to the events' own deliveries), blocked events under
 * blocked/<source>/; each message acked once its objects are written.
 */
export async function archiveBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ArchiveDeps,
  dedupe?: DedupeSettings,
  prefix = ARCHIVE_PREFIX,
): Promise<ArchiveReport> {
  const plan = planArchive(
    batch.messages.map((m) => ({
      body: m.body,
      attempts: m.attempts,
      id: m.id,
      timestamp: m.timestamp.getTime(),
    })),
    { at: deps.now(), batchId: deps.newId(), prefix, releaseMoved: dedupe !== undefined },
  );
  const report: ArchiveReport = { archivedEvents: 0, keys: [], requeued: 0 };
  const failed = await writeObjects(env.ARCHIVE, plan.objects, report);
  if (dedupe !== undefined) {
    const written = plan.moved.filter((letter) => !failed.has(letter.message));
    for (const index of await releaseMoved(dedupe, written)) failed.add(index);
  }
  const queue = prefix === FORWARD_ARCHIVE_PREFIX ? env.FORWARD_DLQ : env.DLQ;
  report.requeued = await settle(batch, failed, queue, env, deps);
  const [first] = report.keys;
  if (first !== undefined) report.key = first;
  return report;
}
