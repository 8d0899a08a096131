// Limits and sizes of deduplication. Pure constants: each says where it comes from.

// Issue #10 / README "Delivery guarantees" (docs/delivery.md): duplicates of a (source, messageId) are dropped
// within DEDUPE_WINDOW_SECONDS (var); this is its default. Segment documents a window of about
// 24 hours for its own API; one hour covers SDK retries (seconds to minutes) and queue
// redeliveries at a memory cost that fits a Durable Object (see DEDUPE_SHARDS).
export const DEDUPE_WINDOW_DEFAULT_SECONDS = 3600;

// Ours: keys are spread over this many Durable Objects by hash. Each holds rate × window ÷
// shards keys at ~15 bytes a key (src/dedupe/window.ts): at 10,000 events/s and a one-hour
// window, 3,000,000 keys, 45 MB, inside the 128 MB a Durable Object isolate has (Durable Objects
// limits) even when two shards share an isolate. A consumer batch calls each shard it has keys
// for once, so fewer shards cost fewer requests: see bench/cost.ts.
export const DEDUPE_SHARDS_DEFAULT = 12;
// Ours: an upper bound on DEDUPE_SHARDS, so a typo cannot fan one batch out to thousands of calls.
export const DEDUPE_SHARDS_MAX = 256;

// Ours: the window is kept as this many generations, each covering window ÷ (n − 1); a key is
// remembered for at least the window and at most window × n ÷ (n − 1) (1.25× here), and a whole
// generation is dropped at once when it ages out, so no per-key expiry work is done.
export const DEDUPE_GENERATIONS = 5;

// Ours: at most this many keys per shard (~45 MB at 15 bytes a key). Past it the oldest
// generation is dropped early: the window shortens, memory does not grow.
export const DEDUPE_MAX_KEYS_PER_SHARD = 3_000_000;

// Ours: how long a reservation holds back another copy of its key. It covers one Firehose call
// (FIREHOSE_TIMEOUT_SECONDS, 20 s by default) and the commit that follows it (sent with the
// consumer's next call, or within DEDUPE_OUTBOX_FLUSH_MS); past it, an unconfirmed reservation
// counts as delivered for every copy but its owner's.
export const DEDUPE_LEASE_SECONDS = 120;

// Ours: owners remembered for reservations still in flight. Past this the oldest are forgotten:
// their keys then pass for any copy, which can let a duplicate through but never drops an event.
export const DEDUPE_MAX_PENDING_OWNERS = 100_000;

// Durable Object lifecycle docs: an idle object may be evicted from memory after 10 s, losing
// what it has not written. Committed keys are written at most this often, well inside that.
export const DEDUPE_PERSIST_SECONDS = 5;

// Ours: commits and releases wait in the consumer isolate for its next call to the shard; when
// no batch comes, they are sent on their own after this long.
export const DEDUPE_OUTBOX_FLUSH_MS = 1000;

// Ours: commits and releases kept per shard in one isolate's outbox while its shard cannot be
// reached; past this the oldest are dropped (a dropped commit can let a duplicate through).
export const DEDUPE_OUTBOX_MAX_KEYS = 100_000;

// Ours: how long a consumer waits for a dedupe shard's answer. A call is one Durable Object
// request doing in-memory work (a millisecond or so, bench/); a shard that does not answer
// within this is taken as down for that batch, whose messages wait (src/queue/step.ts) rather
// than the consumer invocation stalling on it. Well inside FIREHOSE_TIMEOUT_SECONDS (20 s).
export const DEDUPE_CALL_TIMEOUT_MS = 5000;
