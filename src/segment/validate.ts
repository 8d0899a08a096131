// Validation of one Segment call against the spec. Pure: takes parsed JSON, returns a Result.
// Rules from the Segment spec ("Common fields", and each call's page: track, identify, page,
// screen, group, alias).

import { ingestError, type IngestError } from './errors';
import { MESSAGE_ID_MAX_CHARS } from './limits';
import { parseIsoTimestamp } from './timestamp';
import {
  err,
  isEventType,
  isJsonObject,
  ok,
  type EventType,
  type JsonObject,
  type Result,
} from './types';

/** A call that passed validation: its type is settled and its fields have the spec's shapes. */
export interface ValidEvent {
  type: EventType;
  body: JsonObject;
  /** `timestamp` and `sentAt` as parsed here, so enrichment does not parse them again. */
  timestampMs?: number;
  sentAtMs?: number;
}

// Segment spec "Common fields": these must be objects when present.
const OBJECT_FIELDS = ['properties', 'traits', 'context', 'integrations'] as const;

// Segment spec "Common fields": these must be ISO-8601 strings when present.
const TIMESTAMP_FIELDS = ['timestamp', 'sentAt', 'originalTimestamp'] as const;

/** An identifier field: Segment accepts strings, and numbers that SDKs serialise as such. */
function isIdentifier(value: unknown): boolean {
  return (
    (typeof value === 'string' && value.length > 0) ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function has(body: JsonObject, key: string): boolean {
  return body[key] !== undefined && body[key] !== null;
}

function checkIdentifier(body: JsonObject, key: string): IngestError | undefined {
  if (has(body, key) && !isIdentifier(body[key])) {
    return ingestError('invalid_field', `${key} must be a non-empty string or a number`, `.${key}`);
  }
  return undefined;
}

/**
 * Validates one call. `pathType` is the type the route implies (single-call routes); batch
 * items pass undefined and must carry their own `type`.
 */
export function validateEvent(
  raw: unknown,
  pathType: EventType | undefined,
): Result<ValidEvent, IngestError> {
  if (!isJsonObject(raw)) {
    return err(ingestError('invalid_body', 'a call must be a JSON object'));
  }
  const declared = raw['type'];
  let type: EventType;
  if (declared === undefined || declared === null) {
    if (pathType === undefined)
      return err(ingestError('missing_field', 'type is required', '.type'));
    type = pathType;
  } else if (!isEventType(declared)) {
    return err(
      ingestError(
        'unknown_type',
        `type must be one of track, identify, page, screen, group, alias`,
        '.type',
      ),
    );
  } else if (pathType !== undefined && declared !== pathType) {
    return err(
      ingestError(
        'type_mismatch',
        `type "${declared}" does not match the ${pathType} route`,
        '.type',
      ),
    );
  } else {
    type = declared;
  }

  for (const key of ['userId', 'anonymousId', 'previousId', 'groupId'] as const) {
    const problem = checkIdentifier(raw, key);
    if (problem) return err(problem);
  }
  if (type === 'alias') {
    if (!has(raw, 'previousId'))
      return err(ingestError('missing_field', 'alias requires previousId', '.previousId'));
    if (!has(raw, 'userId'))
      return err(ingestError('missing_field', 'alias requires userId', '.userId'));
  } else if (!has(raw, 'userId') && !has(raw, 'anonymousId')) {
    return err(ingestError('missing_field', 'userId or anonymousId is required', '.userId'));
  }
  if (type === 'track') {
    const event = raw['event'];
    if (event === undefined || event === null)
      return err(ingestError('missing_field', 'track requires event', '.event'));
    if (typeof event !== 'string' || event.length === 0) {
      return err(ingestError('invalid_field', 'event must be a non-empty string', '.event'));
    }
  }
  if (type === 'group' && !has(raw, 'groupId')) {
    return err(ingestError('missing_field', 'group requires groupId', '.groupId'));
  }
  if (
    (type === 'page' || type === 'screen') &&
    has(raw, 'name') &&
    typeof raw['name'] !== 'string'
  ) {
    return err(ingestError('invalid_field', 'name must be a string', '.name'));
  }
  for (const key of OBJECT_FIELDS) {
    if (raw[key] !== undefined && !isJsonObject(raw[key])) {
      return err(ingestError('invalid_field', `${key} must be an object`, `.${key}`));
    }
  }
  const parsed: Partial<Record<(typeof TIMESTAMP_FIELDS)[number], number>> = {};
  for (const key of TIMESTAMP_FIELDS) {
    const value = raw[key];
    if (value === undefined) continue;
    const ms = typeof value === 'string' ? parseIsoTimestamp(value) : undefined;
    if (ms === undefined) {
      return err(
        ingestError('invalid_timestamp', `${key} must be an ISO-8601 timestamp`, `.${key}`),
      );
    }
    parsed[key] = ms;
  }
  const messageId = raw['messageId'];
  if (messageId !== undefined && messageId !== null) {
    if (
      typeof messageId !== 'string' ||
      messageId.length === 0 ||
      messageId.length > MESSAGE_ID_MAX_CHARS
    ) {
      return err(
        ingestError(
          'invalid_field',
          `messageId must be a string of 1 to ${MESSAGE_ID_MAX_CHARS} characters`,
          '.messageId',
        ),
      );
    }
  }
  const valid: ValidEvent = { type, body: raw };
  if (parsed.timestamp !== undefined) valid.timestampMs = parsed.timestamp;
  if (parsed.sentAt !== undefined) valid.sentAtMs = parsed.sentAt;
  return ok(valid);
}
