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
