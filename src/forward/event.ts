// One delivered event as the destination gets it: the enriched line less the fields of ours it
// must not see (docs/forwarding.md, "What is forwarded"). Pure.
//
// Kept: messageId (the destination deduplicates retries by it), type, timestamp (already
// corrected for client clock skew at ingest), originalTimestamp, context (with the ip,
// userAgent and location we filled in: without them the destination would record the Worker's
// address and agent), integrations, and everything the client sent.
// Dropped:
// - source: our name for the sending source; the destination knows it by its write key.
// - receivedAt: ours; the destination stamps its own on arrival.
// - sentAt: Segment corrects skew as `receivedAt − (sentAt − timestamp)` ("Timestamps", Segment
//   Spec: Common Fields). The client's sentAt beside our corrected timestamp, arriving later than
//   the client sent it, would shift the event by the forwarding delay; without sentAt the
//   timestamp is taken as given (Segment HTTP API, "Historical import").

import { isJsonObject } from '../segment/types';

export const DROPPED_FIELDS = ['source', 'receivedAt', 'sentAt'] as const;

/** The event's JSON for the destination, or undefined when the line is not a JSON object. */
export function destinationEvent(line: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isJsonObject(parsed)) return undefined;
  // A rest copy rather than `delete`, which would push V8 to a slow dictionary-mode object.
  const { source: _source, receivedAt: _receivedAt, sentAt: _sentAt, ...kept } = parsed;
  return JSON.stringify(kept);
}
