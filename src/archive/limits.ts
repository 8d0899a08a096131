// Limits of the archive (the ARCHIVE bucket in R2) and of the queues archived into it. Pure
// constants: each says where it comes from.

// R2 limits: an object key is at most 1,024 bytes (PLATFORM.md, "R2"); a put of a longer one is
// refused, every time.
export const R2_KEY_MAX_BYTES = 1024;

// Ours: a source name is kept whole in a key (blocked/<source>/…) up to this many UTF-8 bytes;
// a longer one is cut and suffixed with a hash of the whole name (keys.ts). With it the longest
// key the archive makes, a claim on a blocked object or its replayed copy, stays under 400
// bytes, far inside R2_KEY_MAX_BYTES (test/archive/keys.unit.test.ts).
export const SOURCE_SEGMENT_MAX_BYTES = 200;

// wrangler.toml `max_retries = 100` for ndc-segment-dlq and ndc-segment-forward-dlq, the most
// Queues allows (PLATFORM.md): a message is handed to the archive consumer at most 101 times,
// and neither queue has a dead-letter queue of its own, so a message retried past that would be
// deleted. A test keeps the two in step.
export const ARCHIVE_QUEUE_MAX_RETRIES = 100;

// Ours: a message whose archiving failed on this attempt or a later one is not retried but sent
// to its queue again as a fresh copy (attempts start over), and acked once that send went. Half
// the budget: the 50 attempts left (about 4 hours at the 300 s backoff cap) are for that send
// to succeed, so an R2 outage of any length is outlasted while the queue takes sends.
export const ARCHIVE_REQUEUE_FROM_ATTEMPT = 51;

// Ours: ... or once it has waited this long since it was sent, whatever its attempts: a quarter
// of the 4 days Queues keeps a message by default (PLATFORM.md, "Retention"), so a long backoff
// (DELIVERY_RETRY_MAX_SECONDS up to 12 hours) never lets a message expire before its copy goes.
export const ARCHIVE_REQUEUE_AFTER_MS = 24 * 3600_000;

// Ours: objects replayed per request, so one call stays well inside a Worker's limits (each
// object is one consumer batch of at most 100 messages); call again while `truncated`.
export const REPLAY_MAX_OBJECTS = 20;

// R2 list(): at most 1,000 keys per call (R2 Workers API, `limit`).
export const LIST_MAX_OBJECTS = 1000;

// Ours: a replay claim older than this belongs to a replay that crashed or timed out (a call
// replays at most REPLAY_MAX_OBJECTS small objects, well within a Worker request's limits).
export const REPLAY_CLAIM_TTL_MS = 10 * 60_000;

// Ours: how much of a body that is not ours is kept in its archive line.
export const UNDECODABLE_RAW_MAX_CHARS = 128 * 1024;
