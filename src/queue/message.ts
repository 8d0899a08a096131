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
//
// Version 2 (a request of several events, src/queue/pack.ts) adds `facts`: the JSON texts its
// events share (`"ip":"203.0.113.7"`, `"library":{…}`, src/queue/shared-facts.ts), each written
// once there and in the lines as one control character, FACT_MARKS[i] for facts[i]. No JSON
// text holds a raw control character (JSON.stringify escapes them, RFC 8259 §7), so putting
// each fact back where its mark is gives the lines exactly as they were: decoded, a version 2
// message is the version 1 message of the same events, byte for byte. Version 1 is still read
// (archived and dead-lettered messages, requeued copies, replays).

import { isWaitReason, type WaitReason } from '../metrics/waiting';
import type { Sink } from '../privacy/policy';
import { parseSinks } from '../privacy/sinks';
import { isJsonObject } from '../segment/types';

export const MESSAGE_FORMAT_VERSION = 1;
/** Lines with `facts` marked; decoded into version 1. */
export const COMPACT_FORMAT_VERSION = 2;

// Control characters, which no JSON text holds raw: tab, newline and carriage return left out,
// so a compacted line is still one line.
export const FACT_MARKS = '\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13';

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
  /** Decoded, always 1: the lines of a version 2 message are restored. */
  v: typeof MESSAGE_FORMAT_VERSION | typeof COMPACT_FORMAT_VERSION;
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
  /** On the wire only (version 2): the texts the lines share, each marked FACT_MARKS[i]. */
  facts?: string[];
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
  const v = header.facts === undefined ? MESSAGE_FORMAT_VERSION : COMPACT_FORMAT_VERSION;
  return `${JSON.stringify({ v, ...header })}\n`;
}

/**
 * A line with each fact's text replaced by its mark (facts at most FACT_MARKS.length), and the
 * UTF-8 bytes that saved (`factBytes[i]`: the UTF-8 size of facts[i]).
 */
export function compactLine(
  line: string,
  facts: readonly string[],
  factBytes: readonly number[],
): { line: string; saved: number } {
  let out = line;
  let saved = 0;
  // indexOf and slices: a third of the CPU of split/join or replaceAll here (bench, 100 lines).
  for (let f = 0; f < facts.length; f++) {
    const fact = facts[f] ?? '';
    let at = out.indexOf(fact);
    if (at === -1) continue;
    const mark = FACT_MARKS.charAt(f);
    let built = '';
    let from = 0;
    while (at !== -1) {
      built += out.slice(from, at) + mark;
      from = at + fact.length;
      saved += (factBytes[f] ?? 1) - 1;
      at = out.indexOf(fact, from);
    }
    out = built + out.slice(from);
  }
  return { line: out, saved };
}

/** Lines with each mark put back as its fact's text: compactLine undone. */
export function restoreFacts(text: string, facts: readonly string[]): string {
  let out = text;
  facts.forEach((fact, i) => {
    const mark = FACT_MARKS.charAt(i);
    if (out.includes(mark)) out = out.replaceAll(mark, fact);
  });
  return out;
}

/** A version 2 header's facts, or undefined when they are not a list of mark-free strings. */
function factList(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length > FACT_MARKS.length) return undefined;
  // A fact holding a mark would leave one behind when restored.
  const ok = value.every(
    (v) => typeof v === 'string' && ![...FACT_MARKS].some((m) => v.includes(m)),
  );
  return ok ? (value as string[]) : undefined;
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
  if (!isJsonObject(parsed)) return undefined;
  const { v, source, receivedAt, events, deadLetter, token } = parsed;
  if (v !== MESSAGE_FORMAT_VERSION && v !== COMPACT_FORMAT_VERSION) return undefined;
  if (typeof source !== 'string' || typeof receivedAt !== 'number' || typeof events !== 'number') {
    return undefined;
  }
  let ndjson = body.slice(newline + 1);
  if (!ndjson.endsWith('\n')) return undefined;
  if (v === COMPACT_FORMAT_VERSION) {
    const facts = factList(parsed['facts']);
    if (facts === undefined) return undefined;
    ndjson = restoreFacts(ndjson, facts);
  }
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
