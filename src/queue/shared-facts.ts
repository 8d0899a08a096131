// What every event of one request shares (the request's IP, user agent and location, the
// library that sent it, when and to which source it came), as the exact JSON text each event's
// line holds it, so a queue message carries that text once in its header instead of once per
// line (src/queue/pack.ts compacts, src/queue/message.ts restores). Pure.

import { isJsonObject, type JsonObject } from '../segment/types';

// The context fields a request's events share: set by enrichment from the request (ip,
// userAgent, location) or by the SDK alike for all its calls (library; analytics.js's page,
// userAgentData, locale and timezone are one page's).
const CONTEXT_KEYS = [
  'location',
  'page',
  'userAgentData',
  'library',
  'userAgent',
  'ip',
  'locale',
  'timezone',
] as const;

// Top-level fields enrichment sets the same for every event of a request (src/segment/enrich.ts):
// receivedAt, sentAt (a batch's) and source.
const TOP_KEYS = ['receivedAt', 'sentAt', 'source'] as const;

/** `"key":value` as JSON.stringify writes that property inside an object. */
function pair(key: string, value: unknown): string {
  return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
}

/**
 * The `"key":value` texts of `event` (the first of a request) that the request's other events
 * most likely hold verbatim, longest-containing first: a text found in a line is replaced by one
 * mark, so one within another must come after it. Last, receivedAt's value alone: the timestamp
 * of an event sent without one. A line without a text (its own ip, say) simply keeps it.
 */
export function sharedFacts(event: JsonObject | undefined): string[] {
  if (event === undefined) return [];
  const out: string[] = [];
  const context = event['context'];
  if (isJsonObject(context)) {
    for (const key of CONTEXT_KEYS) {
      const value = context[key];
      if (value !== undefined) out.push(pair(key, value));
    }
  }
  for (const key of TOP_KEYS) {
    const value = event[key];
    if (typeof value === 'string') out.push(pair(key, value));
  }
  const receivedAt = event['receivedAt'];
  if (typeof receivedAt === 'string') out.push(JSON.stringify(receivedAt));
  return out;
}
