// Server-side enrichment of a validated call. Pure: the clock reading, the id maker and the
// request's facts (IP, user agent, geolocation) are parameters; the input is never mutated.

import { anonymizeIp } from './ip';
import { mergeUnder } from './merge';
import { formatIsoTimestamp, parseIsoTimestamp } from './timestamp';
import { isJsonObject, type GeoLocation, type JsonObject } from './types';
import type { ValidEvent } from './validate';

/** What the edge knows about the HTTP request that carried the call. */
export interface RequestFacts {
  /** Server clock, ms since the epoch, read once per request. */
  receivedAt: number;
  /** `receivedAt` as ISO-8601, formatted once per request rather than once per event. */
  receivedAtIso?: string;
  ip?: string;
  userAgent?: string;
  location?: GeoLocation;
}

export interface EnrichOptions {
  /** The authenticated source's name; replaces the writeKey, which is never stored. */
  source: string;
  /** ANONYMIZE_IP: context.ip truncated, context.location reduced to its country. */
  anonymizeIp: boolean;
  newId: () => string;
}

/** Batch-level fields that apply to items lacking their own. */
export interface BatchDefaults {
  context?: JsonObject;
  integrations?: JsonObject;
  sentAt?: string;
  /** `sentAt` as parsed when the envelope was read. */
  sentAtMs?: number;
}

const hasOwn = (o: JsonObject, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(o, key);

function enrichContext(
  own: unknown,
  facts: RequestFacts,
  opts: EnrichOptions,
  batch: JsonObject | undefined,
): JsonObject {
  const base = isJsonObject(own) ? own : {};
  const context = batch === undefined ? { ...base } : mergeUnder(batch, base);
  if (!hasOwn(context, 'ip') && facts.ip !== undefined) context['ip'] = facts.ip;
  if (opts.anonymizeIp && hasOwn(context, 'ip')) {
    const ip = context['ip'];
    const masked = typeof ip === 'string' ? anonymizeIp(ip) : undefined;
    // An address we cannot parse cannot be masked, so it is dropped rather than kept whole.
    if (masked === undefined) delete context['ip'];
    else context['ip'] = masked;
  }
  if (!hasOwn(context, 'userAgent') && facts.userAgent !== undefined)
    context['userAgent'] = facts.userAgent;
  if (
    !hasOwn(context, 'location') &&
    facts.location !== undefined &&
    Object.keys(facts.location).length > 0
  ) {
    context['location'] = { ...facts.location };
  }
  // ANONYMIZE_IP also keeps only the country of the location (issue #25), whoever set it: the
  // city, postal code and coordinates identify a person as well as the address does.
  if (opts.anonymizeIp && hasOwn(context, 'location')) {
    const location = context['location'];
    const country = isJsonObject(location) ? location['country'] : undefined;
    if (country === undefined) delete context['location'];
    else context['location'] = { country };
  }
  return context;
}

/**
 * The event as it is queued: writeKey removed and `source` set; messageId, receivedAt and
 * timestamp filled in; timestamp corrected for client clock skew when sentAt is known
 * (Segment's "timestamp = receivedAt - (sentAt - originalTimestamp)"); context.ip,
 * context.userAgent and context.location filled from the request when the client left them out
 * (with ANONYMIZE_IP, the IP truncated and the location reduced to its country).
 */
export function enrichEvent(
  valid: ValidEvent,
  facts: RequestFacts,
  opts: EnrichOptions,
  batch: BatchDefaults = {},
): JsonObject {
  // A rest copy leaves writeKey out without `delete`, which would push V8 to a slow
  // dictionary-mode object for every later property access and JSON.stringify.
  const { writeKey: _writeKey, ...copy } = valid.body;
  const out: JsonObject = copy;
  out['type'] = valid.type;
  out['source'] = opts.source;
  if (out['messageId'] === undefined || out['messageId'] === null) out['messageId'] = opts.newId();

  const receivedAt = facts.receivedAtIso ?? formatIsoTimestamp(facts.receivedAt);
  out['receivedAt'] = receivedAt;
  const ownSentAt = typeof out['sentAt'] === 'string';
  const sentAt = ownSentAt ? (out['sentAt'] as string) : batch.sentAt;
  if (sentAt !== undefined) out['sentAt'] = sentAt;

  const clientTimestamp = out['timestamp'];
  if (typeof clientTimestamp !== 'string') {
    out['timestamp'] = receivedAt;
  } else if (sentAt !== undefined) {
    // Parsed once, by validation (or the envelope's reader); parsed here only when not given.
    const sent = (ownSentAt ? valid.sentAtMs : batch.sentAtMs) ?? parseIsoTimestamp(sentAt);
    const happened = valid.timestampMs ?? parseIsoTimestamp(clientTimestamp);
    // Both were validated; the guard keeps an unvalidated caller from writing NaN dates.
    if (sent !== undefined && happened !== undefined) {
      out['timestamp'] = formatIsoTimestamp(facts.receivedAt - (sent - happened));
      out['originalTimestamp'] = clientTimestamp;
    }
  }

  out['context'] = enrichContext(out['context'], facts, opts, batch.context);
  if (batch.integrations !== undefined) {
    const own = isJsonObject(out['integrations']) ? out['integrations'] : {};
    out['integrations'] = mergeUnder(batch.integrations, own);
  }
  return out;
}
