// Ingest of single calls and batches: validate, size-check and enrich. Pure: parsed JSON and
// request facts in, enriched events (and per-item rejections) out.

import { enrichEvent, type BatchDefaults, type EnrichOptions, type RequestFacts } from './enrich';
import { ingestError, type IngestError, type IngestReason } from './errors';
import { BATCH_MAX_EVENTS, EVENT_MAX_BYTES } from './limits';
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

export interface BatchOutcome {
  accepted: JsonObject[];
  rejected: RejectedItem[];
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
): Result<JsonObject, IngestError> {
  const valid = validateEvent(raw, pathType);
  if (!valid.ok) return valid;
  return ok(enrichEvent(valid.value, facts, opts));
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
  const sentAt = raw['sentAt'];
  if (sentAt !== undefined && sentAt !== null) {
    if (typeof sentAt !== 'string' || parseIsoTimestamp(sentAt) === undefined) {
      return err(
        ingestError('invalid_timestamp', 'sentAt must be an ISO-8601 timestamp', '.sentAt'),
      );
    }
    envelope.sentAt = sentAt;
  }
  const writeKey = bodyWriteKey(raw);
  if (writeKey !== undefined) envelope.writeKey = writeKey;
  return ok(envelope);
}

/**
 * Each item validated and enriched on its own: good items are kept, bad ones reported by
 * index. `bodyBytes` is the whole body's size; when it is within the per-event limit no item
 * can exceed it, so items are only measured when it is not.
 */
export function ingestBatch(
  envelope: BatchEnvelope,
  bodyBytes: number,
  facts: RequestFacts,
  opts: EnrichOptions,
): BatchOutcome {
  const accepted: JsonObject[] = [];
  const rejected: RejectedItem[] = [];
  const measure = bodyBytes > EVENT_MAX_BYTES;
  envelope.items.forEach((item, index) => {
    if (measure && utf8Length(JSON.stringify(item) ?? '') > EVENT_MAX_BYTES) {
      rejected.push({
        index,
        code: 'event_too_large',
        message: `an event is at most ${EVENT_MAX_BYTES} bytes`,
      });
      return;
    }
    const valid = validateEvent(item, undefined);
    if (!valid.ok) {
      const { reason, message, field } = valid.error;
      rejected.push(
        field === undefined
          ? { index, code: reason, message }
          : { index, code: reason, message, field },
      );
      return;
    }
    accepted.push(enrichEvent(valid.value, facts, opts, envelope));
  });
  return { accepted, rejected };
}
