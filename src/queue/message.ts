// The queue message format: one JSON header line, then the events as NDJSON. Pure codec.
// Text bodies keep the events' bytes as-is (a JSON envelope would escape every quote), so
// the consumer concatenates them into Firehose records without re-serialising anything.
//
//   {"v":1,"source":"web","receivedAt":1700000000000,"events":2,"ids":["m1","m2"]}\n
//   {"type":"track","messageId":"m1",...}\n
//   {"type":"page","messageId":"m2",...}\n
//
// `ids` holds each line's messageId in order, so the consumer deduplicates without parsing
// events. `token`, set on replayed events, names the delivery that first reserved their keys.

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
  deadLetter?: DeadLetterInfo;
  /**
   * The only sinks its events may reach, as their consent decided at ingest (src/privacy/);
   * absent: every sink. Kept through dead letters, the archive and replays.
   */
  sinks?: Sink[];
}

export interface DecodedMessage {
  header: MessageHeader;
  /** The events, one per line, every line ending in "\n". */
  ndjson: string;
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
  return { header, ndjson };
}

/** The message's lines (without their "\n"). */
export function messageLines(message: DecodedMessage): string[] {
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
