// The archive's formats: the dead-letter message the consumers send to a dead-letter queue when
// they give up, and the NDJSON lines written to R2, one per event. Pure.
//
// An archive line: `{"reason","attempts","source","receivedAt","deadLetteredAt",
// "archiveAttempts","token","sinks"?,"event": <the event as queued>}` (`sinks`: the sinks the
// event's consent allowed at ingest, absent for every sink); a body that is not ours:
// `{"reason":"undecodable","deadLetteredAt","raw"}`. Lines written by any version replay.

import {
  encodeHeader,
  messageIds,
  messageLines,
  type BlockedLines,
  type DeadLetterInfo,
  type DecodedMessage,
} from '../queue/message';
import type { Sink } from '../privacy/policy';
import type { JsonObject } from '../segment/types';
import { UNDECODABLE_RAW_MAX_CHARS } from './limits';

interface LetterHead {
  source: string;
  receivedAt: number;
  token: string;
  deadLetter: DeadLetterInfo;
  sinks: readonly Sink[] | undefined;
}

/** A letter's body: its lines to deliver first, then its blocked ones, marked. */
function encodeLines(
  head: LetterHead,
  lines: readonly string[],
  ids: readonly string[],
  blocked: BlockedLines | undefined,
): string {
  const { source, receivedAt, token, deadLetter, sinks } = head;
  const all = blocked === undefined ? lines : [...lines, ...blocked.lines];
  const marks: Record<string, number[]> = {};
  blocked?.reasons.forEach((reason, i) => (marks[reason] ??= []).push(lines.length + i));
  const header = encodeHeader({
    source,
    receivedAt,
    events: all.length,
    ids: blocked === undefined ? [...ids] : [...ids, ...blocked.ids],
    token,
    deadLetter,
    ...(blocked === undefined ? {} : { blocked: marks }),
    ...(sinks === undefined ? {} : { sinks: [...sinks] }),
  });
  return `${header}${all.map((l) => `${l}\n`).join('')}`;
}

/**
 * A DLQ message body: the events still undelivered under a header that says why they failed and
 * keeps their ids and the dedupe token they were delivered under (so a replay is theirs), with
 * the message's blocked lines not yet archived, still marked (the DLQ consumer archives them
 * under blocked/).
 */
export function encodeDeadLetter(
  message: DecodedMessage,
  info: DeadLetterInfo,
  token: string,
  /** The lines left to deliver, when deduplication dropped some; default all. */
  kept?: { lines: readonly string[]; ids: readonly string[] },
): string {
  const { source, receivedAt, sinks } = message.header;
  if (kept === undefined && message.blocked === undefined) {
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
        ...(sinks === undefined ? {} : { sinks }),
      }) + message.ndjson
    );
  }
  const lines = kept?.lines ?? messageLines(message);
  const ids = kept?.ids ?? messageIds(message, lines);
  const head = { source, receivedAt, token, deadLetter: info, sinks };
  return encodeLines(head, lines, ids, message.blocked);
}

// Messages that Queues moved to the DLQ itself (max_retries exhausted without the consumer
// dead-lettering them, e.g. after repeated crashes) carry no reason of their own.
export const UNKNOWN_DEAD_LETTER_REASON = 'max_retries_exhausted';

// The dead-letter reason of events a tracking plan blocked: `blocked: violation`,
// `blocked: unplanned_event`. They are archived under BLOCKED_PREFIX.
const BLOCKED_REASON_PREFIX = 'blocked: ';

export function blockedReason(reason: string): string {
  return `${BLOCKED_REASON_PREFIX}${reason}`;
}

export function isBlockedReason(reason: string | undefined): boolean {
  return reason !== undefined && reason.startsWith(BLOCKED_REASON_PREFIX);
}

interface LineFields {
  reason: string;
  attempts: number | null;
  source: string;
  receivedAt: number;
  deadLetteredAt: number;
  archiveAttempts: number;
  token: string;
  sinks: readonly Sink[] | undefined;
}

/** `{"reason",…,"token","sinks"?` of an archive line, to which `,"event":…}` is appended. */
function linePrefix(f: LineFields): string {
  return JSON.stringify({
    reason: f.reason,
    attempts: f.attempts,
    source: f.source,
    receivedAt: new Date(f.receivedAt).toISOString(),
    deadLetteredAt: new Date(f.deadLetteredAt).toISOString(),
    archiveAttempts: f.archiveAttempts,
    token: f.token,
    ...(f.sinks === undefined ? {} : { sinks: f.sinks }),
  }).slice(0, -1);
}

/**
 * One archive line per event to deliver of a dead letter. The event's JSON is spliced in as is,
 * never re-serialised. `token` is the dedupe token a replay delivers the events under.
 */
export function archiveLines(
  message: DecodedMessage,
  archivedAt: number,
  queueAttempts: number,
  queueMessageId: string,
): string {
  const info = message.header.deadLetter;
  const prefix = linePrefix({
    reason: info?.reason ?? UNKNOWN_DEAD_LETTER_REASON,
    attempts: info?.attempts ?? null,
    source: message.header.source,
    receivedAt: message.header.receivedAt,
    deadLetteredAt: info?.at ?? archivedAt,
    archiveAttempts: queueAttempts,
    token: message.header.token ?? queueMessageId,
    sinks: message.header.sinks,
  });
  let out = '';
  for (const line of message.ndjson.split('\n')) {
    if (line !== '') out += `${prefix},"event":${line}}\n`;
  }
  return out;
}

/**
 * One archive line per blocked event of a message (`keep`: those to write, default all), as the
 * lines of a dead letter, with `attempts` 0 and `deadLetteredAt` when it was received (it was
 * blocked then).
 */
export function blockedLines(
  message: DecodedMessage,
  queueAttempts: number,
  token: string,
  keep?: readonly boolean[],
): string {
  const blocked = message.blocked;
  if (blocked === undefined) return '';
  const fields = {
    attempts: 0,
    source: message.header.source,
    receivedAt: message.header.receivedAt,
    deadLetteredAt: message.header.receivedAt,
    archiveAttempts: queueAttempts,
    token: message.header.token ?? token,
    sinks: message.header.sinks,
  };
  const prefixes = new Map<string, string>();
  let out = '';
  blocked.lines.forEach((line, i) => {
    if (keep !== undefined && keep[i] !== true) return;
    const reason = blockedReason(blocked.reasons[i] ?? '');
    let prefix = prefixes.get(reason);
    if (prefix === undefined) {
      prefix = linePrefix({ ...fields, reason });
      prefixes.set(reason, prefix);
    }
    out += `${prefix},"event":${line}}\n`;
  });
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
    sinks?: readonly Sink[];
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
