// `npm run -s events`: prints the events delivered to the local Firehose endpoint (or, with
// --forwarded, to the local Segment endpoint) during the current `npm start` session, one JSON
// line each, exactly as delivered; --since keeps the ones received from a moment on, --wait N
// waits for them to land, --follow keeps printing. Which lines is scripts/events/select.ts;
// this file reads the files. The docs' shell blocks use it so they work when pasted whole.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from './dev/config';
import {
  EVENTS_USAGE,
  inSession,
  messageIdsOf,
  parseEventsArgs,
  selectForwarded,
  selectLines,
  SESSION_FILE,
  type EventsArgs,
} from './events/select';

// Ours: how often --wait and --follow look for new lines; events land in seconds.
const POLL_MS = 250;

function fail(message: string, code: number): never {
  process.stderr.write(`npm run events: ${message}\n`);
  process.exit(code);
}

async function sessionStartMs(dataDir: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(join(dataDir, SESSION_FILE), 'utf8');
  } catch {
    fail(`no npm start session in ${dataDir}: run npm start first`, 1);
  }
  const startedAt = Date.parse((JSON.parse(text) as { startedAt?: string }).startedAt ?? '');
  if (Number.isNaN(startedAt)) fail(`${join(dataDir, SESSION_FILE)} has no startedAt`, 1);
  return startedAt;
}

async function ndjsonFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ndjson'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * This session's new lines under `dir`, as `select` keeps them; `seen` holds how many of each
 * file's lines were read before.
 */
async function readNew(
  dir: string,
  sessionMs: number,
  select: (text: string) => string[],
  seen: Map<string, number>,
): Promise<string[]> {
  const out: string[] = [];
  for (const file of await ndjsonFiles(dir)) {
    if (!inSession(file, sessionMs)) continue;
    const text = await readFile(file, 'utf8');
    // Only complete lines: the endpoint appends whole records, but a read may race a write.
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    const lines = complete.split('\n').filter((line) => line.trim() !== '');
    const from = seen.get(file) ?? 0;
    seen.set(file, lines.length);
    out.push(...select(lines.slice(from).join('\n')));
  }
  return out;
}

/** The events (or forwarded copies) printed next, by the command line's filters. */
function reader(args: EventsArgs, dataDir: string, sessionMs: number): () => Promise<string[]> {
  const firehoseDir = join(dataDir, 'firehose');
  const seen = new Map<string, number>();
  const since = (text: string): string[] => selectLines(text, args.sinceMs);
  if (!args.forwarded) return () => readNew(firehoseDir, sessionMs, since, seen);
  // A copy has no receivedAt: it is in when the delivered event of its messageId is.
  const delivered = args.sinceMs === undefined ? undefined : new Set<string>();
  const seenDelivered = new Map<string, number>();
  return async () => {
    if (delivered !== undefined) {
      const lines = await readNew(firehoseDir, sessionMs, since, seenDelivered);
      for (const id of messageIdsOf(lines)) delivered.add(id);
    }
    return readNew(join(dataDir, 'segment'), sessionMs, (t) => selectForwarded(t, delivered), seen);
  };
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(EVENTS_USAGE);
  process.exit(0);
}
const parsed = parseEventsArgs(argv, Date.now());
if (!parsed.ok) fail(`${parsed.error}\n\n${EVENTS_USAGE}`, 2);
const args = parsed.value;
const dataDir = process.env['DATA_DIR'] || DEFAULT_DATA_DIR;
const readMore = reader(args, dataDir, await sessionStartMs(dataDir));

const found: string[] = [];
const deadline = Date.now() + args.timeoutMs;
for (;;) {
  found.push(...(await readMore()));
  if (found.length >= args.wait) break;
  if (Date.now() >= deadline) {
    process.stdout.write(found.map((line) => `${line}\n`).join(''));
    fail(`waited ${args.timeoutMs / 1000} s for ${args.wait} events; ${found.length} landed`, 1);
  }
  await sleep(POLL_MS);
}
process.stdout.write(found.map((line) => `${line}\n`).join(''));
while (args.follow) {
  await sleep(POLL_MS);
  const more = await readMore();
  process.stdout.write(more.map((line) => `${line}\n`).join(''));
}
