// Limits on what the Segment HTTP API accepts. Pure constants: every number cites its source.

// Segment HTTP Tracking API, "Max request size": 32 KB per call and per event.
// We read "KB" as KiB (the more generous reading), as analytics-next does for its batch cap.
export const EVENT_MAX_BYTES = 32 * 1024;

// Segment HTTP Tracking API, "Batch": at most 500 KB per batch request.
export const BATCH_MAX_BYTES = 500 * 1024;

// Segment HTTP Tracking API, "Batch": at most 2,500 events in one batch request.
export const BATCH_MAX_EVENTS = 2500;

// Ours: a pixel's `data` query value is base64 of one event, so 4/3 of the event limit
// plus padding; anything longer cannot decode to an acceptable event.
export const PIXEL_DATA_MAX_CHARS = Math.ceil((EVENT_MAX_BYTES * 4) / 3) + 4;

// Ours: a client-supplied messageId is the downstream dedupe key; bound it so a hostile
// client cannot make it the bulk of an event. UUIDs are 36 characters.
export const MESSAGE_ID_MAX_CHARS = 256;

// Ours: JSON nesting deeper than this is refused when merging batch-level context, so a
// hostile payload cannot exhaust the stack in our recursive merge.
export const MERGE_MAX_DEPTH = 32;

// Ours: enrichment adds receivedAt, messageId, source, timestamps, context.ip, context.location
// and context.userAgent (capped below) to an event of up to EVENT_MAX_BYTES, and batch-level
// context is merged into each item: the event as queued may exceed the input limit by this much.
export const ENRICHMENT_ALLOWANCE_BYTES = 16 * 1024;
export const QUEUED_EVENT_MAX_BYTES = EVENT_MAX_BYTES + ENRICHMENT_ALLOWANCE_BYTES;

// Ours: a batch's top-level context and integrations are copied into every item, so their size
// multiplies by up to 2,500; 4 KiB (together) keeps a 500 KiB batch from expanding past ~10 MiB
// in a 128 MB isolate. Segment's SDKs send batch-level context rarely and small.
export const BATCH_DEFAULTS_MAX_BYTES = 4 * 1024;

// Ours: what one request may put on the queue once enriched. A batch's context (4 KiB) and the
// User-Agent (1 KiB) are copied into each of up to 2,500 items, so a 416-byte gzip body could
// queue 13.5 MB. Four times the body limit still admits the largest legitimate batch: 2,500
// minimal events (~60 bytes each) with ~600 bytes of enrichment each come to ~1.65 MB.
export const QUEUED_REQUEST_MAX_BYTES = 2_000_000;

// Ours: context.userAgent copied from the User-Agent header is cut to this length; browser
// user agents are 100-300 characters, and the header is copied into every item of a batch.
export const USER_AGENT_MAX_CHARS = 1024;

// Ours: an Authorization header longer than this is refused before decoding. Write keys
// are short tokens (Segment's are 32 characters).
export const AUTHORIZATION_MAX_CHARS = 1024;
