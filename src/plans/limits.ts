// Limits and timings of tracking plans. Pure constants: every number cites its source.

// Ours: a plan document (JSON, as PUT) is at most 1 MiB: about 500 events of 20 properties at
// ~100 bytes a property. Every isolate parses and compiles it once per version, on the request
// path when it first meets the source, so its size is latency. KV takes values up to 25 MiB
// (KV limits page, "Value size").
export const PLAN_MAX_BYTES = 1024 * 1024;

// Ours: `context.violations` lists at most this many entries per event, and each path and
// message is cut to VIOLATION_TEXT_MAX_CHARS, so the annotation of one event stays under ~3 KB
// (10 × (2 × 120 + ~60 bytes of keys)) whatever the plan or the event. With the 48 KiB an event
// may take once enriched (QUEUED_EVENT_MAX_BYTES) it still fits one queue message (63,000-byte
// target, 128 KB maximum: src/queue/limits.ts). `omit` still removes every failing property;
// only the list is cut.
export const VIOLATIONS_MAX_PER_EVENT = 10;
export const VIOLATION_TEXT_MAX_CHARS = 120;

// Issue #14: "within TRACKING_PLAN_CACHE_SECONDS (var, default 30) everywhere".
export const TRACKING_PLAN_CACHE_SECONDS_DEFAULT = 30;

// KV "Read key-value pairs": "The cacheTtl parameter must be an integer greater than or equal to
// 30. 60 is the default." The index changes: read it with the minimum, so a location's edge copy
// is at most 30 s behind the central store (without the option it would be 60 s).
export const INDEX_CACHE_TTL_SECONDS = 30;

// Same page: cacheTtl "is useful if your data is write-once or write-rarely". A plan body is
// written once under its version's key and never changed, and it is written before the index
// names it, so no reader can have cached its absence: an hour spares cold reads in a location.
export const PLAN_BODY_CACHE_TTL_SECONDS = 3600;

// Ours: after a failed or empty read (the index unreadable, a body not found), an isolate tries
// again at most this often, so a KV outage costs one read per isolate per 5 s, not one per
// request.
export const PLAN_RETRY_MS = 5_000;

// PLATFORM.md, KV: "changes can take ~60 s to reach every location"; plus the index's own
// 30 s edge cache. An isolate that saved or deleted a plan keeps its own answer for this long,
// so a refresh that reads an index from before the write does not undo it.
export const LOCAL_WRITE_PIN_MS = (60 + INDEX_CACHE_TTL_SECONDS) * 1000;

// KV "List keys": at most 1,000 keys per list() call; more pages follow with a cursor.
export const KV_LIST_MAX_KEYS = 1000;

// Ours: a schema nests at most 64 schemas deep (real plans nest a few levels), so checking and
// compiling it recurses within any stack.
export const SCHEMA_MAX_DEPTH = 64;

// Ours: a value of an event is checked against at most this many schemas (itself and those that
// apply to the same value through allOf, anyOf, oneOf, not, if/then/else, dependentSchemas and
// $ref: src/plans/expansion.ts). Real plans reach a few; $ref can multiply it exponentially, so
// with the 5 ms bound per expression on a 32 KB string (docs/tracking-plans.md) no value costs
// more than this many checks.
export const SCHEMA_MAX_EXPANSION = 256;

// KV limits page: "Writes to same key: 1 per second". Saves of plans close together (a script
// applying many sources' plans) all rewrite the index: a refused write is tried again after
// this long, this many times in all, before the save answers 503.
export const KV_SAME_KEY_WRITE_INTERVAL_MS = 1100;
export const INDEX_WRITE_ATTEMPTS = 3;

// Ours: recheck gives up on an expression after this long (the checker's own clock; workerd's
// clock stands still while JavaScript runs, so in production the limit below is what bounds
// the work). The slowest expression of the ReDoS literature in the tests, `(.*a){12}`, takes
// ~1.3 s inside workerd on the development machine; an expression given up on is refused.
export const REGEX_CHECK_TIMEOUT_MS = 10_000;
// recheck's default (Parameters.maxNFASize, 35,000): the largest automaton it builds for an
// expression; a larger one is "cannot be proven linear" and refused.
export const REGEX_CHECK_MAX_NFA_SIZE = 35_000;
// Ours: verdicts an isolate remembers, so saving the same plan again checks nothing twice.
export const REGEX_VERDICTS_CACHED = 1000;
