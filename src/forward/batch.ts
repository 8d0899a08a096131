// Packing forwarded events into /v1/batch calls, and what the calls' outcomes mean for each
// queue message. Pure: messages in, request bodies out; outcomes in, one decision per message.
//
// A call carries one source (it is authenticated with that source's destination write key), at
// most FORWARD_MAX_BODY_BYTES of body and FORWARD_MAX_EVENTS_PER_CALL events. A message's events
// stay in one call whenever they fit one (they always do: a queue message is at most 128 KB), so
// one call's answer decides the ack or retry of whole messages and a retry resends nothing that
// another call delivered. An event the destination would refuse (over FORWARD_MAX_EVENT_BYTES,
// or not a JSON object) is left out of the calls and named in `refused` with its reason: the
// consumer dead-letters it (archived under forward-dead-letters/), never acks it unsent.

import { utf8Length } from '../segment/utf8';
import type { ForwardCallOutcome, ForwardRetryCause } from './codec';
import { destinationEvent } from './event';
import {
  FORWARD_MAX_BODY_BYTES,
  FORWARD_MAX_EVENT_BYTES,
  FORWARD_MAX_EVENTS_PER_CALL,
} from './limits';

export interface ForwardLimits {
  maxBodyBytes: number;
  maxEventBytes: number;
  maxEvents: number;
}

export const FORWARD_LIMITS: ForwardLimits = {
  maxBodyBytes: FORWARD_MAX_BODY_BYTES,
  maxEventBytes: FORWARD_MAX_EVENT_BYTES,
  maxEvents: FORWARD_MAX_EVENTS_PER_CALL,
};

/** One queue message to forward. */
export interface ForwardInput {
  /** Index of the message in its consumer batch. */
  index: number;
  source: string;
  /** Its events, one JSON line each (without "\n"). */
  lines: readonly string[];
}

export interface ForwardCall {
  source: string;
  /** `{"batch":[…]}`, ready to post. */
  body: string;
  bytes: number;
  events: number;
  /** The messages with events in this call. */
  messages: number[];
}

export type RefusalReason = 'event_too_large' | 'not_a_json_object';

/** A line no call carries, why, and its size as the destination would get it. */
export interface RefusedLine {
  line: number;
  reason: RefusalReason;
  bytes?: number;
}

export interface ForwardPlan {
  calls: ForwardCall[];
  /** Per message, the lines left out of every call and why (dead-lettered, never sent). */
  refused: Map<number, RefusedLine[]>;
  /** Messages of sources without a destination write key. */
  unkeyed: number[];
}

const OPEN = '{"batch":[';
const CLOSE = ']}';
const ENVELOPE_BYTES = OPEN.length + CLOSE.length;

interface Pending {
  events: string[];
  bytes: number;
  messages: Set<number>;
}

/** A message's lines as the destination gets them; each one it would refuse is passed on. */
function destinationEvents(
  input: ForwardInput,
  limits: ForwardLimits,
  refuse: (index: number, entry: RefusedLine) => void,
): Array<{ json: string; bytes: number }> {
  const events: Array<{ json: string; bytes: number }> = [];
  input.lines.forEach((line, i) => {
    const json = destinationEvent(line);
    if (json === undefined) return refuse(input.index, { line: i, reason: 'not_a_json_object' });
    const bytes = utf8Length(json);
    if (bytes > limits.maxEventBytes)
      return refuse(input.index, { line: i, reason: 'event_too_large', bytes });
    events.push({ json, bytes });
  });
  return events;
}

/** The inputs of sources with a write key, by source; the others' indexes into `unkeyed`. */
function bySource(
  inputs: readonly ForwardInput[],
  writeKeys: ReadonlyMap<string, string>,
  unkeyed: number[],
): Map<string, ForwardInput[]> {
  const out = new Map<string, ForwardInput[]>();
  for (const input of inputs) {
    if (!writeKeys.has(input.source)) {
      unkeyed.push(input.index);
      continue;
    }
    const list = out.get(input.source) ?? [];
    list.push(input);
    out.set(input.source, list);
  }
  return out;
}

export function planForward(
  inputs: readonly ForwardInput[],
  writeKeys: ReadonlyMap<string, string>,
  limits: ForwardLimits = FORWARD_LIMITS,
): ForwardPlan {
  const calls: ForwardCall[] = [];
  const refused: ForwardPlan['refused'] = new Map();
  const unkeyed: number[] = [];
  const refuse = (index: number, entry: RefusedLine): void => {
    const list = refused.get(index) ?? [];
    list.push(entry);
    refused.set(index, list);
  };
  for (const [source, list] of bySource(inputs, writeKeys, unkeyed)) {
    let pending: Pending = { events: [], bytes: ENVELOPE_BYTES, messages: new Set() };
    const flush = (): void => {
      if (pending.events.length === 0) return;
      const body = `${OPEN}${pending.events.join(',')}${CLOSE}`;
      calls.push({
        source,
        body,
        bytes: pending.bytes,
        events: pending.events.length,
        messages: [...pending.messages],
      });
      pending = { events: [], bytes: ENVELOPE_BYTES, messages: new Set() };
    };
    // Bytes `events` add to a call: each, and a comma before all but a call's first.
    const added = (bytes: number, count: number): number =>
      bytes + count - (pending.events.length === 0 ? 1 : 0);
    const fits = (bytes: number, count: number): boolean =>
      pending.bytes + added(bytes, count) <= limits.maxBodyBytes &&
      pending.events.length + count <= limits.maxEvents;
    for (const input of list) {
      const events = destinationEvents(input, limits, refuse);
      if (events.length === 0) continue;
      const total = events.reduce((n, e) => n + e.bytes, 0);
      // The message whole in a fresh call, unless it fits the current one.
      if (!fits(total, events.length)) flush();
      for (const e of events) {
        // Only a message too large for any call gets here with a call that is full.
        if (!fits(e.bytes, 1)) flush();
        pending.bytes += added(e.bytes, 1);
        pending.events.push(e.json);
        pending.messages.add(input.index);
      }
    }
    flush();
  }
  return { calls, refused, unkeyed };
}

/** The dead-letter reason of a message's refused lines, e.g. `event_too_large: 40960 bytes…`. */
export function refusalReason(lines: readonly RefusedLine[], limits = FORWARD_LIMITS): string {
  const reasons = new Set<string>();
  for (const l of lines) {
    reasons.add(
      l.reason === 'event_too_large'
        ? `event_too_large: ${l.bytes ?? 0} bytes, over the destination's ${limits.maxEventBytes}`
        : 'not_a_json_object: the destination takes JSON objects only',
    );
  }
  return [...reasons].join('; ');
}

export type ForwardDecision =
  | { kind: 'ack' }
  | { kind: 'retry'; code: string; cause: ForwardRetryCause; delaySeconds?: number }
  | { kind: 'dead'; reason: string };

export interface SentForwardCall {
  call: ForwardCall;
  outcome: ForwardCallOutcome;
}

/**
 * One decision per message: acked when every call holding its events delivered them (or it
 * had none to send); dead-lettered when one was refused for good; else retried, after the
 * longest Retry-After any of its calls was given. A message of a source without a write key is
 * retried: the operator can add the key (FORWARD_WRITE_KEYS) before its last attempt.
 */
export function decideForward(
  indexes: readonly number[],
  plan: ForwardPlan,
  sent: readonly SentForwardCall[],
): Map<number, ForwardDecision> {
  const decisions = new Map<number, ForwardDecision>(
    indexes.map((i): [number, ForwardDecision] => [i, { kind: 'ack' }]),
  );
  for (const index of plan.unkeyed) {
    decisions.set(index, { kind: 'retry', code: 'NoWriteKey', cause: 'not_configured' });
  }
  for (const { call, outcome } of sent) {
    for (const index of call.messages) {
      const current = decisions.get(index) ?? { kind: 'ack' };
      if (outcome.kind === 'ok' || current.kind === 'dead') continue;
      if (outcome.kind === 'dead') {
        decisions.set(index, { kind: 'dead', reason: outcome.reason });
        continue;
      }
      const delay = Math.max(
        current.kind === 'retry' ? (current.delaySeconds ?? 0) : 0,
        outcome.delaySeconds ?? 0,
      );
      decisions.set(index, {
        kind: 'retry',
        code: outcome.code,
        cause: outcome.cause,
        ...(delay > 0 ? { delaySeconds: delay } : {}),
      });
    }
  }
  return decisions;
}
