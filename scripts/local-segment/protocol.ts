// What the local Segment-compatible endpoint accepts on POST /v1/batch: HTTP Basic with the
// write key as user name (Segment HTTP API, "Basic authentication"), a JSON body
// `{"batch": [event, …]}` within Segment's size limits, each event an object of a known type.
// Pure.

// Segment HTTP Tracking API, "Max request size": "500KB per request, with a limit of 32KB per
// event", answered 400 past them. The endpoint holds callers to the strict reading (1,000
// bytes), so a test fails if the collector ever relies on the generous one.
export const MAX_BODY_BYTES = 500_000;
export const MAX_EVENT_BYTES = 32_000;

// Segment Spec: the six call types a batch item may have.
export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;

/** The write key of a `Basic base64(writeKey:)` header, or undefined. */
export function basicWriteKey(header: string | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (m?.[1] === undefined) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon === -1 ? decoded : decoded.slice(0, colon);
  return key === '' ? undefined : key;
}

export interface AcceptedEvent {
  /** The event as one JSON line (re-serialised). */
  json: string;
  bytes: number;
  messageId: string | undefined;
}

export type BatchParse = { ok: true; events: AcceptedEvent[] } | { ok: false; error: string };

/** The events of a /v1/batch body, or why Segment would answer 400. */
export function parseBatch(body: Buffer): BatchParse {
  if (body.length > MAX_BODY_BYTES)
    return { ok: false, error: `body of ${body.length} bytes exceeds ${MAX_BODY_BYTES}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, error: 'body is not valid JSON' };
  }
  const batch =
    typeof parsed === 'object' && parsed !== null ? (parsed as { batch?: unknown }).batch : null;
  if (!Array.isArray(batch)) return { ok: false, error: 'body has no "batch" array' };
  const events: AcceptedEvent[] = [];
  for (const [i, item] of batch.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      return { ok: false, error: `batch[${i}] is not an object` };
    const { type, messageId } = item as { type?: unknown; messageId?: unknown };
    if (!(EVENT_TYPES as readonly unknown[]).includes(type))
      return { ok: false, error: `batch[${i}] has no valid type` };
    const json = JSON.stringify(item);
    const bytes = Buffer.byteLength(json);
    if (bytes > MAX_EVENT_BYTES)
      return { ok: false, error: `batch[${i}] of ${bytes} bytes exceeds ${MAX_EVENT_BYTES}` };
    events.push({ json, bytes, messageId: typeof messageId === 'string' ? messageId : undefined });
  }
  return { ok: true, events };
}
