// Delivery efficiency model: a realistic request mix run through the real producer packer
// (src/queue/pack.ts, via traffic.ts) and the real consumer packers (src/firehose/pack.ts),
// counting queue messages and operations, Firehose records, calls and billed bytes per event.
// Compared with the seed's approach: one message and one Firehose record per event. Pure.

import { groupCalls, packRecords, type PackInput } from '../src/firehose/pack';
import { FIREHOSE_BILLING_INCREMENT_BYTES } from '../src/firehose/limits';
import { decodeMessage } from '../src/queue/message';
import { packCopies, type CopyInput } from '../src/queue/pack';
import { utf8Length } from '../src/segment/utf8';
import {
  QUEUE_MAX_CONSUMER_BATCH_MESSAGES,
  QUEUES_MESSAGE_METADATA_BYTES,
  QUEUES_OPERATION_UNIT_BYTES,
} from './prices';
import type { ModelRequest } from './traffic';

const STREAM = 'ndc-segment';

export interface DeliveryFigures {
  label: string;
  /** For narrow table columns. */
  short: string;
  events: number;
  requests: number;
  /** Mean NDJSON bytes per event (the event's line and its "\n"). */
  bytesPerEvent: number;
  messages: number;
  consumerBatches: number;
  records: number;
  calls: number;
  /** NDJSON bytes Firehose receives, and what it bills (each record rounded up to 5 KiB). */
  rawBytes: number;
  billedBytes: number;
  /** Queue operations at 0% retries: write + read + delete, 64,000-byte units per message. */
  queueOps: number;
  /**
   * Forwarding every source: copies on the forward queue (each consumer batch's messages
   * re-packed per source, src/queue/pack.ts packCopies) and their queue operations.
   */
  forwardCopies: number;
  forwardQueueOps: number;
  /**
   * Events of one-event requests: ingest sends each to the queue of its dedupe shard when the
   * events queues divide DEDUPE_SHARDS (src/queue/producer.ts pickQueue); 0 where not modelled.
   */
  shardRoutedEvents: number;
  perEvent: {
    requests: number;
    messages: number;
    records: number;
    calls: number;
    consumerInvocations: number;
    billedBytes: number;
  };
  eventsPerMessage: number;
  eventsPerRecord: number;
  eventsPerCall: number;
  billedOverRaw: number;
  /** Queue operations per event, by retry rate. */
  queueOpsPerEvent: Record<string, number>;
}

/** Operations one message costs for each of write, read and delete. */
export function queueUnits(messageBytes: number): number {
  return Math.ceil((messageBytes + QUEUES_MESSAGE_METADATA_BYTES) / QUEUES_OPERATION_UNIT_BYTES);
}

export function billedRecordBytes(recordBytes: number): number {
  return (
    Math.ceil(recordBytes / FIREHOSE_BILLING_INCREMENT_BYTES) * FIREHOSE_BILLING_INCREMENT_BYTES
  );
}

/**
 * Expected deliveries of a message when each attempt fails with probability `retryRate`
 * (geometric: 1 + r + r² + …). Each costs one read per 64 KB unit; the write and the final
 * delete happen once.
 */
export function attempts(retryRate: number): number {
  return 1 / (1 - retryRate);
}

function opsPerEvent(
  unitsPerMessageTotal: number,
  events: number,
  retryRates: readonly number[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of retryRates) {
    out[retryKey(r)] = (unitsPerMessageTotal * (2 + attempts(r))) / events;
  }
  return out;
}

export function retryKey(rate: number): string {
  return `retry_${Math.round(rate * 100)}pct`;
}

function finish(
  base: Omit<
    DeliveryFigures,
    | 'perEvent'
    | 'eventsPerMessage'
    | 'eventsPerRecord'
    | 'eventsPerCall'
    | 'billedOverRaw'
    | 'queueOpsPerEvent'
    | 'bytesPerEvent'
  >,
  units: number,
  retryRates: readonly number[],
): DeliveryFigures {
  const e = base.events;
  return {
    ...base,
    bytesPerEvent: base.rawBytes / e,
    perEvent: {
      requests: base.requests / e,
      messages: base.messages / e,
      records: base.records / e,
      calls: base.calls / e,
      consumerInvocations: base.consumerBatches / e,
      billedBytes: base.billedBytes / e,
    },
    eventsPerMessage: e / base.messages,
    eventsPerRecord: e / base.records,
    eventsPerCall: e / base.calls,
    billedOverRaw: base.billedBytes / base.rawBytes,
    queueOpsPerEvent: opsPerEvent(units, e, retryRates),
  };
}

/** Ours: the producer's messages, consumed `batchSize` at a time, packed as the consumer does. */
export function modelOurs(
  requests: readonly ModelRequest[],
  retryRates: readonly number[],
  batchSize = QUEUE_MAX_CONSUMER_BATCH_MESSAGES,
): DeliveryFigures {
  const bodies = requests.flatMap((r) => r.messages.map((m) => m.body));
  let events = 0;
  let records = 0;
  let calls = 0;
  let rawBytes = 0;
  let billedBytes = 0;
  let units = 0;
  let consumerBatches = 0;
  let forwardCopies = 0;
  let forwardUnits = 0;
  for (let start = 0; start < bodies.length; start += batchSize) {
    consumerBatches += 1;
    const inputs: PackInput[] = [];
    const copies: CopyInput[] = [];
    bodies.slice(start, start + batchSize).forEach((body, index) => {
      const decoded = decodeMessage(body);
      if (decoded === undefined) throw new Error('the producer wrote a message we cannot decode');
      units += queueUnits(utf8Length(body));
      inputs.push({
        index,
        ndjson: decoded.ndjson,
        bytes: utf8Length(decoded.ndjson),
        events: decoded.header.events,
      });
      copies.push({
        index,
        source: decoded.header.source,
        receivedAt: decoded.header.receivedAt,
        ndjson: decoded.ndjson,
        ids: decoded.header.ids ?? [],
      });
    });
    for (const copy of packCopies(copies)) {
      forwardCopies += 1;
      forwardUnits += queueUnits(copy.bytes);
    }
    const packed = packRecords(inputs);
    if (packed.oversized.length > 0) throw new Error('a message does not fit a Firehose record');
    for (const call of groupCalls(STREAM, packed.records)) {
      calls += 1;
      for (const record of call.records) {
        records += 1;
        events += record.events;
        rawBytes += record.bytes;
        billedBytes += billedRecordBytes(record.bytes);
      }
    }
  }
  return finish(
    {
      label: `ours (consumer batches of ${batchSize})`,
      short:
        batchSize === QUEUE_MAX_CONSUMER_BATCH_MESSAGES ? 'ours' : `ours, batches of ${batchSize}`,
      events,
      requests: requests.length,
      messages: bodies.length,
      consumerBatches,
      records,
      calls,
      rawBytes,
      billedBytes,
      queueOps: units * 3,
      forwardCopies,
      forwardQueueOps: forwardUnits * 3,
      shardRoutedEvents: requests.filter((r) => r.lines.length === 1).length,
    },
    units,
    retryRates,
  );
}

/**
 * The seed's approach on this platform: every event its own queue message and its own
 * Firehose record (brightsparc/segment delivery.go appends "\n" to each event and sends one
 * record per event); a consumer batch of 100 messages becomes one PutRecordBatch.
 */
export function modelSeed(
  requests: readonly ModelRequest[],
  retryRates: readonly number[],
  batchSize = QUEUE_MAX_CONSUMER_BATCH_MESSAGES,
): DeliveryFigures {
  const lines = requests.flatMap((r) => r.lines);
  let rawBytes = 0;
  let billedBytes = 0;
  let units = 0;
  for (const line of lines) {
    const bytes = utf8Length(line) + 1;
    rawBytes += bytes;
    billedBytes += billedRecordBytes(bytes);
    units += queueUnits(bytes);
  }
  const consumerBatches = Math.ceil(lines.length / batchSize);
  return finish(
    {
      label: 'seed-style (1 message, 1 record per event)',
      short: 'seed-style',
      events: lines.length,
      requests: requests.length,
      messages: lines.length,
      consumerBatches,
      records: lines.length,
      calls: consumerBatches,
      rawBytes,
      billedBytes,
      queueOps: units * 3,
      // Had the seed forwarded, one copy per message.
      forwardCopies: lines.length,
      forwardQueueOps: units * 3,
      // The seed had no deduplication to route by.
      shardRoutedEvents: 0,
    },
    units,
    retryRates,
  );
}
