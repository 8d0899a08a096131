// The status page's counts: per minute and per source, events received, delivered, rejected and
// dead-lettered, and the delivery lag, for the last STATUS_MINUTES minutes. Isolates add to
// their buffer's ring and flush it with their metrics; each metrics shard merges the rings it
// receives into its own, kept in the snapshot it already writes (no row of its own); GET
// /admin/status merges the shards' rings and frames the last hour (`statusSeries`). Pure.
//
// A ring is bounded whatever arrives: STATUS_MINUTES minutes (the newest), STATUS_MAX_SOURCES
// sources a minute, source names cut like label values. Rings from RPC and storage are read as
// untrusted: anything malformed is skipped, never thrown on.

import { normalizeLabelValue } from './series';

// Issue 26: "the last 60 minutes per minute, per source".
export const STATUS_MINUTES = 60;

// Ours: sources are WRITE_KEYS' names, a handful to a few dozen. At 50 sources of 128-character
// names the full ring is ~0.6 MB of JSON; at 10 sources of short names (the cost model) ~40 KB,
// inside the snapshot's first row, so it adds no row written (docs/observability.md).
export const STATUS_MAX_SOURCES = 50;

export const MINUTE_MS = 60_000;

/** The fields of one source's minute, in the order its array holds them. */
export const STATUS_FIELDS = [
  'received',
  'delivered',
  'rejected',
  'deadLettered',
  /** Sum over delivered events of seconds from receipt to delivery. */
  'lagSumSeconds',
  /** The longest of those lags. */
  'lagMaxSeconds',
] as const;
export type StatusField = (typeof STATUS_FIELDS)[number];

const LAG_SUM = STATUS_FIELDS.indexOf('lagSumSeconds');
const LAG_MAX = STATUS_FIELDS.indexOf('lagMaxSeconds');

/** Minute (Unix minutes, as text) → source → one number per STATUS_FIELDS entry. */
export type MinuteCounts = Record<string, Record<string, number[]>>;

export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isAmount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

// Rings cross Workers RPC, which clones only plain objects, so a source is a plain key: one
// named `__proto__` (a valid source name) would set the prototype instead, and is not counted.
const UNKEYABLE = '__proto__';

/** A source's row of a minute, never an inherited property (`constructor`, `toString`). */
function rowOf(
  sources: Record<string, number[]> | undefined,
  source: string,
): number[] | undefined {
  return sources !== undefined && Object.hasOwn(sources, source) ? sources[source] : undefined;
}

/** Adds one source's numbers to a minute, in place; a new source past the cap is dropped. */
function addRow(ring: MinuteCounts, minute: string, source: string, row: readonly number[]): void {
  if (source === UNKEYABLE) return;
  let sources = ring[minute];
  if (sources === undefined) {
    sources = {};
    ring[minute] = sources;
  }
  let into = rowOf(sources, source);
  if (into === undefined) {
    if (Object.keys(sources).length >= STATUS_MAX_SOURCES) return;
    into = STATUS_FIELDS.map(() => 0);
    sources[source] = into;
  }
  for (let i = 0; i < STATUS_FIELDS.length; i++) {
    const add = row[i] ?? 0;
    const sum = i === LAG_MAX ? Math.max(into[i] ?? 0, add) : (into[i] ?? 0) + add;
    // Lags to the millisecond: the ring's JSON stays short (no 0.30000000000000004).
    into[i] = i >= LAG_SUM ? Math.round(sum * 1000) / 1000 : sum;
  }
}

/** Drops all but the newest STATUS_MINUTES minutes, in place. */
function trim(ring: MinuteCounts): void {
  const minutes = Object.keys(ring)
    .map(Number)
    .sort((a, b) => b - a);
  for (const old of minutes.slice(STATUS_MINUTES)) delete ring[String(old)];
}

// A source name as WRITE_KEYS allows it (src/segment/write-keys.ts), which needs no normalizing.
const PLAIN_SOURCE = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Adds counts of one source at one minute (Unix minutes), in place. On the ingest path (once per
 * request): the ring is trimmed only when a minute is added.
 */
export function addMinute(
  ring: MinuteCounts,
  minute: number,
  source: string,
  counts: Partial<Record<StatusField, number>>,
): void {
  if (!Number.isSafeInteger(minute) || minute < 0) return;
  const row: number[] = [];
  for (const field of STATUS_FIELDS) {
    const value = counts[field] ?? 0;
    if (!isAmount(value)) return;
    row.push(value);
  }
  const key = String(minute);
  const added = ring[key] === undefined;
  addRow(ring, key, PLAIN_SOURCE.test(source) ? source : normalizeLabelValue(source), row);
  if (added) trim(ring);
}

/** Adds a ring read from RPC or storage to `into`, in place, skipping whatever is malformed. */
export function mergeMinutes(into: MinuteCounts, from: unknown): MinuteCounts {
  if (!isRecord(from)) return into;
  for (const [minute, sources] of Object.entries(from)) {
    if (!/^\d{1,15}$/.test(minute) || !isRecord(sources)) continue;
    for (const [source, row] of Object.entries(sources)) {
      if (!Array.isArray(row) || row.length !== STATUS_FIELDS.length || !row.every(isAmount))
        continue;
      if (normalizeLabelValue(source) !== source) continue;
      addRow(into, String(Number(minute)), source, row);
    }
  }
  trim(into);
  return into;
}

/** One source's series, one entry per minute of `minutes`. */
export interface SourceSeries {
  received: number[];
  delivered: number[];
  rejected: number[];
  deadLettered: number[];
  /** Mean seconds from receipt to delivery of the minute's delivered events; null when none. */
  lagSeconds: Array<number | null>;
  /** The longest of those; null when none. */
  lagMaxSeconds: Array<number | null>;
}

/** What GET /admin/status answers. */
export interface StatusSeries {
  /** The start of each minute, ISO-8601, oldest first; the last is the current minute. */
  minutes: string[];
  sources: Record<string, SourceSeries>;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * The last STATUS_MINUTES minutes up to `nowMs`, for every source in `known` (WRITE_KEYS) and
 * every source the ring counted in that hour, sorted by name; a minute without counts is 0.
 */
export function statusSeries(
  ring: MinuteCounts,
  nowMs: number,
  known: readonly string[],
): StatusSeries {
  const last = minuteOf(nowMs);
  const window = Array.from({ length: STATUS_MINUTES }, (_v, i) => last - STATUS_MINUTES + 1 + i);
  const names = new Set(known);
  for (const m of window) Object.keys(ring[String(m)] ?? {}).forEach((s) => names.add(s));
  names.delete(UNKEYABLE);
  const sources: Record<string, SourceSeries> = {};
  for (const name of [...names].sort()) {
    const rows = window.map((m) => rowOf(ring[String(m)], name));
    const field = (f: StatusField): number[] => rows.map((r) => r?.[STATUS_FIELDS.indexOf(f)] ?? 0);
    const delivered = field('delivered');
    const lagSum = field('lagSumSeconds');
    const lagMax = field('lagMaxSeconds');
    sources[name] = {
      received: field('received'),
      delivered,
      rejected: field('rejected'),
      deadLettered: field('deadLettered'),
      lagSeconds: delivered.map((d, i) => (d > 0 ? round3((lagSum[i] ?? 0) / d) : null)),
      lagMaxSeconds: delivered.map((d, i) => (d > 0 ? round3(lagMax[i] ?? 0) : null)),
    };
  }
  return { minutes: window.map((m) => new Date(m * MINUTE_MS).toISOString()), sources };
}
