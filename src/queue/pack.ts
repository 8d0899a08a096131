// Packing serialised events into queue messages and messages into sendBatch calls. Pure.

import { utf8Length } from '../segment/utf8';
import { encodeHeader } from './message';
import {
  QUEUE_MESSAGE_OVERHEAD_BYTES,
  QUEUE_MESSAGE_TARGET_BYTES,
  QUEUE_SEND_BATCH_MAX_BYTES,
  QUEUE_SEND_BATCH_MAX_MESSAGES,
} from './limits';

export interface PackedMessage {
  body: string;
  bytes: number;
  events: number;
}

/**
 * Greedy packing of NDJSON lines (without their "\n") into message bodies of at most
 * `targetBytes`, header included. A line that alone exceeds the target gets a message of its
 * own: events are never split. Callers bound a line's size (32 KiB per event) well below the
 * Queues message maximum.
 */
export function packMessages(
  lines: readonly string[],
  source: string,
  receivedAt: number,
  targetBytes = QUEUE_MESSAGE_TARGET_BYTES,
  /** UTF-8 sizes of `lines` when the caller already measured them. */
  lineBytes?: readonly number[],
): PackedMessage[] {
  // The header's size varies only with the event count's digits; reserve for the largest.
  const headerReserve = utf8Length(encodeHeader({ source, receivedAt, events: lines.length }));
  const out: PackedMessage[] = [];
  let chunk: string[] = [];
  let chunkBytes = 0;
  const flush = (): void => {
    if (chunk.length === 0) return;
    const header = encodeHeader({ source, receivedAt, events: chunk.length });
    // chunkBytes counts each line plus its newline: exactly the body after the header.
    out.push({
      body: header + chunk.join('\n') + '\n',
      bytes: utf8Length(header) + chunkBytes,
      events: chunk.length,
    });
    chunk = [];
    chunkBytes = 0;
  };
  lines.forEach((line, i) => {
    const size = (lineBytes?.[i] ?? utf8Length(line)) + 1;
    if (chunk.length > 0 && headerReserve + chunkBytes + size > targetBytes) flush();
    chunk.push(line);
    chunkBytes += size;
  });
  flush();
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
