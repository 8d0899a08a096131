// This isolate's metrics: the buffer every request and batch records into, the scheduler that
// flushes it to one Durable Object shard, and the cached read of all shards for /metrics and
// /health. Adapter: the only module here that touches the METRICS binding.

import type { Env } from '../env';
import { MetricsBuffer } from './buffer';
import { FlushScheduler, flushIntervalMs, type FlushIo } from './flush';
import { METRICS_SHARDS } from './limits';
import { mergeMinutes, type MinuteCounts } from './minutes';
import type { MetricsShard } from './object';
import { mergeStates, type MetricsState } from './state';

// Workers: random values cannot be made at global scope, so the isolate's id is made lazily.
let isolateId: string | undefined;
const isolate = (): string => (isolateId ??= crypto.randomUUID());

export const isolateBuffer = new MetricsBuffer();
export const isolateScheduler = new FlushScheduler(isolateBuffer, isolate);

// Chosen once per isolate, at its first flush, so isolates spread over the shards and each
// shard sees an isolate's sequence numbers in order.
let shard: number | undefined;

function stub(env: Env, index: number): DurableObjectStub<MetricsShard> {
  return env.METRICS.get(env.METRICS.idFromName(`shard-${index}`));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function io(env: Env): FlushIo {
  return {
    sleep,
    send: async (batch) => {
      shard ??= Math.floor(Math.random() * METRICS_SHARDS);
      await stub(env, shard).apply(batch);
    },
  };
}

/** At the end of every invocation: arm a flush if one is due, kept alive by waitUntil. */
export function scheduleFlush(env: Env, ctx: Pick<ExecutionContext, 'waitUntil'>): void {
  const pending = isolateScheduler.schedule(io(env), flushIntervalMs(env.METRICS_FLUSH_SECONDS));
  if (pending !== undefined) ctx.waitUntil(pending);
}

// Issue #9: "/metrics and /health use a merged snapshot cached per isolate for a few seconds".
// Never longer than the flush interval, so a test with 1 s flushes sees 1 s freshness.
export const SCRAPE_CACHE_MAX_MS = 5000;
// Ours: how long a scrape waits for another request's read of the shards before reading itself.
export const SCRAPE_WAIT_MAX_MS = 3000;
const SCRAPE_POLL_MS = 20;

let cached: { at: number; state: MetricsState } | undefined;
let reading = false;
/** Reads of every shard this isolate made (each is METRICS_SHARDS Durable Object requests). */
export const scrapeReads = { count: 0 };

/**
 * Every shard's state summed, from this isolate's cache when it is fresh. A flood of scrapes
 * costs one read of each shard per isolate per cache window: while one request reads, the
 * others poll for its result (they must not await its promise: Workers forbid waiting on
 * another request's I/O) and read themselves only if it does not come.
 */
export async function readMetrics(env: Env): Promise<MetricsState> {
  const ttl = Math.min(SCRAPE_CACHE_MAX_MS, flushIntervalMs(env.METRICS_FLUSH_SECONDS));
  const started = Date.now();
  const fresh = (): MetricsState | undefined =>
    cached !== undefined && Date.now() - cached.at < ttl ? cached.state : undefined;
  const hit = fresh();
  if (hit !== undefined) return hit;
  while (reading && Date.now() - started < SCRAPE_WAIT_MAX_MS) {
    await sleep(SCRAPE_POLL_MS);
    const waited = fresh();
    if (waited !== undefined) return waited;
  }
  reading = true;
  try {
    scrapeReads.count += 1;
    const states = await Promise.all(
      Array.from({ length: METRICS_SHARDS }, (_v, i) => stub(env, i).snapshot()),
    );
    const state = mergeStates(states);
    cached = { at: Date.now(), state };
    return state;
  } finally {
    reading = false;
  }
}

/** Drops the cached read, so the next scrape reads the shards (tests). */
export function forgetScrape(): void {
  cached = undefined;
}

let cachedStatus: { at: number; ring: MinuteCounts } | undefined;

/**
 * The status page's per-minute counts of every shard, merged, from this isolate's copy when it
 * is fresher than the scrape cache: an open page's refreshes cost one read of the shards per
 * isolate per window, however many pages are open.
 */
export async function readStatusMinutes(env: Env): Promise<MinuteCounts> {
  const ttl = Math.min(SCRAPE_CACHE_MAX_MS, flushIntervalMs(env.METRICS_FLUSH_SECONDS));
  if (cachedStatus !== undefined && Date.now() - cachedStatus.at < ttl) return cachedStatus.ring;
  const rings = await Promise.all(
    Array.from({ length: METRICS_SHARDS }, (_v, i) => stub(env, i).statusMinutes()),
  );
  const ring: MinuteCounts = {};
  for (const r of rings) mergeMinutes(ring, r);
  cachedStatus = { at: Date.now(), ring };
  return ring;
}
