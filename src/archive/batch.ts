// What one batch of a dead-letter queue becomes in the archive: the R2 objects to write, with
// the messages each holds, the dedupe keys to release once they are written, and what to do with
// a message whose object could not be written. Pure: the clock reading and the batch's id are
// parameters.
//
// Dead letters go to one object per batch; blocked events (marked lines, or whole letters of the
// older format whose reason is `blocked: …`) to one object per source under blocked/<source>/,
// so an operator lists and replays a source's blocked events on their own. A letter that Queues
// moved itself (no dead-letter header: the consumer never saw its last attempt) must have its
// dedupe keys released after it is written; it gets objects of its own, named by its queue
// message, so that writing it again after a failed release overwrites rather than repeats.

import { decodeMessage, messageIds, messageLines, type DecodedMessage } from '../queue/message';
import { archiveLines, blockedLines, isBlockedReason, undecodableLine } from './format';
import { archiveKey, blockedArchiveKey } from './keys';
import { ARCHIVE_REQUEUE_AFTER_MS, ARCHIVE_REQUEUE_FROM_ATTEMPT } from './limits';

/** One message of the batch, as Queues handed it over. */
export interface LetterInput {
  body: unknown;
  attempts: number;
  /** The queue message's id, stable across its retries. */
  id: string;
  /** When it was sent to this queue, ms since the epoch. */
  timestamp: number;
}

export interface PlannedObject {
  key: string;
  text: string;
  events: number;
  /** Indexes of the messages with lines in it. */
  messages: number[];
}

/** A letter Queues moved itself: its events' keys, to release once it is archived. */
export interface MovedLetter {
  message: number;
  source: string;
  ids: string[];
}

export interface ArchivePlan {
  /** The dead letters' object first (when there is one), then the others. */
  objects: PlannedObject[];
  moved: MovedLetter[];
}

export interface PlanOptions {
  /** When the batch is archived. */
  at: number;
  /** Names this batch's objects. */
  batchId: string;
  /** dead-letters/ or forward-dead-letters/. */
  prefix: string;
  /** Whether moved letters' keys are released (deduplication on, events DLQ only). */
  releaseMoved: boolean;
}

class Objects {
  readonly #byKey = new Map<string, PlannedObject>();

  add(key: string, text: string, events: number, message: number): void {
    if (text === '') return;
    let object = this.#byKey.get(key);
    if (object === undefined) {
      object = { key, text: '', events: 0, messages: [] };
      this.#byKey.set(key, object);
    }
    object.text += text;
    object.events += events;
    if (!object.messages.includes(message)) object.messages.push(message);
  }

  list(first: string): PlannedObject[] {
    const all = [...this.#byKey.values()];
    return [...all.filter((o) => o.key === first), ...all.filter((o) => o.key !== first)];
  }
}

/** Whether a decoded letter is one Queues moved itself, with events whose keys to release. */
function isMoved(decoded: DecodedMessage): boolean {
  return decoded.header.deadLetter === undefined && decoded.header.events > 0;
}

export function planArchive(inputs: readonly LetterInput[], options: PlanOptions): ArchivePlan {
  const { at, batchId, prefix } = options;
  const objects = new Objects();
  const moved: MovedLetter[] = [];
  const batchKey = archiveKey(at, batchId, prefix);
  inputs.forEach((input, index) => {
    const decoded = decodeMessage(input.body);
    if (decoded === undefined) {
      objects.add(batchKey, undecodableLine(input.body, at), 1, index);
      return;
    }
    const own = options.releaseMoved && isMoved(decoded);
    const source = decoded.header.source;
    const key = own ? archiveKey(input.timestamp, input.id, prefix) : batchKey;
    const blockedKey = blockedArchiveKey(
      source,
      own ? input.timestamp : at,
      own ? input.id : batchId,
    );
    const lines = archiveLines(decoded, at, input.attempts, input.id);
    // A whole letter of blocked events, as ingest sent them before they rode in events messages.
    const wholeBlocked = isBlockedReason(decoded.header.deadLetter?.reason);
    objects.add(wholeBlocked ? blockedKey : key, lines, decoded.header.events, index);
    const blocked = blockedLines(decoded, input.attempts, input.id);
    objects.add(blockedKey, blocked, decoded.blocked?.lines.length ?? 0, index);
    if (own) {
      const ids = messageIds(decoded, messageLines(decoded));
      moved.push({ message: index, source, ids });
    }
  });
  return { objects: objects.list(batchKey), moved };
}

/** What becomes of a message whose archiving failed on attempt `attempts`, `ageMs` after it was sent. */
export function afterFailure(attempts: number, ageMs: number): 'retry' | 'requeue' {
  return attempts >= ARCHIVE_REQUEUE_FROM_ATTEMPT || ageMs >= ARCHIVE_REQUEUE_AFTER_MS
    ? 'requeue'
    : 'retry';
}
