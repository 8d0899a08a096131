// Limits of the live event debugger (issue #13). Pure constants: each says where it comes from.

// Issue #13: "a Durable Object per source that holds the last 500 events in a ring buffer".
export const DEBUGGER_RING_EVENTS = 500;

// Issue #13: "A payload larger than 8 KiB is shown truncated, marked so".
export const DEBUGGER_PAYLOAD_MAX_BYTES = 8 * 1024;

// Issue #13: "an API read within the last DEBUGGER_ARM_SECONDS (var, default 600)".
export const DEBUGGER_ARM_DEFAULT_SECONDS = 600;
// Ours: bounds for the var; a day is the longest a forgotten API read should keep a source
// captured, and below a minute a CI job could lose its arming between two reads.
export const DEBUGGER_ARM_MIN_SECONDS = 60;
export const DEBUGGER_ARM_MAX_SECONDS = 86_400;

// Issue #13: "each isolate learns which sources are watched with at most one cheap lookup per
// 10 s of a single key covering every source".
export const DEBUGGER_WATCH_REFRESH_MS = 10_000;

// Ours: how long the watch list may sit in a data centre's cache (the Cache API) before an
// isolate that looks it up reads the registry object again. An arming reaches another data
// centre within DEBUGGER_WATCH_REFRESH_MS + this; the data centre that served the arming gets
// it written through at once. Cloudflare docs, "Cache": the cache does not replicate between
// data centres, and on *.workers.dev it does nothing (every lookup then reads the registry).
export const DEBUGGER_WATCH_CACHE_SECONDS = 5;

// Ours: an open page arms its source for this long and renews the lease every
// DEBUGGER_PAGE_RENEW_SECONDS, so a closed page stops the capture within two minutes. Chromium
// runs timers of a hidden tab at most once a minute ("intensive throttling"): the lease
// outlives two missed renewals.
export const DEBUGGER_PAGE_LEASE_SECONDS = 120;
export const DEBUGGER_PAGE_RENEW_SECONDS = 30;

// Ours: an arming already known here to last within this much of what is asked is not written
// to the registry again, so a CI job polling GET /debugger/events costs the registry one write
// per isolate per this many seconds, not one per read. A page's renewal (every 30 s, for 120 s)
// always writes.
export const DEBUGGER_REARM_SLACK_SECONDS = 20;

// Issue #13: "captured events go to the source's object in batches (at most one call per isolate
// per second)".
export const DEBUGGER_FLUSH_INTERVAL_MS = 1000;

// Issue #13: "sampled to at most 100 events/s per source, with the count of skipped events shown
// on the page". Applied in each isolate and again in the source's object, across isolates.
export const DEBUGGER_SAMPLE_EVENTS_PER_SECOND = 100;

// Ours: a WebSocket ticket (from an authenticated POST /debugger/watch) is good for this long:
// long enough to open the socket, short enough that a ticket seen in a log is useless.
export const DEBUGGER_TICKET_SECONDS = 60;

// Ours: how long after a change the object writes its ring to storage (one row per part and one
// for the alarm, Durable Objects pricing). Durable Object lifecycle docs: an idle object may be
// evicted from memory after 10 s (hibernating with its sockets open), losing what it has not
// written; this is well inside that, as DEDUPE_PERSIST_SECONDS is.
export const DEBUGGER_PERSIST_SECONDS = 5;

// A captured event (its payload is personal data) is kept at most DEBUGGER_RETENTION_SECONDS
// (var, default 3600: issue #25; src/privacy/limits.ts); a ring left empty is deleted.

// Durable Objects limits: a row is at most 2 MB; the ring (up to 500 × ~8 KiB) is cut into parts.
export const DEBUGGER_ROW_MAX_CHARS = 500_000;

// Ours: write keys shorter than this are not searched for as text in captured payloads (a
// one-letter key would blank every such letter); the `writeKey` fields are removed whatever
// its length.
export const DEBUGGER_SCRUB_MIN_KEY_CHARS = 8;

// Issue #22: "an open debugger socket is closed within 60 s of its token no longer being
// valid". While a page's socket is open its object wakes this often (an alarm: one row written,
// Durable Objects pricing) and closes the sockets whose token the object's own secrets no longer
// hold; half the 60 s leaves room for an alarm that runs late. A Worker that calls the object
// (captured events, a page opening or renewing) passes the valid tokens' grants too, which
// close such sockets at once.
export const DEBUGGER_GRANT_CHECK_SECONDS = 30;

// Ours: a report of the valid grants from the Worker counts this long; after it only the
// object's own secrets count (they are the deployed version's: a deploy restarts every object).
export const DEBUGGER_GRANT_REPORT_SECONDS = 60;

// Ours: the WebSocket close code for a token no longer valid (4000–4999: for applications,
// RFC 6455 §7.4.2); the page then asks for a new ticket, which the old token no longer gets.
export const DEBUGGER_REVOKED_CLOSE_CODE = 4401;
