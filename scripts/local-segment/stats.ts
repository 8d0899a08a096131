// Counters of the local Segment-compatible endpoint, served at GET /_local/stats: calls by
// outcome, and per write key the events accepted and the largest body, event and batch seen
// (so tests can check the collector's calls stay within Segment's limits). Pure.

export const OUTCOMES = [
  'ok',
  'down',
  'stalled',
  'throttled',
  'error_500',
  'bad_request',
  'unauthorized',
  'invalid',
  'internal_error',
] as const;

export type Outcome = (typeof OUTCOMES)[number];

export interface KeyStats {
  calls: number;
  eventsAccepted: number;
  bytesAccepted: number;
  maxBodyBytes: number;
  maxEventBytes: number;
  maxEventsPerCall: number;
  /** Absolute paths of the files this instance wrote for the key. */
  files: string[];
}

export interface Stats {
  calls: number;
  callsByOutcome: Record<Outcome, number>;
  eventsAccepted: number;
  keys: Record<string, KeyStats>;
}

export function emptyStats(): Stats {
  const callsByOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  return { calls: 0, callsByOutcome, eventsAccepted: 0, keys: {} };
}

export interface CallRecord {
  outcome: Outcome;
  /** The authenticated write key, when the call had one. */
  writeKey?: string;
  bodyBytes: number;
  /** Sizes of the events accepted (none unless the outcome is ok). */
  eventBytes: readonly number[];
  newFile?: string;
}

/** Adds one call to the counters, in place. */
export function recordCall(stats: Stats, call: CallRecord): void {
  stats.calls += 1;
  stats.callsByOutcome[call.outcome] += 1;
  stats.eventsAccepted += call.eventBytes.length;
  if (call.writeKey === undefined) return;
  const key = (stats.keys[call.writeKey] ??= {
    calls: 0,
    eventsAccepted: 0,
    bytesAccepted: 0,
    maxBodyBytes: 0,
    maxEventBytes: 0,
    maxEventsPerCall: 0,
    files: [],
  });
  key.calls += 1;
  key.maxBodyBytes = Math.max(key.maxBodyBytes, call.bodyBytes);
  if (call.outcome !== 'ok') return;
  key.eventsAccepted += call.eventBytes.length;
  key.bytesAccepted += call.eventBytes.reduce((n, b) => n + b, 0);
  key.maxEventBytes = Math.max(key.maxEventBytes, ...call.eventBytes);
  key.maxEventsPerCall = Math.max(key.maxEventsPerCall, call.eventBytes.length);
  if (call.newFile !== undefined) key.files.push(call.newFile);
}
