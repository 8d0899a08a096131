// The queue message format: one JSON header line, then the events as NDJSON. Pure codec.
// Text bodies keep the events' bytes as-is (a JSON envelope would escape every quote), so
// the consumer concatenates them into Firehose records without re-serialising anything.
//
//   {"v":1,"source":"web","receivedAt":1700000000000,"events":2,"ids":["m1","m2"]}\n
//   {"type":"track","messageId":"m1",...}\n
//   {"type":"page","messageId":"m2",...}\n
//
// `ids` holds each line's messageId in order, so the consumer deduplicates without parsing
// events. `token`, set on replayed events and requeued copies, names the delivery that first
// reserved their keys. A copy the consumer requeued instead of dead-lettering (src/queue/step.ts)
// also carries `queuedAt` (when its events were first queued), `priorAttempts` (delivery
// attempts made before it) and `wait` (the failure it waits on).
// `blocked`, set when a tracking plan blocked some of the request's events, names those lines by
// reason (`{"violation":[2],"unplanned_event":[0,3]}`, indexes into the lines): they travel in
// the same message as the events delivered, and the events consumer archives them under
// blocked/ (src/archive/blocked.ts) instead of sending them. Decoded, a message shows its
// delivered lines as `ndjson` and the blocked ones apart, in `blocked`.

import { isWaitReason, type WaitReason } from '../metrics/waiting';
import type { Sink } from '../privacy/policy';
import { parseSinks } from '../privacy/sinks';
import { isJsonObject } from '../segment/types';

export const MESSAGE_FORMAT_VERSION = 1;

/** Set on messages the consumer dead-letters itself (src/queue/dead-letter.ts). */
export interface DeadLetterInfo {
  /** Why delivery gave up, e.g. `ResourceNotFoundException` or `retries_exhausted:…`. */
  reason: string;
  /** Delivery attempts made before giving up. */
  attempts: number;
  /** When it was dead-lettered, ms since the epoch. */
  at: number;
}

export interface MessageHeader {
  v: typeof MESSAGE_FORMAT_VERSION;
  /** Source name (never the write key); routes the message to a delivery stream. */
  source: string;
  /** Server time the events were received, ms since the epoch. */
  receivedAt: number;
  /** Number of NDJSON lines that follow. */
  events: number;
  /** The messageId of each line; absent in messages written before it was added. */
  ids?: string[];
  /** The dedupe token the events were first delivered under (replays and dead letters). */
  token?: string;
  /** When the events were first queued, ms (requeued copies; else the message's own time). */
  queuedAt?: number;
  /** Delivery attempts made before this message (requeued copies). */
  priorAttempts?: number;
  /** The failure a requeued copy waits on (counted in ndc_segment_delivery_waiting_events). */
  wait?: WaitReason;
  deadLetter?: DeadLetterInfo;
  /**
   * The only sinks its events may reach, as their consent decided at ingest (src/privacy/);
   * absent: every sink. Kept through requeued copies, dead letters, the archive and replays.
   */
  sinks?: Sink[];
  /** On the wire only: the lines a tracking plan blocked, by reason (decoded into `blocked`). */
  blocked?: Record<string, number[]>;
}

/** The lines of a message a tracking plan blocked, in order, each with its id and reason. */
export interface BlockedLines {
  lines: string[];
  ids: string[];
  reasons: string[];
}

export interface DecodedMessage {
  /** The header of the lines in `ndjson` (`events` and `ids` count those only). */
  header: MessageHeader;
  /** The events to deliver, one per line, every line ending in "\n" ("" when none). */
  ndjson: string;
  /** The lines a tracking plan blocked, apart; absent when there are none. */
  blocked?: BlockedLines;
}

export function encodeHeader(header: Omit<MessageHeader, 'v'>): string {
  return `${JSON.stringify({ v: MESSAGE_FORMAT_VERSION, ...header })}\n`;
}

function stringList(value: unknown, length: number): string[] | undefined {
  if (!Array.isArray(value) || value.length !== length) return undefined;
  return value.every((v) => typeof v === 'string') ? value : undefined;
}

/** Splits a message body into header and events, or undefined when it is not ours. */
export function decodeMessage(body: unknown): DecodedMessage | undefined {
  if (typeof body !== 'string') return undefined;
  const newline = body.indexOf('\n');
  if (newline === -1) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.slice(0, newline));
  } catch {
    return undefined;
  }
  if (!isJsonObject(parsed) || parsed['v'] !== MESSAGE_FORMAT_VERSION) return undefined;
  const { source, receivedAt, events, deadLetter, token } = parsed;
  if (typeof source !== 'string' || typeof receivedAt !== 'number' || typeof events !== 'number') {
    return undefined;
  }
  const ndjson = body.slice(newline + 1);
  if (!ndjson.endsWith('\n')) return undefined;
  const header: MessageHeader = { v: MESSAGE_FORMAT_VERSION, source, receivedAt, events };
  const ids = stringList(parsed['ids'], events);
  if (ids !== undefined) header.ids = ids;
  if (typeof token === 'string' && token !== '') header.token = token;
  const sinks = parseSinks(parsed['sinks']);
  if (sinks !== undefined) header.sinks = sinks;
  const { queuedAt, priorAttempts, wait } = parsed;
  if (typeof queuedAt === 'number' && Number.isFinite(queuedAt)) header.queuedAt = queuedAt;
  if (Number.isSafeInteger(priorAttempts) && (priorAttempts as number) > 0)
    header.priorAttempts = priorAttempts as number;
  if (isWaitReason(wait)) header.wait = wait;
  const marks = parsed['blocked'];
  if (
    isJsonObject(deadLetter) &&
    typeof deadLetter['reason'] === 'string' &&
    typeof deadLetter['attempts'] === 'number' &&
    typeof deadLetter['at'] === 'number'
  ) {
    header.deadLetter = {
      reason: deadLetter['reason'],
      attempts: deadLetter['attempts'],
      at: deadLetter['at'],
    };
  }
  if (marks === undefined) return { header, ndjson };
  return splitBlocked({ header, ndjson }, marks);
}

/** Each line's block reason from a header's `blocked` marks, or undefined when they are bad. */
function blockReasons(marks: unknown, lines: number): Array<string | undefined> | undefined {
  if (!isJsonObject(marks)) return undefined;
  const reasons: Array<string | undefined> = new Array<string | undefined>(lines).fill(undefined);
  for (const [reason, indexes] of Object.entries(marks)) {
    if (!Array.isArray(indexes)) return undefined;
    for (const index of indexes) {
      if (!Number.isInteger(index) || index < 0 || index >= lines) return undefined;
      if (reasons[index as number] !== undefined) return undefined;
      reasons[index as number] = reason;
    }
  }
  return reasons;
}

/**
 * A message with blocked lines as its delivered lines (`ndjson`, `header.events`, `header.ids`)
 * and its blocked ones apart; undefined when the marks do not fit its lines (not ours).
 */
function splitBlocked(message: DecodedMessage, marks: unknown): DecodedMessage | undefined {
  const lines = messageLines(message);
  if (lines.length !== message.header.events) return undefined;
  const reasons = blockReasons(marks, lines.length);
  if (reasons === undefined) return undefined;
  const ids = messageIds(message, lines);
  const header: MessageHeader = { ...message.header, events: 0, ids: [] };
  const blocked: BlockedLines = { lines: [], ids: [], reasons: [] };
  let ndjson = '';
  lines.forEach((line, i) => {
    const reason = reasons[i];
    const id = ids[i] ?? `line:${i}`;
    if (reason === undefined) {
      ndjson += `${line}\n`;
      header.ids?.push(id);
      header.events += 1;
    } else {
      blocked.lines.push(line);
      blocked.ids.push(id);
      blocked.reasons.push(reason);
    }
  });
  return blocked.lines.length === 0 ? { header, ndjson } : { header, ndjson, blocked };
}

/** The message's lines (without their "\n"). */
export function messageLines(message: DecodedMessage): string[] {
  if (message.ndjson === '') return [];
  const lines = message.ndjson.split('\n');
  lines.pop();
  return lines;
}

/**
 * The messageId of each line: from the header, or (messages written before `ids` existed)
 * parsed from the lines; a line without one gets `line:<n>`, unique within the message.
 */
export function messageIds(message: DecodedMessage, lines: readonly string[]): string[] {
  if (message.header.ids !== undefined) return message.header.ids;
  return lines.map((line, n) => {
    try {
      const event: unknown = JSON.parse(line);
      const id = isJsonObject(event) ? event['messageId'] : undefined;
      return typeof id === 'string' ? id : `line:${n}`;
    } catch {
      return `line:${n}`;
    }
  });
}

/**
 * A fresh copy of a message for its events queue (src/queue/step.ts): the lines still to
 * deliver, the dedupe token they are delivered under, when they were first queued, the attempts
 * made so far and the failure the copy waits on; and its blocked lines not yet archived.
 */
export function encodeRequeued(
  message: DecodedMessage,
  kept: { lines: readonly string[]; ids: readonly string[] },
  state: { token: string; queuedAt: number; priorAttempts: number; wait: WaitReason },
): string {
  const { source, receivedAt, sinks } = message.header;
  // Blocked lines not yet archived (R2 refused them) go along, still marked, after the rest.
  const blocked = message.blocked;
  const lines = blocked === undefined ? kept.lines : [...kept.lines, ...blocked.lines];
  const marks: Record<string, number[]> = {};
  blocked?.reasons.forEach((reason, i) => (marks[reason] ??= []).push(kept.lines.length + i));
  const header = encodeHeader({
    source,
    receivedAt,
    events: lines.length,
    ids: blocked === undefined ? [...kept.ids] : [...kept.ids, ...blocked.ids],
    ...state,
    ...(blocked === undefined ? {} : { blocked: marks }),
    ...(sinks === undefined ? {} : { sinks }),
  });
  return `${header}${lines.map((l) => `${l}\n`).join('')}`;
}
