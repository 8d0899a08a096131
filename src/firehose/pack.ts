// Packing queue messages into Firehose records, and records into PutRecordBatch calls. Pure.
// A record holds many whole messages and each message lies in exactly one record, so a
// record's result decides its messages' ack or retry without duplicating any event.

import {
  FIREHOSE_MAX_CALL_BYTES,
  FIREHOSE_MAX_RECORD_BYTES,
  FIREHOSE_MAX_RECORDS_PER_CALL,
} from './limits';

/** One queue message's events, ready to pack. */
export interface PackInput {
  /** Index of the message in the consumer batch. */
  index: number;
  /** The message's events as NDJSON, every line ending in "\n". */
  ndjson: string;
  /** UTF-8 size of `ndjson`. */
  bytes: number;
  events: number;
}

export interface FirehoseRecord {
  /** Concatenated NDJSON of the messages below. */
  data: string;
  bytes: number;
  events: number;
  /** Batch indexes of the messages this record carries. */
  messages: number[];
}

export interface FirehoseCall {
  stream: string;
  /** The AWS region it is signed for and sent to: its source's route's ('' = AWS_REGION). */
  region?: string;
  records: FirehoseRecord[];
  bytes: number;
}

export interface PackLimits {
  maxRecordBytes: number;
  maxRecordsPerCall: number;
  maxCallBytes: number;
}

export const FIREHOSE_LIMITS: PackLimits = {
  maxRecordBytes: FIREHOSE_MAX_RECORD_BYTES,
  maxRecordsPerCall: FIREHOSE_MAX_RECORDS_PER_CALL,
  maxCallBytes: FIREHOSE_MAX_CALL_BYTES,
};

/**
 * Greedy, order-preserving packing of messages into records of at most `maxRecordBytes`.
 * A message larger than that cannot be sent without splitting it and is returned in
 * `oversized` instead (queue messages are at most 128 KB, so this only guards the invariant).
 */
export function packRecords(
  inputs: readonly PackInput[],
  limits: PackLimits = FIREHOSE_LIMITS,
): { records: FirehoseRecord[]; oversized: PackInput[] } {
  const records: FirehoseRecord[] = [];
  const oversized: PackInput[] = [];
  let parts: string[] = [];
  let current: FirehoseRecord | undefined;
  const close = (): void => {
    if (current === undefined) return;
    current.data = parts.join('');
    records.push(current);
    current = undefined;
    parts = [];
  };
  for (const input of inputs) {
    if (input.bytes > limits.maxRecordBytes) {
      oversized.push(input);
      continue;
    }
    if (current !== undefined && current.bytes + input.bytes > limits.maxRecordBytes) close();
    current ??= { data: '', bytes: 0, events: 0, messages: [] };
    parts.push(input.ndjson);
    current.bytes += input.bytes;
    current.events += input.events;
    current.messages.push(input.index);
  }
  close();
  return { records, oversized };
}

/** Records grouped into calls within the per-call record count and byte limits. */
export function groupCalls(
  stream: string,
  records: readonly FirehoseRecord[],
  limits: PackLimits = FIREHOSE_LIMITS,
): FirehoseCall[] {
  const calls: FirehoseCall[] = [];
  let current: FirehoseCall | undefined;
  for (const record of records) {
    if (
      current !== undefined &&
      (current.records.length >= limits.maxRecordsPerCall ||
        current.bytes + record.bytes > limits.maxCallBytes)
    ) {
      calls.push(current);
      current = undefined;
    }
    current ??= { stream, records: [], bytes: 0 };
    current.records.push(record);
    current.bytes += record.bytes;
  }
  if (current !== undefined) calls.push(current);
  return calls;
}

/** FIREHOSE_STREAM: one name or a comma-separated list. */
export function parseStreams(spec: string | undefined): string[] {
  return (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
