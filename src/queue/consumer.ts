// Queue consumer adapters: `deliverBatch` (deliver.ts) sends the events queues to Firehose;
// `archiveBatch` writes a dead-letter queue to R2. The clock, random source and id maker they
// share are injected (ConsumerDeps).

import { releaseMovedLetters as releaseLetters } from '../dedupe/session';
import type { DedupeSettings } from '../dedupe/client';
import type { Env } from '../env';
import type { DeliveryReport } from '../metrics/record';
import {
  ARCHIVE_PREFIX,
  archiveKey,
  archiveLines,
  blockedArchiveKey,
  isBlockedReason,
  undecodableLine,
} from './dead-letter';
import { decodeMessage, messageIds, messageLines } from './message';
import { retryCapSeconds, retryDelaySeconds } from './retry';

export { deliverBatch, firehoseSettings, FIREHOSE_MAX_CONCURRENT_CALLS } from './deliver';
export type { DeliveryReport };

export interface ConsumerDeps {
  now: () => number;
  random: () => number;
  newId: () => string;
  /** Attempts Queues makes (max_retries + 1); tests shorten it. Default DELIVERY_MAX_ATTEMPTS. */
  maxAttempts?: number;
}

export const runtimeConsumerDeps: ConsumerDeps = {
  now: () => Date.now(),
  random: () => Math.random(),
  newId: () => crypto.randomUUID(),
};

type Message_ = globalThis.Message<unknown>;

export interface ArchiveReport {
  archivedEvents: number;
  /** The first object written (the dead letters', when the batch had any). */
  key?: string;
  /** Every object written: one for the dead letters, one per source of blocked events. */
  keys: string[];
}

/**
 * Frees the dedupe keys of dead letters that Queues moved itself (no dead-letter header: the
 * consumer never saw their last attempt), whatever token reserved them, so their replay, which
 * cannot carry that token, is delivered rather than taken for a duplicate.
 */
async function releaseMovedLetters(
  batch: MessageBatch<unknown>,
  dedupe: DedupeSettings,
): Promise<void> {
  const letters = batch.messages.flatMap((message) => {
    const decoded = decodeMessage(message.body);
    if (decoded === undefined || decoded.header.deadLetter !== undefined) return [];
    return [{ source: decoded.header.source, ids: messageIds(decoded, messageLines(decoded)) }];
  });
  await releaseLetters(dedupe, letters);
}

/**
 * A DLQ consumer: every message of the batch as NDJSON lines in R2 under `prefix` (dead-letters/
 * for the events DLQ; forward-dead-letters/ for forwarding's, without dedupe: its letters are
 * copies, whose keys belong to the events' own deliveries), dead letters in one object and
 * blocked events in one per source; each message is acked once its object is written.
 */
export async function archiveBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps,
  dedupe?: DedupeSettings,
  prefix = ARCHIVE_PREFIX,
): Promise<ArchiveReport> {
  const at = deps.now();
  const retryOne = (message: Message_): void => {
    message.retry({
      delaySeconds: retryDelaySeconds(
        message.attempts,
        deps.random,
        retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS),
      ),
    });
  };
  const retryAll = (): void => {
    for (const message of batch.messages) retryOne(message);
  };
  if (dedupe !== undefined) {
    try {
      await releaseMovedLetters(batch, dedupe);
    } catch (e) {
      // Archived unreleased, a replay could be taken for a duplicate: retry instead.
      console.error('dedupe release failed', e instanceof Error ? e.message : String(e));
      retryAll();
      return { archivedEvents: 0, keys: [] };
    }
  }
  // Dead letters go to one object; events a tracking plan blocked to one object per source under
  // blocked/<source>/, so an operator lists and replays a source's blocked events on their own.
  const objects = new Map<string, { text: string; events: number; messages: Array<Message_> }>();
  for (const message of batch.messages) {
    const decoded = decodeMessage(message.body);
    const blocked = isBlockedReason(decoded?.header.deadLetter?.reason);
    const group = blocked && decoded !== undefined ? decoded.header.source : '';
    let object = objects.get(group);
    if (object === undefined) {
      object = { text: '', events: 0, messages: [] };
      objects.set(group, object);
    }
    object.messages.push(message);
    if (decoded === undefined) {
      object.text += undecodableLine(message.body, at);
      object.events += 1;
    } else {
      object.text += archiveLines(decoded, at, message.attempts, message.id);
      object.events += decoded.header.events;
    }
  }
  const report: ArchiveReport = { archivedEvents: 0, keys: [] };
  const id = deps.newId();
  const failed: Array<Message_> = [];
  await Promise.all(
    [...objects].map(async ([source, object]) => {
      const key = source === '' ? archiveKey(at, id, prefix) : blockedArchiveKey(source, at, id);
      try {
        await env.ARCHIVE.put(key, object.text, {
          httpMetadata: { contentType: 'application/x-ndjson' },
          customMetadata: { events: String(object.events) },
        });
      } catch (e) {
        console.error('archive write failed', e instanceof Error ? e.message : String(e));
        failed.push(...object.messages);
        return;
      }
      report.archivedEvents += object.events;
      if (source === '') report.keys.unshift(key);
      else report.keys.push(key);
    }),
  );
  if (failed.length === 0) {
    batch.ackAll();
  } else {
    // Written objects are acked, the others retried: nothing is archived twice.
    for (const message of batch.messages) {
      if (failed.includes(message)) retryOne(message);
      else message.ack();
    }
  }
  const [first] = report.keys;
  if (first !== undefined) report.key = first;
  return report;
}
