// Counters of the local Firehose endpoint, served at GET /_local/stats: calls by outcome,
// records accepted and failed, bytes and files written, overall and per stream, and per stream
// the calls answered late. Pure.

export const OUTCOMES = [
  'ok',
  'partial',
  'all_failed',
  // Handled (records written, per-record failures applied), then answered after lateAnswerMs.
  'late',
  'throttled',
  'error_500',
  'stalled',
  'expired_token',
  // Refused whole by the maxCallBytes fault (the API's own limits count as 'invalid').
  'too_large',
  'sink_error',
  'auth_failed',
  'invalid',
  'unknown_stream',
  'unknown_operation',
  'internal_error',
] as const;

export type Outcome = (typeof OUTCOMES)[number];

export interface StreamStats {
  calls: number;
  recordsAccepted: number;
  recordsFailed: number;
  bytesWritten: number;
  // Absolute paths of the files this server instance wrote for the stream.
  files: string[];
  // Calls answered late, and the records they wrote (already in recordsAccepted).
  lateCalls: number;
  lateRecords: number;
  // Calls by the region their signature was scoped to.
  regions: Record<string, number>;
}

export interface Stats {
  calls: number;
  callsByOutcome: Record<Outcome, number>;
  recordsAccepted: number;
  recordsFailed: number;
  bytesWritten: number;
  filesWritten: number;
  streams: Record<string, StreamStats>;
}

export interface CallRecord {
  outcome: Outcome;
  // Known once the body parsed; calls rejected earlier count only overall.
  stream?: string;
  accepted: number;
  failed: number;
  bytesWritten: number;
  // Set when the call created a new file.
  newFile?: string;
  // The region its signature was scoped to, once verified.
  region?: string;
}

export function emptyStats(): Stats {
  const callsByOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  return {
    calls: 0,
    callsByOutcome,
    recordsAccepted: 0,
    recordsFailed: 0,
    bytesWritten: 0,
    filesWritten: 0,
    streams: {},
  };
}

/** Adds one call to the counters, in place. */
export function recordCall(stats: Stats, call: CallRecord): void {
  stats.calls += 1;
  stats.callsByOutcome[call.outcome] += 1;
  stats.recordsAccepted += call.accepted;
  stats.recordsFailed += call.failed;
  stats.bytesWritten += call.bytesWritten;
  if (call.newFile !== undefined) stats.filesWritten += 1;
  if (call.stream === undefined) return;
  const stream = (stats.streams[call.stream] ??= {
    calls: 0,
    recordsAccepted: 0,
    recordsFailed: 0,
    bytesWritten: 0,
    files: [],
    lateCalls: 0,
    lateRecords: 0,
    regions: {},
  });
  if (call.region !== undefined)
    stream.regions[call.region] = (stream.regions[call.region] ?? 0) + 1;
  stream.calls += 1;
  stream.recordsAccepted += call.accepted;
  stream.recordsFailed += call.failed;
  stream.bytesWritten += call.bytesWritten;
  if (call.newFile !== undefined) stream.files.push(call.newFile);
  if (call.outcome === 'late') {
    stream.lateCalls += 1;
    stream.lateRecords += call.accepted;
  }
}
