// Limits and timings of privacy at the edge (issue #25): policies, suppressions, retention.
// Pure constants: every number cites its source.

// Issue #25: "read once per isolate per PRIVACY_CACHE_SECONDS, default 30".
export const PRIVACY_CACHE_SECONDS_DEFAULT = 30;

// Ours: a policy document (JSON, as PUT) is at most 64 KiB: a few hundred field rules. Every
// isolate parses it once per version, on the request path when it first meets the source.
export const POLICY_MAX_BYTES = 64 * 1024;

// Ours: at most this many field rules, each applied to every event of the source (the bench's
// features table times 5 rules; 100 is a ceiling that keeps the per-event walk bounded).
export const POLICY_MAX_FIELD_RULES = 100;

// Ours: a pointer has at most this many segments; events nest far less (context.traits.x is 3)
// and a wildcard walk stays bounded.
export const POINTER_MAX_SEGMENTS = 16;

// Ours: at most this many categories per sink; analytics.js consent tools use a handful.
export const CONSENT_MAX_CATEGORIES = 32;

// Segment's Regulations API ("Create Regulation"): "up to 5000 ids" a call; ours takes as many
// userIds and anonymousIds together.
export const SUPPRESSION_MAX_IDS_PER_CALL = 5000;

// Ours: an id is at most 1,024 characters; Segment's userIds are rarely over 100.
export const SUPPRESSION_ID_MAX_CHARS = 1024;

// Ours: suppressed ids are kept as the first 8 bytes (64 bits) of their HMAC-SHA256. With n ids
// suppressed, an id that is not has a chance of n / 2^64 of matching one by accident: 5.4e-14
// at 1,000,000 ids, about one wrongly dropped event per 18 trillion looked up. 48 bits would
// drop one event in 280 million: too many.
export const SUPPRESSION_HASH_BYTES = 8;

// Ours: a shard of suppressed ids (one KV value) holds at most this many 8-byte hashes, 256 KiB;
// the shard count is the smallest power of two that keeps every shard under it. 1,000,000 ids:
// 32 shards of ~31,250 ids (~250 KB each). KV values may be 25 MiB (KV limits page, "Value
// size"): shards stay small so that one changed id makes isolates read 256 KiB, not the set.
export const SUPPRESSION_SHARD_MAX_IDS = 32 * 1024;

// KV "Read key-value pairs": cacheTtl is at least 30 s; a shard or policy body is written once
// under its own version and never changed, so an hour spares cold reads in a location.
export const PRIVACY_BODY_CACHE_TTL_SECONDS = 3600;

// Ours: after a failed read (the registry or KV unreachable), an isolate tries again at most
// this often, so an outage costs one read per isolate per 5 s, not one per request.
export const PRIVACY_RETRY_MS = 5_000;

// KV limits page: "Writes to same key: 1 per second". The registry writes the index of versions
// it serves only to itself, but shard and body keys are new on every change: no key is written
// twice within a second.

// Issue #25: "ARCHIVE_RETENTION_DAYS (default 30)".
export const ARCHIVE_RETENTION_DAYS_DEFAULT = 30;

// R2 Workers API reference: list() returns at most 1,000 objects a call, and delete() takes at
// most 1,000 keys. KV limits page, "Operations/Worker invocation: 1000" (every call to KV, R2 or
// another service counts): a run lists at most this many pages and deletes after each, 2 calls
// a page, 100 calls in all, far inside it and inside a Cron Trigger's CPU time.
export const R2_LIST_MAX_KEYS = 1000;
export const R2_DELETE_MAX_KEYS = 1000;
export const RETENTION_MAX_PAGES_PER_RUN = 50;

// Issue #25: "DEBUGGER_RETENTION_SECONDS (default 3600) bounds how long a ring keeps payloads".
export const DEBUGGER_RETENTION_SECONDS_DEFAULT = 3600;
// Ours: at least a minute (shorter, an event could be gone before the page that armed capture
// shows it) and at most a day (the ring's former fixed retention).
export const DEBUGGER_RETENTION_MIN_SECONDS = 60;
export const DEBUGGER_RETENTION_MAX_SECONDS = 86_400;
