// Delivery planning and decisions for one consumer batch. Pure: messages in, Firehose calls out;
// call outcomes in, one decision per message out (ack, retry or dead-letter).

import {
  FIREHOSE_LIMITS,
  groupCalls,
  packRecords,
  streamFor,
  type FirehoseCall,
  type FirehoseRecord,
  type PackInput,
  type PackLimits,
} from '../firehose/pack';
import type { CallOutcome, RetryCause } from '../firehose/codec';

/** One message to deliver: its events (after deduplication) as NDJSON. */
export interface DeliveryInput extends PackInput {
  source: string;
}

export interface DeliveryPlan {
  calls: FirehoseCall[];
  /** Messages that can never be delivered as they are. */
  unsendable: Array<{ index: number; reason: string }>;
}

export function planDelivery(
  inputs: readonly DeliveryInput[],
  streams: readonly string[],
  limits: PackLimits = FIREHOSE_LIMITS,
): DeliveryPlan {
  const byStream = new Map<string, DeliveryInput[]>();
  for (const input of inputs) {
    const stream = streamFor(input.source, streams);
    let list = byStream.get(stream);
    if (list === undefined) {
      list = [];
      byStream.set(stream, list);
    }
    list.push(input);
  }
  const calls: FirehoseCall[] = [];
  const unsendable: DeliveryPlan['unsendable'] = [];
  for (const [stream, list] of byStream) {
    const { records, oversized } = packRecords(list, limits);
    for (const o of oversized)
      unsendable.push({ index: o.index, reason: 'message_larger_than_a_record' });
    calls.push(...groupCalls(stream, records, limits));
  }
  return { calls, unsendable };
}

function recordOf(inputs: readonly PackInput[]): FirehoseRecord {
  return {
    data: inputs.map((i) => i.ndjson).join(''),
    bytes: inputs.reduce((n, i) => n + i.bytes, 0),
    events: inputs.reduce((n, i) => n + i.events, 0),
    messages: inputs.map((i) => i.index),
  };
}

/**
 * The parts to send instead of a call Firehose refused for its size: its records in two calls,
 * or a lone record's messages in two records. Undefined when it holds a single message, which
 * cannot be split without splitting a message (and so a record's all-or-nothing result).
 */
export function splitCall(
  call: FirehoseCall,
  inputs: ReadonlyMap<number, PackInput>,
): FirehoseCall[] | undefined {
  const halve = <T>(items: readonly T[]): [T[], T[]] => {
    const mid = Math.ceil(items.length / 2);
    return [items.slice(0, mid), items.slice(mid)];
  };
  const callOf = (records: FirehoseRecord[]): FirehoseCall => ({
    stream: call.stream,
    records,
    bytes: records.reduce((n, r) => n + r.bytes, 0),
  });
  if (call.records.length > 1) return halve(call.records).map(callOf);
  const [record] = call.records;
  if (record === undefined || record.messages.length < 2) return undefined;
  const parts = record.messages.map((m) => inputs.get(m));
  if (parts.some((p) => p === undefined)) return undefined;
  return halve(parts as PackInput[]).map((half) => callOf([recordOf(half)]));
}

/**
 * Why a message is retried: a call's or record's cause, the dedupe gate's, the forward queue's
 * refusal of its copy, or R2's of its blocked events (then nothing was sent to Firehose).
 */
export type RetryReason =
  RetryCause | 'held' | 'dedupe_unavailable' | 'forward_unavailable' | 'archive_unavailable';

export type Decision =
  | { kind: 'ack'; stream: string }
  | { kind: 'retry'; code: string; cause: RetryReason }
  | { kind: 'dead'; reason: string };

export interface SentCall {
  call: FirehoseCall;
  outcome: CallOutcome;
}

/** One decision per message index: every message lies in exactly one record of one call. */
export function decide(
  sent: readonly SentCall[],
  unsendable: DeliveryPlan['unsendable'],
): Map<number, Decision> {
  const decisions = new Map<number, Decision>();
  for (const u of unsendable) decisions.set(u.index, { kind: 'dead', reason: u.reason });
  for (const { call, outcome } of sent) {
    call.records.forEach((record, r) => {
      let decision: Decision;
      if (outcome.kind === 'retry') {
        decision = { kind: 'retry', code: outcome.code, cause: outcome.cause };
      } else if (outcome.kind === 'fatal') {
        decision = { kind: 'dead', reason: outcome.code };
      } else if (outcome.kind === 'too_large') {
        decision = { kind: 'dead', reason: `message_too_large_for_firehose: ${outcome.code}` };
      } else {
        const result = outcome.records[r];
        if (result === undefined) {
          decision = { kind: 'retry', code: 'MissingResult', cause: 'ambiguous' };
        } else if (result.ok) {
          decision = { kind: 'ack', stream: call.stream };
        } else if (result.retryable) {
          decision = { kind: 'retry', code: result.code, cause: 'transient' };
        } else {
          decision = { kind: 'dead', reason: result.code };
        }
      }
      for (const index of record.messages) decisions.set(index, decision);
    });
  }
  return decisions;
}
