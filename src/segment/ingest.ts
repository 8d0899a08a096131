// Ingest of single calls and batches: validate, size-check and enrich. Pure: parsed JSON and
// request facts in, enriched events (and per-item rejections) out.

import type { Sink } from '../privacy/policy';
import { enrichEvent, type BatchDefaults, type EnrichOptions, type RequestFacts } from './enrich';
import { ingestError, type IngestError, type IngestReason } from './errors';
import {
  BATCH_DEFAULTS_MAX_BYTES,
  BATCH_MAX_EVENTS,
  EVENT_MAX_BYTES,
  QUEUED_EVENT_MAX_BYTES,
  QUEUED_REQUEST_MAX_BYTES,
} from './limits';
import { parseIsoTimestamp } from './timestamp';
import { err, isJsonObject, ok, type EventType, type JsonObject, type Result } from './types';
import { utf8Length } from './utf8';
import { validateEvent } from './validate';

export interface RejectedItem {
  index: number;
  code: IngestReason;
  message: string;
  field?: string;
}

/**
 * An event ready for the queue: its NDJSON line (no newline), its type and its messageId, and
 * the enriched object the line was made from (so a later check, a tracking plan, reads it
 * without parsing the line again; it must not be mutated, or the line no longer says it).
 */
export interface QueuedEvent {
  line: string;
  /** UTF-8 size of `line`. */
  bytes: number;
  type: EventType;
  /** The event's messageId (the client's, or the one enrichment gave it): the dedupe key. */
  messageId: string;
  event: JsonObject;
  /**
   * The sinks it may reach when its consent (src/privacy/) restricts them; undefined: every sink.
   * Carried to the queue message's header (src/queue/message.ts `sinks`).
   */
  sinks?: readonly Sink[];
}

export interface BatchOutcome {
  accepted: QueuedEvent[];
  rejected: RejectedItem[];
  /** UTF-8 bytes of the accepted lines together. */
  queuedBytes: number;
}

const UNSERIALISABLE = 'the event cannot be serialised (nesting too deep)';

/** JSON.stringify that reports a failure (a stack overflow on deep nesting) instead of throwing. */
function stringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    // V8 serialises recursively: a structure nested deeper than the runtime's stack throws a
    // RangeError. Where the stack is smaller than workerd's locally, fewer levels suffice.
    return undefined;
  }
}

/**
 * The enriched event as one JSON line, refused when it is larger than an event may be once
 * enriched (QUEUED_EVENT_MAX_BYTES), or when serialising it fails (pathologically deep nesting).
 */
export function serializeEvent(
  event: JsonObject,
  type: EventType,
): Result<QueuedEvent, IngestError> {
  const line = stringify(event);
  if (line === undefined) return err(ingestError('invalid_body', UNSERIALISABLE));
  const bytes = utf8Length(line);
  if (bytes > QUEUED_EVENT_MAX_BYTES) {
    return err(
      ingestError(
        'event_too_large',
        `an event with its enrichment is at most ${QUEUED_EVENT_MAX_BYTES} bytes`,
      ),
    );
  }
  return ok({ line, bytes, type, messageId: String(event['messageId']), event });
}

/** The parsed `{batch, context?, integrations?, sentAt?, writeKey?}` envelope. */
export interface BatchEnvelope extends BatchDefaults {
  items: unknown[];
  writeKey?: string;
}

/** The writeKey a call or batch carries in its body, if it is a non-empty string. */
export function bodyWriteKey(raw: unknown): string | undefined {
  if (!isJsonObject(raw)) return undefined;
  const key = raw['writeKey'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

export function ingestSingle(
  raw: unknown,
  pathType: EventType,
  facts: RequestFacts,
  opts: EnrichOptions,
): Result<QueuedEvent, IngestError> {
  const valid = validateEvent(raw, pathType);
  if (!valid.ok) return valid;
  return serializeEvent(enrichEvent(valid.value, facts, opts), valid.value.type);
}

export function parseBatchEnvelope(raw: unknown): Result<BatchEnvelope, IngestError> {
  if (!isJsonObject(raw)) return err(ingestError('invalid_body', 'a batch must be a JSON object'));
  const items = raw['batch'];
  if (items === undefined) return err(ingestError('missing_field', 'batch is required', '.batch'));
  if (!Array.isArray(items))
    return err(ingestError('invalid_field', 'batch must be an array', '.batch'));
  if (items.length === 0)
    return err(ingestError('invalid_field', 'batch must not be empty', '.batch'));
  if (items.length > BATCH_MAX_EVENTS) {
    return err(
      ingestError('too_many_events', `a batch holds at most ${BATCH_MAX_EVENTS} events`, '.batch'),
    );
  }
  const envelope: BatchEnvelope = { items };
  for (const key of ['context', 'integrations'] as const) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (!isJsonObject(value))
      return err(ingestError('invalid_field', `${key} must be an object`, `.${key}`));
    envelope[key] = value;
  }
  const defaults = stringify([envelope.context ?? null, envelope.integrations ?? null]);
  if (defaults === undefined) {
    return err(
      ingestError(
        'invalid_field',
        `the batch's context or integrations: ${UNSERIALISABLE}`,
        '.context',
      ),
    );
  }
  if (utf8Length(defaults) > BATCH_DEFAULTS_MAX_BYTES) {
    return err(
      ingestError(
        'payload_too_large',
        `a batch's top-level context and integrations are at most ${BATCH_DEFAULTS_MAX_BYTES} bytes together`,
        '.context',
      ),
    );
  }
  const sentAt = raw['sentAt'];
  if (sentAt !== undefined && sentAt !== null) {
    const sentAtMs = typeof sentAt === 'string' ? parseIsoTimestamp(sentAt) : undefined;
    if (sentAtMs === undefined) {
      return err(
        ingestError('invalid_timestamp', 'sentAt must be an ISO-8601 timestamp', '.sentAt'),
      );
    }
    envelope.sentAt = sentAt as string;
    envelope.sentAtMs = sentAtMs;
  }
  const writeKey = bodyWriteKey(raw);
  if (writeKey !== undefined) envelope.writeKey = writeKey;
  return ok(envelope);
}

/**
 * Each item validated and enriched on its own: good items are kept, bad ones reported by
 * index, and one item that cannot even be measured is rejected alone. `bodyBytes` is the whole
 * body's size; when it is within the per-event limit no item can exceed it, so items are only
 * measured when it is not. The whole batch is refused when its accepted items would put more
 * than QUEUED_REQUEST_MAX_BYTES on the queue.
 */
export function ingestBatch(
  envelope: BatchEnvelope,
  bodyBytes: number,
  facts: RequestFacts,
  opts: EnrichOptions,
): Result<BatchOutcome, IngestError> {
  const accepted: QueuedEvent[] = [];
  const rejected: RejectedItem[] = [];
  let queuedBytes = 0;
  const reject = (index: number, error: IngestError): void => {
    const { reason, message, field } = error;
    rejected.push(
      field === undefined
        ? { index, code: reason, message }
        : { index, code: reason, message, field },
    );
  };
  const measure = bodyBytes > EVENT_MAX_BYTES;
  const items = envelope.items;
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (measure) {
      const text = stringify(item);
      if (text === undefined) {
        reject(index, ingestError('invalid_body', UNSERIALISABLE));
        continue;
      }
      if (utf8Length(text) > EVENT_MAX_BYTES) {
        reject(
          index,
          ingestError('event_too_large', `an event is at most ${EVENT_MAX_BYTES} bytes`),
        );
        continue;
      }
    }
    const valid = validateEvent(item, undefined);
    if (!valid.ok) {
      reject(index, valid.error);
      continue;
    }
    const queued = serializeEvent(
      enrichEvent(valid.value, facts, opts, envelope),
      valid.value.type,
    );
    if (!queued.ok) {
      reject(index, queued.error);
      continue;
    }
    queuedBytes += queued.value.bytes;
    if (queuedBytes > QUEUED_REQUEST_MAX_BYTES) {
      return err(
        ingestError(
          'payload_too_large',
          `the batch as enriched (with the batch's context and the request's facts copied into ` +
            `every event) exceeds ${QUEUED_REQUEST_MAX_BYTES} bytes; send it in smaller batches`,
          '.batch',
        ),
      );
    }
    accepted.push(queued.value);
  }
  return ok({ accepted, rejected, queuedBytes });
}
