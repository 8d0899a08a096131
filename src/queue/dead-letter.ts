// Dead letters: the message the consumer sends to ndc-segment-dlq when it gives up, and the
// NDJSON lines the DLQ consumer archives to R2. Pure.

import { encodeHeader, type DecodedMessage, type DeadLetterInfo } from './message';

/** A DLQ message body: the original events under a header that says why they failed. */
export function encodeDeadLetter(message: DecodedMessage, info: DeadLetterInfo): string {
  const { source, receivedAt, events } = message.header;
  return encodeHeader({ source, receivedAt, events, deadLetter: info }) + message.ndjson;
}

// Messages that Queues moved to the DLQ itself (max_retries exhausted without the consumer
// dead-lettering them, e.g. after repeated crashes) carry no reason of their own.
export const UNKNOWN_DEAD_LETTER_REASON = 'max_retries_exhausted';

/**
 * One archive line per event: `{"reason","attempts","source","receivedAt","deadLetteredAt",
 * "event": <the event as queued>}`. The event's JSON is spliced in as is, never re-serialised.
 */
export function archiveLines(
  message: DecodedMessage,
  archivedAt: number,
  queueAttempts: number,
): string {
  const info = message.header.deadLetter;
  const prefix = JSON.stringify({
    reason: info?.reason ?? UNKNOWN_DEAD_LETTER_REASON,
    attempts: info?.attempts ?? null,
    source: message.header.source,
    receivedAt: new Date(message.header.receivedAt).toISOString(),
    deadLetteredAt: new Date(info?.at ?? archivedAt).toISOString(),
    archiveAttempts: queueAttempts,
  }).slice(0, -1);
  let out = '';
  for (const line of message.ndjson.split('\n')) {
    if (line !== '') out += `${prefix},"event":${line}}\n`;
  }
  return out;
}

/** The line for a DLQ message that is not in our format: kept whole as a string. */
export function undecodableLine(body: unknown, archivedAt: number): string {
  const raw = typeof body === 'string' ? body : (JSON.stringify(body) ?? String(body));
  return `${JSON.stringify({ reason: 'undecodable', deadLetteredAt: new Date(archivedAt).toISOString(), raw })}\n`;
}

/** R2 key of one archived DLQ batch: dead-letters/YYYY/MM/DD/HH/<time>-<id>.ndjson. */
export function archiveKey(archivedAt: number, id: string): string {
  const iso = new Date(archivedAt).toISOString();
  const [y, m, d, h] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13)];
  return `${ARCHIVE_PREFIX}${y}/${m}/${d}/${h}/${iso.replace(/[:.]/g, '')}-${id}.ndjson`;
}

export const ARCHIVE_PREFIX = 'dead-letters/';
export const REPLAYED_PREFIX = 'replayed/';
