// The events consumer's one step for blocked events: the lines a tracking plan blocked at
// ingest ride in the same queue message as the events delivered (src/queue/message.ts), and
// before the batch is delivered they are written to R2, one object per source under
// blocked/<source>/. Adapter.
//
// Deduplicated like deliveries, under keys of their own (the messageId in a namespace of blocked
// events, so that a replay of them, under their plain keys, is not taken for a duplicate): a
// client's resend of a request, or a retry of a message whose delivery failed after its blocked
// events were archived, finds them committed and writes nothing. A message whose blocked events
// could not be archived (R2 refused, a shard could not be asked, another copy is in flight) is
// retried whole, and delivers nothing meanwhile; one whose blocked events are archived (or were
// already) has them taken out of its decoded form, so a dead letter of it carries only what is
// left to do.

import type { DedupeSettings, Outbox } from '../dedupe/client';
import type { GateResult } from '../dedupe/gate';
import { DedupeSession } from '../dedupe/session';
import type { DecodedMessage } from '../queue/message';
import { blockedLines } from './format';
import { blockedArchiveKey } from './keys';

/** A message of the events consumer's batch, as deliverBatch holds it. */
export interface BlockedCarrier {
  decoded: DecodedMessage | undefined;
  /** The dedupe token its deliveries reserve under. */
  token: string;
  /** This attempt (src/dedupe/session.ts): its reservations are this attempt's alone. */
  attempt: string;
  raw: { attempts: number };
}

export interface BlockedDeps {
  now: () => number;
  newId: () => string;
}

// Ours: blocked events are deduplicated as messageIds of their own namespace. A NUL starts it:
// no SDK makes such a messageId, so a plain one cannot meet it.
const BLOCKED_KEY_NAMESPACE = '\u0000blocked\u0000';

interface Carrier {
  index: number;
  message: BlockedCarrier;
  decoded: DecodedMessage & { blocked: NonNullable<DecodedMessage['blocked']> };
  gate?: GateResult;
}

function carriers(messages: readonly BlockedCarrier[]): Carrier[] {
  const out: Carrier[] = [];
  messages.forEach((message, index) => {
    const decoded = message.decoded;
    if (decoded?.blocked !== undefined)
      out.push({ index, message, decoded: { ...decoded, blocked: decoded.blocked } });
  });
  return out;
}

/** Reserves each carrier's blocked lines with the shards; sets `gate` on each. */
async function reserve(list: Carrier[], session: DedupeSession): Promise<void> {
  const results = await session.reserve(
    list.map((c) => ({
      token: c.message.token,
      attempt: c.message.attempt,
      source: c.decoded.header.source,
      ids: c.decoded.blocked.ids.map((id) => BLOCKED_KEY_NAMESPACE + id),
    })),
  );
  list.forEach((c, i) => {
    const result = results[i];
    if (result !== undefined) c.gate = result;
  });
}

/** Writes one object per source of the carriers' kept lines; the carriers not written. */
async function write(
  bucket: R2Bucket,
  list: readonly Carrier[],
  deps: BlockedDeps,
): Promise<{ failed: Set<Carrier>; events: number }> {
  const at = deps.now();
  const id = deps.newId();
  const bySource = new Map<string, { text: string; events: number; carriers: Carrier[] }>();
  for (const c of list) {
    const keep = c.gate?.keep;
    const text = blockedLines(c.decoded, c.message.raw.attempts, c.message.token, keep);
    if (text === '') continue;
    const source = c.decoded.header.source;
    const object = bySource.get(source) ?? { text: '', events: 0, carriers: [] };
    object.text += text;
    object.events +=
      keep === undefined ? c.decoded.blocked.lines.length : keep.filter(Boolean).length;
    object.carriers.push(c);
    bySource.set(source, object);
  }
  const failed = new Set<Carrier>();
  let events = 0;
  await Promise.all(
    [...bySource].map(async ([source, object]) => {
      try {
        await bucket.put(blockedArchiveKey(source, at, id), object.text, {
          httpMetadata: { contentType: 'application/x-ndjson' },
          customMetadata: { events: String(object.events) },
        });
        events += object.events;
      } catch (e) {
        console.error('blocked archive write failed', e instanceof Error ? e.message : String(e));
        for (const c of object.carriers) failed.add(c);
      }
    }),
  );
  return { failed, events };
}

/**
 * Archives the blocked lines of a batch's messages; returns the indexes of the messages to
 * retry (their blocked lines are not archived) and counts the events written in `report`.
 */
export async function archiveBlocked(
  bucket: R2Bucket,
  messages: readonly BlockedCarrier[],
  deps: BlockedDeps,
  dedupe: DedupeSettings | undefined,
  outbox: Outbox,
  report: { archivedEvents?: number },
): Promise<Set<number>> {
  const list = carriers(messages);
  if (list.length === 0) return new Set();
  const session = dedupe === undefined ? undefined : new DedupeSession(dedupe, outbox);
  if (session !== undefined) await reserve(list, session);
  const undecided = list.filter((c) => c.gate?.held === true || c.gate?.unavailable === true);
  const ready = list.filter((c) => !undecided.includes(c));
  const { failed, events } = await write(bucket, ready, deps);
  report.archivedEvents = (report.archivedEvents ?? 0) + events;
  const retry = new Set<number>();
  list.forEach((c, i) => {
    const written = ready.includes(c) && !failed.has(c);
    // Written: committed. Not: this attempt's reservation released, for the retry.
    session?.settle(i, written ? 'delivered' : 'failed', false);
    if (written) delete c.message.decoded?.blocked;
    else retry.add(c.index);
  });
  return retry;
}
