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

// Ours: an Authorization header longer than this is refused before decoding. Write keys
// are short tokens (Segment's are 32 characters).
export const AUTHORIZATION_MAX_CHARS = 1024;
