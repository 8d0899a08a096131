// Dead letters: the message the consumer sends to the dead-letter queue when it gives up, and
// the NDJSON lines the DLQ consumer archives to R2. Pure.

import type { JsonObject } from '../segment/types';
import { encodeHeader, type DeadLetterInfo, type DecodedMessage } from './message';

/**
 * A DLQ message body: the events still undelivered under a header that says why they failed and
 * keeps their ids and the dedupe token they were delivered under (so a replay is theirs).
 */
export function encodeDeadLetter(
  message: DecodedMessage,
  info: DeadLetterInfo,
  token: string,
  /** The lines left to deliver, when deduplication dropped some; default all. */
  kept?: { lines: readonly string[]; ids: readonly string[] },
): string {
  const { source, receivedAt } = message.header;
  const sinks = message.header.sinks === undefined ? {} : { sinks: message.header.sinks };
  if (kept === undefined) {
    const ids = message.header.ids;
    const events = message.header.events;
    return (
      encodeHeader({
        source,
        receivedAt,
        events,
        ...(ids ? { ids } : {}),
        token,
        deadLetter: info,
        ...sinks,
      }) + message.ndjson
    );
  }
  const header = encodeHeader({
    source,
    receivedAt,
    events: kept.lines.length,
    ids: [...kept.ids],
    token,
    deadLetter: info,
    ...sinks,
  });
  return `${header}${kept.lines.map((l) => `${l}\n`).join('')}`;
}

// Messages that Queues moved to the DLQ itself (max_retries exhausted without the consumer
// dead-lettering them, e.g. after repeated crashes) carry no reason of their own.
export const UNKNOWN_DEAD_LETTER_REASON = 'max_retries_exhausted';

/**
 * One archive line per event: `{"reason","attempts","source","receivedAt","deadLetteredAt",
 * "archiveAttempts","token","sinks"?,"event": <the event as queued>}`. The event's JSON is spliced in as
 * is, never re-serialised. `token` is the dedupe token a replay delivers the events under.
 */
export function archiveLines(
  message: DecodedMessage,
  archivedAt: number,
  queueAttempts: number,
  queueMessageId: string,
): string {
  const info = message.header.deadLetter;
  const prefix = JSON.stringify({
    reason: info?.reason ?? UNKNOWN_DEAD_LETTER_REASON,
    attempts: info?.attempts ?? null,
    source: message.header.source,
    receivedAt: new Date(message.header.receivedAt).toISOString(),
    deadLetteredAt: new Date(info?.at ?? archivedAt).toISOString(),
    archiveAttempts: queueAttempts,
    token: message.header.token ?? queueMessageId,
    ...(message.header.sinks === undefined ? {} : { sinks: message.header.sinks }),
  }).slice(0, -1);
  let out = '';
  for (const line of message.ndjson.split('\n')) {
    if (line !== '') out += `${prefix},"event":${line}}\n`;
  }
  return out;
}

/**
 * The archive line of an event blocked again when a replay checked it (same fields as
 * `archiveLines`; `deadLetteredAt` is when it was blocked again, and `attempts` 0, as at ingest).
 */
export function reblockedLine(
  event: JsonObject,
  entry: {
    reason: string;
    source: string;
    receivedAt: number;
    at: number;
    token?: string;
    sinks?: readonly string[];
  },
): string {
  return `${JSON.stringify({
    reason: entry.reason,
    attempts: 0,
    source: entry.source,
    receivedAt: new Date(entry.receivedAt).toISOString(),
    deadLetteredAt: new Date(entry.at).toISOString(),
    archiveAttempts: 0,
    ...(entry.token === undefined ? {} : { token: entry.token }),
    ...(entry.sinks === undefined ? {} : { sinks: entry.sinks }),
    event,
  })}\n`;
}

// Ours: how much of a body that is not ours is kept in its archive line.
export const UNDECODABLE_RAW_MAX_CHARS = 128 * 1024;

/**
 * The line for a DLQ message that is not in our format, kept as a string. Never throws: a body
 * that cannot even be serialised (too deep, a BigInt, a cycle) is kept as what String() makes
 * of it, so one poison message never fails the rest of its batch.
 */
export function undecodableLine(body: unknown, archivedAt: number): string {
  let raw: string;
  try {
    raw = typeof body === 'string' ? body : (JSON.stringify(body) ?? String(body));
  } catch {
    try {
      raw = String(body);
    } catch {
      raw = `[unserialisable ${typeof body}]`;
    }
  }
  const truncated = raw.length > UNDECODABLE_RAW_MAX_CHARS;
  return `${JSON.stringify({
    reason: 'undecodable',
    deadLetteredAt: new Date(archivedAt).toISOString(),
    raw: truncated ? raw.slice(0, UNDECODABLE_RAW_MAX_CHARS) : raw,
    ...(truncated ? { truncated: true } : {}),
  })}\n`;
}

/** `YYYY/MM/DD/HH/<time>-<id>.ndjson` under `prefix`. */
function datedKey(prefix: string, archivedAt: number, id: string): string {
  const iso = new Date(archivedAt).toISOString();
  const [y, m, d, h] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13)];
  return `${prefix}${y}/${m}/${d}/${h}/${iso.replace(/[:.]/g, '')}-${id}.ndjson`;
}

/** R2 key of one archived DLQ batch: <prefix>YYYY/MM/DD/HH/<time>-<id>.ndjson. */
export function archiveKey(archivedAt: number, id: string, prefix = ARCHIVE_PREFIX): string {
  return datedKey(prefix, archivedAt, id);
}

/** R2 key of one source's blocked events of a DLQ batch: blocked/<source>/YYYY/MM/DD/HH/…. */
export function blockedArchiveKey(source: string, archivedAt: number, id: string): string {
  return datedKey(`${BLOCKED_PREFIX}${source}/`, archivedAt, id);
}

export const ARCHIVE_PREFIX = 'dead-letters/';
export const REPLAYED_PREFIX = 'replayed/';
/** Events a tracking plan blocked (issue #14), archived per source. */
export const BLOCKED_PREFIX = 'blocked/';

// The dead-letter reason of events a tracking plan blocked: `blocked: violation`,
// `blocked: unplanned_event`. The DLQ consumer archives these under BLOCKED_PREFIX.
const BLOCKED_REASON_PREFIX = 'blocked: ';

export function blockedReason(reason: string): string {
  return `${BLOCKED_REASON_PREFIX}${reason}`;
}

export function isBlockedReason(reason: string | undefined): boolean {
  return reason !== undefined && reason.startsWith(BLOCKED_REASON_PREFIX);
}
/** Dead letters of forwarding (docs/forwarding.md), replayed onto the forward queue. */
export const FORWARD_ARCHIVE_PREFIX = 'forward-dead-letters/';
export const FORWARD_REPLAYED_PREFIX = 'forward-replayed/';
