// What the debugger shows of one ingest request: the route fills an IngestTrace as it goes (the
// source once authenticated, the body as parsed, what ingest made of it, the refusal if any), and
// `capturedEvents` turns it into one entry per event, accepted or rejected. Pure.
//
// Never captured: headers (the Authorization header included), and the write key, removed from
// raw bodies (`writeKey` fields) and blanked wherever else its text appears.

import type { PlanOutcome } from '../plans/enforce';
import type { IngestError } from '../segment/errors';
import type { QueuedEvent, RejectedItem } from '../segment/ingest';
import { formatIsoTimestamp } from '../segment/timestamp';
import { isJsonObject, type EventType } from '../segment/types';
import { utf8Length } from '../segment/utf8';
import { DEBUGGER_PAYLOAD_MAX_BYTES, DEBUGGER_SCRUB_MIN_KEY_CHARS } from './limits';

export type CaptureStatus = 'accepted' | 'rejected';

/** A JSON value (what JSON.parse returns), so that payloads cross RPC typed. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface CaptureError {
  code: string;
  message: string;
  field?: string;
}

/** One event as the page and GET /debugger/events show it. */
export interface CapturedEvent {
  /** When the request was received, ISO-8601. */
  receivedAt: string;
  status: CaptureStatus;
  source: string;
  type: string | null;
  /** A track's `event`; a page's or screen's `name`; null otherwise. */
  event: string | null;
  messageId: string | null;
  error: CaptureError | null;
  /** The event as queued (accepted) or as received (rejected); a string when truncated. */
  payload: JsonValue;
  /** Whether `payload` is only the first DEBUGGER_PAYLOAD_MAX_BYTES of the JSON text. */
  truncated: boolean;
  /** UTF-8 bytes of the whole payload as JSON. */
  bytes: number;
}

/** What one ingest request did, recorded by the route as it goes. */
export interface IngestTrace {
  /** When the request was received, ms since the epoch. */
  receivedAt: number;
  /** The authenticated source; nothing is captured without it. */
  source?: string;
  /** The write key presented, only to blank it out of what is captured. */
  writeKey?: string;
  /** The body as text, when it was read but could not be parsed. */
  text?: string;
  /** A single call as parsed, and the type its route implies. */
  single?: { raw: unknown; pathType: EventType };
  /** A batch's items as parsed. */
  items?: readonly unknown[];
  /** What ingest made of the call or batch. */
  outcome?: { accepted: readonly QueuedEvent[]; rejected: readonly RejectedItem[] };
  /** Whether the accepted events reached the queue. */
  queued?: boolean;
  /**
   * What the source's tracking plan did to `outcome.accepted`, when it changed or blocked any:
   * the events as delivered (in order, blocked ones left out) and the blocked ones.
   */
  plan?: Pick<PlanOutcome, 'deliver' | 'blocked'>;
  /** The refusal of the whole request, when there was one. */
  error?: IngestError;
  /**
   * What the source's privacy policy made of `outcome.accepted` (src/privacy/): for each, the
   * event as it went on, or undefined when withheld (suppressed, refused by consent or
   * Sec-GPC: never captured); and whether payloads as received (rejected calls, bodies that
   * are not JSON) must be left out, which they are for a source with a policy or suppressions.
   */
  privacy?: {
    shown?: ReadonlyArray<QueuedEvent | undefined>;
    withholdRaw: boolean;
  };
}

export function newTrace(receivedAt: number): IngestTrace {
  return { receivedAt };
}

/**
 * Events of the request that were refused (the status page's `rejected`): every one of them
 * when the whole request was (at least one), else the batch's invalid items.
 */
export function rejectedEvents(trace: IngestTrace): number {
  if (trace.error !== undefined) return Math.max(1, trace.items?.length ?? 1);
  return trace.outcome?.rejected.length ?? 0;
}

const REDACTED = '[write key]';

/** A payload as received, left out for a source with a privacy policy or suppressions. */
const WITHHELD_PAYLOAD = {
  payload: '[withheld: the source has a privacy policy]',
  truncated: false,
  bytes: 0,
} as const;

/**
 * The fields a row shows. A rejected call may lack `type` (the route names it: `typeHint`) or
 * be of no known type, yet still carry the event's name, which is how a person finds the call
 * that failed: a page's or screen's `name`, or else any string `event`.
 */
function fieldsOf(
  value: unknown,
  typeHint?: string,
): {
  type: string | null;
  event: string | null;
  messageId: string | null;
} {
  if (!isJsonObject(value)) return { type: null, event: null, messageId: null };
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const type = text(value['type']);
  const kind = type ?? typeHint;
  const event = kind === 'page' || kind === 'screen' ? text(value['name']) : text(value['event']);
  return { type, event, messageId: text(value['messageId']) };
}

/** The value without its `writeKey` field (a shallow copy only when it has one). */
function withoutWriteKey(value: unknown): unknown {
  if (!isJsonObject(value) || !('writeKey' in value)) return value;
  const { writeKey: _writeKey, ...rest } = value;
  return rest;
}

/** The first `max` UTF-8 bytes of `text`, cut at a character boundary. */
export function utf8Prefix(text: string, max: number): string {
  if (text.length * 3 <= max) return text;
  let lo = 0;
  let hi = Math.min(text.length, max);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (utf8Length(text.slice(0, mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  // Never end on the first half of a surrogate pair.
  const last = text.charCodeAt(lo - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.slice(0, lo - 1) : text.slice(0, lo);
}

/**
 * The payload as shown: JSON text with the write key blanked, parsed back, or its first
 * DEBUGGER_PAYLOAD_MAX_BYTES as a string when it is larger. `json` is the text already made
 * (a queued line), or undefined to serialise `value`.
 */
export function shownPayload(
  value: unknown,
  json: string | undefined,
  writeKey: string | undefined,
): Pick<CapturedEvent, 'payload' | 'truncated' | 'bytes'> {
  let text: string;
  try {
    text = json ?? JSON.stringify(value) ?? 'null';
  } catch {
    return { payload: null, truncated: true, bytes: 0 };
  }
  if (writeKey !== undefined && writeKey.length >= DEBUGGER_SCRUB_MIN_KEY_CHARS) {
    // The key as it appears inside a JSON string, escapes included.
    const escaped = JSON.stringify(writeKey).slice(1, -1);
    if (text.includes(escaped)) text = text.split(escaped).join(REDACTED);
  }
  const bytes = utf8Length(text);
  if (bytes > DEBUGGER_PAYLOAD_MAX_BYTES) {
    return { payload: utf8Prefix(text, DEBUGGER_PAYLOAD_MAX_BYTES), truncated: true, bytes };
  }
  return { payload: JSON.parse(text) as JsonValue, truncated: false, bytes };
}

function errorOf(e: { code: string; message: string; field?: string }): CaptureError {
  return e.field === undefined
    ? { code: e.code, message: e.message }
    : { code: e.code, message: e.message, field: e.field };
}

const wireError = (e: IngestError): CaptureError =>
  errorOf({
    code: e.reason,
    message: e.message,
    ...(e.field === undefined ? {} : { field: e.field }),
  });

/** How many events the request carried, as far as the trace tells: what sampling counts. */
export function tracedEvents(trace: IngestTrace): number {
  return trace.items?.length ?? 1;
}

/**
 * One entry per event the request carried, in the order it carried them, the first `limit`
 * only: accepted events as queued, rejected ones as received with their error; a request refused
 * before its events could be told apart is one rejected entry (its body as text, when it had
 * one). Empty when the request never got a source.
 */
export function capturedEvents(trace: IngestTrace, limit = Infinity): CapturedEvent[] {
  const source = trace.source;
  if (source === undefined) return [];
  const receivedAt = formatIsoTimestamp(trace.receivedAt);
  const key = trace.writeKey;
  const withholdRaw = trace.privacy?.withholdRaw === true;
  const rejectedRaw = (raw: unknown, error: CaptureError, typeHint?: string): CapturedEvent => {
    const fields = fieldsOf(raw, typeHint);
    return {
      receivedAt,
      status: 'rejected',
      source,
      ...(withholdRaw ? { type: null, event: null, messageId: null } : fields),
      type: (withholdRaw ? null : fields.type) ?? typeHint ?? null,
      error,
      ...(withholdRaw ? WITHHELD_PAYLOAD : shownPayload(withoutWriteKey(raw), undefined, key)),
    };
  };
  // With a privacy policy, the k-th accepted event is captured as the policy left it, and not
  // at all when withheld; the plan's verdicts count only the events the policy kept.
  const shown = trace.privacy?.shown;
  let keptSoFar = 0;
  const kept = (k: number, queued: QueuedEvent): CapturedEvent | undefined => {
    const event = shown === undefined ? queued : shown[k];
    return event === undefined ? undefined : planned(keptSoFar++, event);
  };
  const accepted = (e: QueuedEvent): CapturedEvent => {
    // Parsed only here, when someone watches: the hot path keeps the line as text.
    const fields = fieldsOf(JSON.parse(e.line) as unknown);
    return {
      receivedAt,
      status: 'accepted',
      source,
      ...fields,
      type: e.type,
      messageId: e.messageId,
      error: null,
      ...shownPayload(undefined, e.line, key),
    };
  };
  // A tracking plan's verdict on the k-th accepted event: delivered as the plan left it
  // (annotated or with properties omitted), or blocked and archived.
  const blockedAt = new Map((trace.plan?.blocked ?? []).map((b) => [b.index, b]));
  let deliveredSoFar = 0;
  const planned = (k: number, queued: QueuedEvent): CapturedEvent => {
    const plan = trace.plan;
    if (plan === undefined) return accepted(queued);
    const blocked = blockedAt.get(k);
    if (blocked === undefined) return accepted(plan.deliver[deliveredSoFar++] ?? queued);
    const fields = fieldsOf(JSON.parse(blocked.line) as unknown);
    return {
      receivedAt,
      status: 'rejected',
      source,
      ...fields,
      type: blocked.type,
      messageId: blocked.messageId,
      error: {
        code: 'blocked',
        message: `kept from delivery by the tracking plan (${blocked.reason}); archived under blocked/`,
      },
      ...shownPayload(undefined, blocked.line, key),
    };
  };
  const refusal = trace.error === undefined ? undefined : wireError(trace.error);
  const delivered = trace.queued === true && refusal === undefined;
  const outcome = trace.outcome;

  if (trace.items !== undefined) {
    const own = new Map((outcome?.rejected ?? []).map((r) => [r.index, errorOf(r)]));
    const out: CapturedEvent[] = [];
    let next = 0;
    trace.items.forEach((item, index) => {
      if (out.length >= limit) return;
      const mine = own.get(index);
      if (mine !== undefined) {
        out.push(rejectedRaw(item, mine));
        return;
      }
      // Accepted items appear in `accepted` in item order.
      const k = next;
      const queued = outcome?.accepted[k];
      if (outcome !== undefined) next += 1;
      if (delivered && queued !== undefined) {
        const captured = kept(k, queued);
        if (captured !== undefined) out.push(captured);
      } else if (refusal !== undefined) out.push(rejectedRaw(item, refusal));
    });
    return out;
  }

  if (limit < 1) return [];
  if (trace.single !== undefined) {
    const queued = outcome?.accepted[0];
    if (delivered && queued !== undefined) {
      const captured = kept(0, queued);
      return captured === undefined ? [] : [captured];
    }
    if (refusal === undefined) return [];
    return [rejectedRaw(trace.single.raw, refusal, trace.single.pathType)];
  }

  if (refusal === undefined) return [];
  return [
    {
      receivedAt,
      status: 'rejected',
      source,
      type: null,
      event: null,
      messageId: null,
      error: refusal,
      ...(trace.text === undefined
        ? { payload: null, truncated: false, bytes: 0 }
        : withholdRaw
          ? WITHHELD_PAYLOAD
          : shownText(trace.text, key)),
    },
  ];
}

/** A body that is not JSON, shown as text (the write key blanked, cut at the limit). */
function shownText(
  text: string,
  writeKey: string | undefined,
): Pick<CapturedEvent, 'payload' | 'truncated' | 'bytes'> {
  let shown = text;
  if (writeKey !== undefined && writeKey.length >= DEBUGGER_SCRUB_MIN_KEY_CHARS) {
    shown = shown.split(writeKey).join(REDACTED);
  }
  const bytes = utf8Length(shown);
  return bytes > DEBUGGER_PAYLOAD_MAX_BYTES
    ? { payload: utf8Prefix(shown, DEBUGGER_PAYLOAD_MAX_BYTES), truncated: true, bytes }
    : { payload: shown, truncated: false, bytes };
}
