// Limits on the metrics the collector keeps. Pure constants: every number says why.

// Ours: label values come from request data (source names, stream names, reasons); bounding
// them keeps keys, deltas and the Durable Object's state small. Prometheus's scrape option
// `label_value_length_limit` fails the whole scrape when a value exceeds it (Prometheus,
// "Configuration", scrape_config), so values must be short for any operator's setting.
// Counted in UTF-16 code units.
export const LABEL_VALUE_MAX_CHARS = 128;

// Ours: the most series one buffer or one Durable Object state holds (a histogram series
// counts once). The catalog's labels are low-cardinality by design (Prometheus,
// "Instrumentation", "Do not overuse labels"), so real states hold hundreds of series; the cap
// only stops a label explosion (say, one source name per request) from growing an isolate's
// memory or a Durable Object's storage without bound: at ~300 bytes a series, about 3 MB.
export const METRICS_MAX_SERIES = 10_000;

// Ours: isolates pick a shard at random, so N shards split the flush load N ways; /metrics
// reads all N (one RPC each). At 10,000 isolates flushing every 10 s, 16 shards see ~63
// requests/s each, far below a Durable Object's ~1,000 requests/s soft limit.
export const METRICS_SHARDS = 16;

// Durable Objects lifecycle: an idle object may be evicted from memory after 10 s, losing what
// it has not written; the snapshot is written within this, whatever METRICS_FLUSH_SECONDS is.
export const METRICS_PERSIST_MAX_MS = 8000;

// Ours: a shard writes its points at most this often, so points grow with time, not flushes.
export const ANALYTICS_INTERVAL_MS = 60_000;

// Durable Objects limits: a SQLite row is at most 2 MB; a shard's snapshot is written in parts
// of this many characters (one row each), well below. Each part is one row written a persist.
export const METRICS_SNAPSHOT_PART_CHARS = 500_000;
