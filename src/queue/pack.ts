// Packing serialised events into queue messages (with a request's shared facts once per
// message: src/queue/message.ts version 2), delivered messages into copies for forwarding, and
// messages into sendBatch calls. Pure.

import type { Sink } from '../privacy/policy';
import { utf8Length } from '../segment/utf8';
import { compactLine, encodeHeader, FACT_MARKS } from './message';
import {
  QUEUE_MESSAGE_RESTORED_MAX_BYTES,
  QUEUE_MESSAGE_OVERHEAD_BYTES,
  QUEUE_MESSAGE_TARGET_BYTES,
  QUEUE_SEND_BATCH_MAX_BYTES,
  QUEUE_SEND_BATCH_MAX_MESSAGES,
} from './limits';

/** One event to pack: its NDJSON line (no "\n"), its UTF-8 size if known, its messageId. */
export interface PackEvent {
  line: string;
  bytes?: number;
  messageId: string;
  /** Why a tracking plan blocked it (archived, never delivered); absent for an event to deliver. */
  blocked?: string;
}

export interface PackedMessage {
  body: string;
  bytes: number;
  events: number;
}

export interface PackContext {
  source: string;
  receivedAt: number;
  /** Set on replayed events: the dedupe token they were first delivered under. */
  token?: string;
  /** Set on events whose consent restricts where they go (src/privacy/sinks.ts). */
  sinks?: readonly Sink[];
  /**
   * Texts the events' lines share (src/queue/shared-facts.ts): with two events or more, each
   * message carries them once in its header and the lines a mark for each (message.ts).
   */
  facts?: readonly string[];
}

/** The facts a request's messages carry, or undefined when compacting would not pay. */
function usedFacts(events: readonly PackEvent[], context: PackContext): string[] | undefined {
  const facts = context.facts;
  // One event: its facts would travel once anyway, and the header quotes them at a cost.
  if (facts === undefined || facts.length === 0 || events.length < 2) return undefined;
  // Only texts some line holds: a header never carries what its lines do not (an address the
  // privacy policy removed from these events, say).
  const used = facts.filter((f) => f.length > 1 && events.some((e) => e.line.includes(f)));
  return used.length === 0 ? undefined : used.slice(0, FACT_MARKS.length);
}

/** An event to pack with its line's size as sent, and as the consumer restores it. */
interface Sized extends PackEvent {
  bytes: number;
  restored: number;
}

/** The event with its line compacted, and its size less what the marks saved. */
function compacted(event: PackEvent, facts: readonly string[], factBytes: number[]): Sized {
  const restored = event.bytes ?? utf8Length(event.line);
  const { line, saved } = compactLine(event.line, facts, factBytes);
  return { ...event, line, bytes: restored - saved, restored };
}

function sized(event: PackEvent): Sized {
  const bytes = event.bytes ?? utf8Length(event.line);
  return { ...event, bytes, restored: bytes };
}

// Printable ASCII without `"` or `\`: JSON.stringify adds only the two quotes.
const PLAIN_ID = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** UTF-8 bytes a messageId takes in the header's `ids` array, quoted and escaped. */
function idBytes(id: string): number {
  return PLAIN_ID.test(id) ? id.length + 2 : utf8Length(JSON.stringify(id));
}

/** `,"blocked":{}`: what the marks of a message's blocked lines add to its header at least. */
const BLOCKED_MARKS_BYTES = 13;

/** Header bytes marking line `index` blocked for `reason`, given the reasons marked so far. */
function markBytes(reason: string, index: number, marked: ReadonlySet<string>): number {
  const digits = String(index).length + 1;
  if (marked.has(reason)) return digits;
  // `"reason":[…]`, after a comma unless it is the first reason.
  return digits + utf8Length(JSON.stringify(reason)) + 3 + (marked.size > 0 ? 1 : 0);
}

/** Bytes an event adds to its message's header: its id (after a comma unless first), its mark. */
function headerBytes(event: PackEvent, index: number, marked: ReadonlySet<string>): number {
  const id = idBytes(event.messageId) + (index > 0 ? 1 : 0);
  if (event.blocked === undefined) return id;
  const braces = marked.size === 0 ? BLOCKED_MARKS_BYTES : 0;
  return id + markBytes(event.blocked, index, marked) + braces;
}

/** The events as packed (compacted when the request's facts are given), and header extras. */
function prepared(
  given: readonly PackEvent[],
  context: PackContext,
): { events: Sized[]; extra: { token?: string; sinks?: Sink[]; facts?: string[] } } {
  const facts = usedFacts(given, context);
  const factBytes = facts?.map(utf8Length) ?? [];
  const events = given.map((e) =>
    facts === undefined ? sized(e) : compacted(e, facts, factBytes),
  );
  const extra = {
    ...(context.token === undefined ? {} : { token: context.token }),
    ...(context.sinks === undefined ? {} : { sinks: [...context.sinks] }),
    ...(facts === undefined ? {} : { facts }),
  };
  return { events, extra };
}

/**
 * Greedy packing of events into message bodies of at most `targetBytes`, header (with its
 * `ids`, and the marks of blocked events) included, and, restored (version 1), of at most
 * QUEUE_MESSAGE_RESTORED_MAX_BYTES. An event that alone exceeds the target gets a message of
 * its own: events are never split. Callers bound an event's size (48 KiB queued) well below
 * the Queues maximum.
 */
export function packMessages(
  given: readonly PackEvent[],
  context: PackContext,
  targetBytes = QUEUE_MESSAGE_TARGET_BYTES,
): PackedMessage[] {
  const base = { source: context.source, receivedAt: context.receivedAt };
  const { events, extra } = prepared(given, context);
  // The header's size varies with the event count's digits and the ids; reserve for the most
  // digits, and count each id as it is added.
  const headerBase = utf8Length(
    encodeHeader({ ...base, events: events.length, ids: [], ...extra }),
  );
  const out: PackedMessage[] = [];
  let lines: string[] = [];
  let ids: string[] = [];
  let blocked: Record<string, number[]> = {};
  let marked = new Set<string>();
  /** Bytes of the lines with their "\n" (as sent, and restored), of their ids and marks. */
  let lineBytes = 0;
  let restoredBytes = 0;
  let idsBytes = 0;
  const flush = (): void => {
    if (lines.length === 0) return;
    const marks = marked.size > 0 ? { blocked } : {};
    const header = encodeHeader({ ...base, events: lines.length, ids, ...extra, ...marks });
    const body = `${header}${lines.join('\n')}\n`;
    out.push({ body, bytes: utf8Length(header) + lineBytes, events: lines.length });
    lines = [];
    ids = [];
    blocked = {};
    marked = new Set();
    lineBytes = 0;
    restoredBytes = 0;
    idsBytes = 0;
  };
  for (const event of events) {
    const line = event.bytes + 1;
    const restored = event.restored + 1;
    let id = headerBytes(event, lines.length, marked);
    const head = headerBase + idsBytes + id;
    const restoredOver = head + restoredBytes + restored > QUEUE_MESSAGE_RESTORED_MAX_BYTES;
    if (lines.length > 0 && (head + lineBytes + line > targetBytes || restoredOver)) {
      flush();
      // Counted again for the fresh message: its index and the marks' braces differ.
      id = headerBytes(event, 0, marked);
    }
    if (event.blocked !== undefined) {
      (blocked[event.blocked] ??= []).push(lines.length);
      marked.add(event.blocked);
    }
    lines.push(event.line);
    ids.push(event.messageId);
    lineBytes += line;
    restoredBytes += restored;
    idsBytes += id;
  }
  flush();
  return out;
}

/** What one delivered message passes on for forwarding: the lines it delivers. */
export interface CopyInput {
  /** Index of the message in its consumer batch. */
  index: number;
  source: string;
  receivedAt: number;
  /** The lines delivered, each ending in "\n". */
  ndjson: string;
  /** The messageId of each of those lines. */
  ids: readonly string[];
}

/** A copy for the forward queue, and the delivered messages whose lines it holds. */
export interface PackedCopy extends PackedMessage {
  indexes: number[];
}

/**
 * Copies of delivered messages for forwarding, re-packed per source into messages of at most
 * `targetBytes` (header included), so that the many small messages of single calls share a
 * copy, and its 64 KB queue operations. Messages are never split: a copy holds whole messages,
 * so whether its send went decides exactly its messages. A message alone over the target (at
 * most one event's worth) is a copy of its own. A copy's header carries the earliest
 * receivedAt of its messages (each event keeps its own in its line).
 */
export function packCopies(
  inputs: readonly CopyInput[],
  targetBytes = QUEUE_MESSAGE_TARGET_BYTES,
): PackedCopy[] {
  const bySource = new Map<string, CopyInput[]>();
  for (const input of inputs) {
    const list = bySource.get(input.source) ?? [];
    list.push(input);
    bySource.set(input.source, list);
  }
  const out: PackedCopy[] = [];
  for (const [source, list] of bySource) {
    let group: CopyInput[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (group.length === 0) return;
      const ids = group.flatMap((g) => g.ids);
      const header = encodeHeader({
        source,
        receivedAt: Math.min(...group.map((g) => g.receivedAt)),
        events: ids.length,
        ids,
      });
      const ndjson = group.map((g) => g.ndjson).join('');
      out.push({
        body: header + ndjson,
        bytes: utf8Length(header) + utf8Length(ndjson),
        events: ids.length,
        indexes: group.map((g) => g.index),
      });
      group = [];
      bytes = 0;
    };
    // The header's fixed part, counted once per copy; each message adds its lines and ids.
    const headerBase = utf8Length(
      encodeHeader({ source, receivedAt: Number.MAX_SAFE_INTEGER, events: 1e6, ids: [] }),
    );
    for (const input of list) {
      const size = utf8Length(input.ndjson) + input.ids.reduce((n, id) => n + idBytes(id) + 1, 0);
      if (group.length > 0 && headerBase + bytes + size > targetBytes) flush();
      group.push(input);
      bytes += size;
    }
    flush();
  }
  return out;
}

/** Messages grouped into sendBatch calls within the message-count and total-size limits. */
export function groupForSendBatch(
  messages: readonly PackedMessage[],
  maxMessages = QUEUE_SEND_BATCH_MAX_MESSAGES,
  maxBytes = QUEUE_SEND_BATCH_MAX_BYTES,
): PackedMessage[][] {
  const calls: PackedMessage[][] = [];
  let current: PackedMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.bytes + QUEUE_MESSAGE_OVERHEAD_BYTES;
    if (current.length > 0 && (current.length >= maxMessages || bytes + size > maxBytes)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}
