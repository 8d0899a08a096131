// Helpers for end-to-end tests: the real stack on loopback (scripts/stack.ts), and reading back
// what the local Firehose endpoint wrote.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyDirectory } from '../../scripts/local-segment/server';
import { startStack, type Stack, type StackOptions } from '../../scripts/stack';

export const SEED_KEY = '8GT90rhOugcEGAqdcBWP8muss7iSwwHy';

export interface TestStack extends Stack {
  dataDir: string;
  /** Where the local Segment endpoint writes, when the stack forwards. */
  segmentDataDir: string;
  /** Wrangler's and the endpoint's log lines, for assertions on what was logged. */
  logs: string[];
  cleanup(): Promise<void>;
}

export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ndc-e2e-firehose-'));
  const persistTo = await mkdtemp(join(tmpdir(), 'ndc-e2e-wrangler-'));
  const segmentDataDir = await mkdtemp(join(tmpdir(), 'ndc-e2e-segment-'));
  const logs: string[] = [];
  const stack = await startStack({
    dataDir,
    persistTo,
    // The Worker under test gets wrangler.toml's [vars] and the test's, never a .dev.vars.
    devVars: false,
    segmentDataDir,
    log: (line) => logs.push(line),
    ...options,
    vars: { DELIVERY_RETRY_MAX_SECONDS: '2', METRICS_FLUSH_SECONDS: '1', ...options.vars },
  });
  return Object.assign(stack, {
    dataDir,
    segmentDataDir,
    logs,
    async cleanup() {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(persistTo, { recursive: true, force: true });
      await rm(segmentDataDir, { recursive: true, force: true });
    },
  });
}

/** Every .ndjson file under a directory, depth first, sorted by path. */
async function ndjsonFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await ndjsonFiles(path)));
    else if (e.name.endsWith('.ndjson')) out.push(path);
  }
  return out;
}

/**
 * Every event the endpoint wrote for the stack's stream, parsed: read from the data directory,
 * so files of an endpoint that was restarted mid-run count too.
 */
export async function landedText(stack: TestStack): Promise<string> {
  const files = await ndjsonFiles(join(stack.dataDir, stack.stream));
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  return texts.join('');
}

export async function landed(stack: TestStack): Promise<Array<Record<string, unknown>>> {
  return parsedLines(await ndjsonFiles(join(stack.dataDir, stack.stream)));
}

/**
 * Every event the local Segment endpoint accepted under a destination write key, parsed: read
 * from its data directory, so the files of an endpoint that was restarted mid-run count too.
 */
export async function forwarded(
  stack: TestStack,
  writeKey: string,
): Promise<Array<Record<string, unknown>>> {
  return parsedLines(await ndjsonFiles(join(stack.segmentDataDir, keyDirectory(writeKey))));
}

async function parsedLines(files: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (const file of files) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (line !== '') out.push(JSON.parse(line) as Record<string, unknown>);
    }
  }
  return out;
}

export interface Tally {
  distinct: number;
  duplicates: number;
  missing: string[];
}

/** How many of `expected` messageIds landed, and how many landed more than once. */
export function tally(events: Array<Record<string, unknown>>, expected: readonly string[]): Tally {
  const counts = new Map<string, number>();
  for (const e of events) {
    const id = String(e['messageId']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const missing = expected.filter((id) => !counts.has(id));
  let duplicates = 0;
  for (const id of expected) duplicates += Math.max(0, (counts.get(id) ?? 0) - 1);
  return { distinct: expected.length - missing.length, duplicates, missing };
}

/**
 * Polls until every expected messageId has landed, or the timeout passes. Each poll reads and
 * parses every file, so it waits four times as long as the last read took (at least 500 ms):
 * the local Firehose, in this same process, keeps answering promptly.
 */
export async function waitForAll(
  stack: TestStack,
  expected: readonly string[],
  timeoutMs: number,
): Promise<Tally> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const started = Date.now();
    const t = tally(await landed(stack), expected);
    if (t.missing.length === 0 || Date.now() > deadline) return t;
    await new Promise((r) => setTimeout(r, Math.max(500, 4 * (Date.now() - started))));
  }
}

export function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/**
 * POSTs one body to `path` with write key `key` (the seed's by default), retrying 5xx answers
 * with backoff as the SDKs do; 4xx throws.
 */
export async function postAccepted(
  stack: Stack,
  path: string,
  body: string,
  key = SEED_KEY,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${stack.workerUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: basic(key), 'Content-Type': 'application/json' },
      body,
    });
    const text = await res.text();
    if (res.status === 200) return;
    if (res.status < 500 || attempt > 10)
      throw new Error(`${path} answered ${res.status}: ${text}`);
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
}

/** POSTs `events` to /v1/batch in batches of `size`. */
export async function postInBatches(
  stack: Stack,
  events: ReadonlyArray<Record<string, unknown>>,
  size: number,
): Promise<void> {
  for (let i = 0; i < events.length; i += size) {
    await postAccepted(stack, '/v1/batch', JSON.stringify({ batch: events.slice(i, i + size) }));
  }
}

/** POSTs each event as its own /v1/track call, `concurrency` at a time. */
export async function postSingles(
  stack: Stack,
  events: ReadonlyArray<Record<string, unknown>>,
  concurrency: number,
  key = SEED_KEY,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < events.length) {
      await postAccepted(stack, '/v1/track', JSON.stringify(events[next++]), key);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sum of every sample of a metric family in Prometheus text, optionally filtered by a label. */
export function metricSum(text: string, name: string, label?: string): number {
  return text
    .split('\n')
    .filter(
      (l) =>
        (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) &&
        (label === undefined || l.includes(label)),
    )
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

export async function metricsText(stack: Stack): Promise<string> {
  return (await fetch(`${stack.workerUrl}/metrics`)).text();
}

/**
 * Waits until the local endpoint has received no call for `quietMs`: with retry delays capped
 * at 2 s and consumer batches at 2 s in the test stack, a quiet period longer than both means
 * no message is left on the queues, so a late duplicate cannot still arrive.
 */
export async function waitForQuiet(
  stack: Stack,
  quietMs: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let calls = stack.firehose.stats().calls;
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = stack.firehose.stats().calls;
    if (now !== calls) {
      calls = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`the queues did not drain within ${timeoutMs} ms`);
  }
}

/**
 * Waits until the local Segment endpoint has received no call for `quietMs` (a restarted
 * endpoint counts as activity): no copy is left on the forward queue or in flight.
 */
export async function waitForSegmentQuiet(
  stack: Stack,
  quietMs: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = stack.segment;
  let calls = seen?.stats().calls ?? 0;
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = stack.segment?.stats().calls ?? 0;
    if (stack.segment !== seen || now !== calls) {
      seen = stack.segment;
      calls = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
    if (Date.now() > deadline)
      throw new Error(`the forward queue did not drain within ${timeoutMs} ms`);
  }
}
