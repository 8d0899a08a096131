// Delivery planning and decisions for one consumer batch. Pure: message bodies in, Firehose
// calls out; call outcomes in, one decision per message out (ack, retry or dead-letter).

import {
  groupCalls,
  packRecords,
  streamFor,
  type FirehoseCall,
  type PackInput,
} from '../firehose/pack';
import type { CallOutcome } from '../firehose/codec';
import { utf8Length } from '../segment/utf8';
import { decodeMessage, type DecodedMessage } from './message';

export interface DeliveryPlan {
  /** Decoded messages by batch index; undefined where the body is not ours. */
  decoded: Array<DecodedMessage | undefined>;
  calls: FirehoseCall[];
  /** Messages that can never be delivered as they are. */
  unsendable: Array<{ index: number; reason: string }>;
}

export function planDelivery(bodies: readonly unknown[], streams: readonly string[]): DeliveryPlan {
  const decoded = bodies.map((b) => decodeMessage(b));
  const unsendable: DeliveryPlan['unsendable'] = [];
  const byStream = new Map<string, PackInput[]>();
  decoded.forEach((m, index) => {
    if (m === undefined) {
      unsendable.push({ index, reason: 'undecodable_message' });
      return;
    }
    const stream = streamFor(m.header.source, streams);
    let inputs = byStream.get(stream);
    if (inputs === undefined) {
      inputs = [];
      byStream.set(stream, inputs);
    }
    inputs.push({ index, ndjson: m.ndjson, bytes: utf8Length(m.ndjson), events: m.header.events });
  });
  const calls: FirehoseCall[] = [];
  for (const [stream, inputs] of byStream) {
    const { records, oversized } = packRecords(inputs);
    for (const o of oversized)
      unsendable.push({ index: o.index, reason: 'message_larger_than_a_record' });
    calls.push(...groupCalls(stream, records));
  }
  return { decoded, calls, unsendable };
}

export type Decision =
  | { kind: 'ack'; stream: string }
  | { kind: 'retry'; code: string }
  | { kind: 'dead'; reason: string };

/** One decision per message index: every message lies in exactly one record of one call. */
export function decide(
  plan: DeliveryPlan,
  outcomes: readonly CallOutcome[],
): Map<number, Decision> {
  const decisions = new Map<number, Decision>();
  for (const u of plan.unsendable) decisions.set(u.index, { kind: 'dead', reason: u.reason });
  plan.calls.forEach((call, i) => {
    const outcome = outcomes[i];
    call.records.forEach((record, r) => {
      let decision: Decision;
      if (outcome === undefined) decision = { kind: 'retry', code: 'NotSent' };
      else if (outcome.kind === 'retry') decision = { kind: 'retry', code: outcome.code };
      else if (outcome.kind === 'fatal') decision = { kind: 'dead', reason: outcome.code };
      else {
        const result = outcome.records[r];
        if (result === undefined) decision = { kind: 'retry', code: 'MissingResult' };
        else if (result.ok) decision = { kind: 'ack', stream: call.stream };
        else if (result.retryable) decision = { kind: 'retry', code: result.code };
        else decision = { kind: 'dead', reason: result.code };
      }
      for (const index of record.messages) decisions.set(index, decision);
    });
  });
  return decisions;
}
