// `npm run events`: which delivered events to print. Pure: file names, their text, the session's
// start and the clock are parameters (scripts/events.ts reads the files).
//
// A session is one `npm start`: it records when it started (scripts/dev.ts writes
// `<DATA_DIR>/session.json`), and every file the local endpoints write carries the start of the
// endpoint that wrote it in its name (scripts/local-firehose/sink.ts `instanceTag`). A file of
// this session is one whose endpoint started at or after the session did; earlier sessions'
// files stay on disk and are skipped.

/** Written by `npm start` in its data directory: `{ "startedAt": ISO time }`. */
export const SESSION_FILE = 'session.json';

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface EventsArgs {
  /** Print events whose time is at or after this instant (ms); undefined: every one. */
  sinceMs: number | undefined;
  /** Wait until at least this many events match, then print them. */
  wait: number;
  /** Give up waiting after this many ms (exit 1). */
  timeoutMs: number;
  /** Keep printing events as they land. */
  follow: boolean;
  /** Read the local Segment endpoint's files (forwarded copies) instead of Firehose's. */
  forwarded: boolean;
}

// Ours: the docs' blocks wait for events that land in 2–7 s; 30 s leaves room for a loaded
// machine and still ends a pasted block that waits for something that never comes.
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 30;

export const EVENTS_USAGE = `Usage: npm run -s events -- [--since TIME] [--wait N [--timeout S]] [--follow] [--forwarded]

Prints the events the local Firehose endpoint received during the current (or last) npm start
session, one JSON line each, as delivered.
  --since TIME   only events received at or after TIME: epoch seconds, an ISO date, or a
                 duration before now (30s, 5m, 2h)
  --wait N       wait until at least N events match, then print them (exit 1 after --timeout)
  --timeout S    seconds --wait waits (default ${DEFAULT_WAIT_TIMEOUT_SECONDS})
  --follow       keep printing events as they land (Ctrl-C stops)
  --forwarded    the copies forwarded to the local Segment endpoint instead
Reads DATA_DIR (default .data), as npm start does.
`;

const DURATION = /^(\d+)(s|m|h)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;
// Epoch seconds until the year 5138; anything larger is read as milliseconds.
const EPOCH_SECONDS_BELOW = 1e11;

/** `--since`'s value as an instant in ms. */
export function parseSince(value: string, nowMs: number): Result<number> {
  const duration = DURATION.exec(value);
  if (duration !== null) {
    const unit = duration[2] as keyof typeof UNIT_MS;
    return { ok: true, value: nowMs - Number(duration[1]) * UNIT_MS[unit] };
  }
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    return { ok: true, value: n < EPOCH_SECONDS_BELOW ? n * 1000 : n };
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    return {
      ok: false,
      error: `--since ${value}: give epoch seconds, an ISO date or a duration (30s, 5m, 2h)`,
    };
  }
  return { ok: true, value: parsed };
}

function positiveInteger(flag: string, value: string | undefined): Result<number> {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) {
    return { ok: false, error: `${flag} takes a whole number of at least 1, not ${value ?? '—'}` };
  }
  return { ok: true, value: Number(value) };
}

/** The command line, or what is wrong with it. */
export function parseEventsArgs(argv: readonly string[], nowMs: number): Result<EventsArgs> {
  const args: EventsArgs = {
    sinceMs: undefined,
    wait: 0,
    timeoutMs: DEFAULT_WAIT_TIMEOUT_SECONDS * 1000,
    follow: false,
    forwarded: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--follow') args.follow = true;
    else if (flag === '--forwarded') args.forwarded = true;
    else if (flag === '--since') {
      const since = parseSince(argv[++i] ?? '', nowMs);
      if (!since.ok) return since;
      args.sinceMs = since.value;
    } else if (flag === '--wait' || flag === '--timeout') {
      const n = positiveInteger(flag, argv[++i]);
      if (!n.ok) return n;
      if (flag === '--wait') args.wait = n.value;
      else args.timeoutMs = n.value * 1000;
    } else return { ok: false, error: `unknown argument ${flag ?? ''}` };
  }
  return { ok: true, value: args };
}

// `<name>-YYYY-MM-DD-HH-MM-SS-<pid>-<random>.ndjson` (sink.ts instanceTag): the endpoint's start.
const FILE_STAMP = /-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-\d+-[0-9a-f]+\.ndjson$/;

/** When the endpoint that wrote this file started (ms, whole seconds), from its name. */
export function fileStartMs(name: string): number | undefined {
  const m = FILE_STAMP.exec(name);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, ...number[]];
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s);
}

/** Whether a delivered file was written during the session that started at `sessionMs`. */
export function inSession(name: string, sessionMs: number): boolean {
  const start = fileStartMs(name);
  // The stamp has whole seconds: an endpoint started in the session's first second counts.
  return start !== undefined && start >= Math.floor(sessionMs / 1000) * 1000;
}

function parsed(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** When the collector received a delivered event: its `receivedAt`. */
export function eventTimeMs(line: string): number | undefined {
  const at = parsed(line)?.['receivedAt'];
  if (typeof at !== 'string') return undefined;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? undefined : ms;
}

const nonEmpty = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

/** The event lines of a file's text that pass `--since`. */
export function selectLines(text: string, sinceMs: number | undefined): string[] {
  const lines = nonEmpty(text);
  if (sinceMs === undefined) return lines;
  return lines.filter((line) => (eventTimeMs(line) ?? -Infinity) >= sinceMs);
}

/** The `messageId`s of delivered event lines. */
export function messageIdsOf(lines: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const line of lines) {
    const id = parsed(line)?.['messageId'];
    if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

/**
 * The forwarded copies among a file's lines that pass `--since`: a copy drops `receivedAt`
 * (docs/forwarding.md), so it passes when the delivered event with its `messageId` does.
 * `delivered` is undefined without `--since`: every copy passes.
 */
export function selectForwarded(text: string, delivered: Set<string> | undefined): string[] {
  const lines = nonEmpty(text);
  if (delivered === undefined) return lines;
  return lines.filter((line) => {
    const id = parsed(line)?.['messageId'];
    return typeof id === 'string' && delivered.has(id);
  });
}
