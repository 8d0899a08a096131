// The bill: every billed line of the collector at a given traffic, from the delivery model (the
// real packers over a request mix), the measured CPU per event, and the design's own constants
// (flush interval, shards, persist intervals), each price cited in bench/prices.ts. Pure.
//
// Lines: Workers requests and CPU; Queues operations (events queues and the DLQ); Firehose
// ingestion; Durable Objects for metrics (requests, duration, rows written) and for dedupe (the
// same three); Analytics Engine data points; R2 operations of the archive; tracking plans (the
// KV reads of the plans' index and bodies, the CPU of checking events, and the blocked events'
// way in the events messages to R2); the live debugger's watch-list reads when nobody
// watches (what watching costs is stated, not modelled); the status page (its reads of the
// shards while a page is open, and any row its per-minute ring adds to the shards' snapshot);
// forwarding (docs/forwarding.md), an optional line left out of the totals; and privacy
// (docs/privacy.md): the registry's index read by every isolate once per PRIVACY_CACHE_SECONDS,
// and, optional, the policy's CPU. What is assumed rather than measured is in ModelAssumptions,
// each stated in the bench output. Apart
// from the bill: what an outage that holds events back (refused credentials, a dedupe shard
// down) adds per million events held (outageCost: retries, requeued copies, the consumer runs
// and dedupe calls they make).

import {
  DEDUPE_MAX_KEYS_PER_SHARD,
  DEDUPE_PERSIST_SECONDS,
  DEDUPE_SHARDS_DEFAULT,
} from '../src/dedupe/limits';
import { DEBUGGER_WATCH_CACHE_SECONDS, DEBUGGER_WATCH_REFRESH_MS } from '../src/debugger/limits';
import {
  ANALYTICS_INTERVAL_MS,
  METRICS_PERSIST_MAX_MS,
  METRICS_SHARDS,
  METRICS_SNAPSHOT_PART_CHARS,
} from '../src/metrics/limits';
import { addMinute, STATUS_MINUTES, type MinuteCounts } from '../src/metrics/minutes';
import { STATUS_REFRESH_SECONDS } from '../src/status/page';
import { TRACKING_PLAN_CACHE_SECONDS_DEFAULT } from '../src/plans/limits';
import { PRIVACY_CACHE_SECONDS_DEFAULT } from '../src/privacy/limits';
import { DELIVERY_MAX_ATTEMPTS, RETRY_BASE_SECONDS } from '../src/queue/retry';
import { REQUEUE_LAST_ATTEMPTS } from '../src/queue/step';
import { attempts, retryKey, type DeliveryFigures } from './delivery';
import {
  ANALYTICS_ENGINE_USD_PER_MILLION_POINTS,
  DO_BILLED_GB,
  DO_USD_PER_MILLION_GB_SECONDS,
  DO_USD_PER_MILLION_REQUESTS,
  DO_USD_PER_MILLION_ROWS_READ,
  DO_USD_PER_MILLION_ROWS_WRITTEN,
  FIREHOSE_BYTES_PER_BILLED_GB,
  FIREHOSE_STREAM_MAX_BYTES_PER_SECOND,
  FIREHOSE_STREAM_MAX_CALLS_PER_SECOND,
  FIREHOSE_STREAM_MAX_RECORDS_PER_SECOND,
  FIREHOSE_USD_PER_GB,
  KV_USD_PER_MILLION_READS,
  KV_USD_PER_MILLION_WRITES,
  QUEUE_MAX_CONSUMER_BATCH_MESSAGES,
  QUEUE_MAX_MESSAGES_PER_SECOND,
  QUEUES_OPERATION_UNIT_BYTES,
  QUEUES_USD_PER_MILLION_OPERATIONS,
  R2_USD_PER_MILLION_CLASS_A,
  SECONDS_PER_MONTH,
  WORKERS_USD_PER_MILLION_CPU_MS,
  WORKERS_USD_PER_MILLION_REQUESTS,
} from './prices';

const MILLION = 1_000_000;
const SECONDS_PER_DAY = 86_400;

// Ours, from src/dedupe/window.ts: 9 bytes a slot at a load of 0.75–0.8, and up to 1.25 windows
// of keys kept (generations): what a dedupe shard holds per key of the window.
export const DEDUPE_BYTES_PER_WINDOW_KEY = 15;

export interface ModelAssumptions {
  /** Active isolates serving the traffic (ingest and consumers together). */
  isolates: number;
  /** METRICS_FLUSH_SECONDS. */
  flushSeconds: number;
  /** Distinct sources and streams: one Analytics Engine point each per shard and interval. */
  sources: number;
  streams: number;
  /** Prometheus scrapes plus /health checks per second, each a read of every metrics shard. */
  scrapesPerSecond: number;
  /** Wall time a Durable Object is active per request (not measured here: assumed, stated). */
  metricsRequestMs: number;
  dedupeRequestMs: number;
  /** DEDUPE_WINDOW_SECONDS; 0 turns the dedupe lines off. */
  dedupeWindowSeconds: number;
  /** Share of queue messages dead-lettered (and so archived to R2). */
  deadLetterShare: number;
  /** Share of deliveries that fail and are retried. */
  retryRate: number;
  /** TRACKING_PLAN_CACHE_SECONDS: each isolate reads the plans' index once per this. */
  planCacheSeconds: number;
  /** Plans saved per day (all sources): each makes every isolate read one plan body. */
  planChangesPerDay: number;
  /** Share of events a tracking plan blocks (queued with the rest, archived under blocked/). */
  blockedShare: number;
  /**
   * Cloudflare data centres serving the traffic: each keeps the debugger's watch list in its
   * cache (the Cache API) and reads the registry once per DEBUGGER_WATCH_CACHE_SECONDS.
   */
  dataCentres: number;
  /** Whether the Cache API works (a custom domain); on *.workers.dev it does nothing. */
  cacheApi: boolean;
  /** Wall time the debugger's registry object is active per read. */
  debuggerRequestMs: number;
  /** Share of events whose source is forwarded (FORWARD_WRITE_KEYS); the forwarding line. */
  forwardedShare: number;
  /** PRIVACY_CACHE_SECONDS: each isolate reads the privacy registry's index once per this. */
  privacyCacheSeconds: number;
  /** Wall time the privacy registry object is active per index read. */
  privacyRequestMs: number;
  /** Status pages open all month, each reading every shard once per STATUS_REFRESH_SECONDS. */
  statusViewers: number;
  /** Characters of a metrics shard's snapshot without the status ring (its counters' state). */
  metricsStateChars: number;
}

export const DEFAULT_ASSUMPTIONS: Omit<ModelAssumptions, 'isolates'> = {
  flushSeconds: 10,
  sources: 10,
  streams: 1,
  // A Prometheus scrape every 15 s and a /health check every 10 s.
  scrapesPerSecond: 1 / 15 + 1 / 10,
  metricsRequestMs: 2,
  dedupeRequestMs: 5,
  dedupeWindowSeconds: 3600,
  deadLetterShare: 0.0001,
  retryRate: 0,
  planCacheSeconds: TRACKING_PLAN_CACHE_SECONDS_DEFAULT,
  planChangesPerDay: 10,
  blockedShare: 0.01,
  dataCentres: 50,
  cacheApi: true,
  debuggerRequestMs: 2,
  // The forwarding line is shown for every source forwarded.
  forwardedShare: 1,
  privacyCacheSeconds: PRIVACY_CACHE_SECONDS_DEFAULT,
  privacyRequestMs: 2,
  // One page open day and night (a wall screen): the most one team plausibly has.
  statusViewers: 1,
  // ~150 series (10 sources × 6 types, routes × statuses, reasons, streams) at ~100 characters,
  // and two histograms.
  metricsStateChars: 20_000,
};

export const LINES = [
  'workers_requests',
  'workers_cpu',
  'queues',
  'firehose',
  'metrics_do_requests',
  'metrics_do_duration',
  'metrics_do_rows',
  'analytics_engine',
  'dedupe_do_requests',
  'dedupe_do_duration',
  'dedupe_do_rows',
  'r2_archive',
  'tracking_plan_kv',
  'tracking_plan_cpu',
  'tracking_plan_blocked',
  'debugger',
  'status_page',
  'forwarding',
  'privacy',
  'privacy_cpu',
] as const;
export type Line = (typeof LINES)[number];

/**
 * Lines of what costs only once an operator turns it on: checking events against tracking
 * plans and archiving the blocked ones (no source has a plan by default; the plans' index is
 * read whenever TRACKING_PLANS is bound, so its KV reads stay in), and forwarding (off by
 * default, temporary while a team moves off Segment). Shown, left out of the totals and the
 * metrics share; the features table adds them up per feature.
 */
export const OPTIONAL_LINES: readonly Line[] = [
  'tracking_plan_cpu',
  'tracking_plan_blocked',
  'forwarding',
  'privacy_cpu',
];
const BILLED_LINES = LINES.filter((l) => !OPTIONAL_LINES.includes(l));

/** The lines that are the collector's own observability (issue #9's "metrics share"). */
export const METRICS_LINES: readonly Line[] = [
  'metrics_do_requests',
  'metrics_do_duration',
  'metrics_do_rows',
  'analytics_engine',
];

export interface Infrastructure {
  queues: number;
  streams: number;
  streamBoundBy: 'bytes' | 'calls' | 'records';
  metricShards: number;
  /** Requests per second each metrics shard receives (flushes, alarms, scrape reads). */
  metricShardRequestsPerSecond: number;
  dedupeShards: number;
  dedupeKeysPerShard: number;
  dedupeMegabytesPerShard: number;
  /** Durable Object calls per consumer batch (one per dedupe shard it has keys for). */
  dedupeCallsPerBatch: number;
}

export interface CostAt {
  label: string;
  eventsPerSecond: number;
  isolates: number;
  retryRate: number;
  usdPerMonth: Record<Line, number>;
  usdPerMillionEvents: Record<Line, number>;
  totalUsdPerMonth: number;
  totalUsdPerMillionEvents: number;
  /** Metrics Durable Objects and Analytics Engine as a share of the total (0..1). */
  metricsShare: number;
  infrastructure: Infrastructure;
}

/**
 * Reads of the debugger's registry per second when nobody watches: every isolate looks the watch
 * list up once per DEBUGGER_WATCH_REFRESH_MS; with the Cache API each data centre reads the
 * registry at most once per DEBUGGER_WATCH_CACHE_SECONDS (the other lookups are cache hits, not
 * billed), without it every lookup is a read. Nothing is per request.
 */
export function debuggerRegistryReadsPerSecond(a: ModelAssumptions): number {
  const lookups = a.isolates / (DEBUGGER_WATCH_REFRESH_MS / 1000);
  return a.cacheApi ? Math.min(lookups, a.dataCentres / DEBUGGER_WATCH_CACHE_SECONDS) : lookups;
}

/**
 * Reads of the privacy registry's index per second: every isolate once per
 * PRIVACY_CACHE_SECONDS (whatever the number of sources), each one Durable Object request.
 * Policy bodies and suppression shards are KV reads once per version per isolate (changes are
 * rare: left out).
 */
export function privacyIndexReadsPerSecond(a: ModelAssumptions): number {
  return a.isolates / Math.max(a.privacyCacheSeconds, 1);
}

/** The status ring one metrics shard holds at `sources` sources, as the real code writes it. */
export function statusRing(sources: number): MinuteCounts {
  const ring: MinuteCounts = {};
  for (let m = 0; m < STATUS_MINUTES; m++) {
    for (let s = 0; s < sources; s++) {
      // Six- and five-digit counts and lags with milliseconds: a busy shard's longest entries.
      addMinute(ring, 29_000_000 + m, `source-${String(s).padStart(2, '0')}`, {
        received: 123_456,
        delivered: 123_450,
        rejected: 12,
        deadLettered: 3,
        lagSumSeconds: 271_234.567,
        lagMaxSeconds: 12.345,
      });
    }
  }
  return ring;
}

/** What the status page adds to the metrics shards: the ring's size and rows, and its reads. */
export interface StatusFigures {
  /** Characters of one shard's full ring (STATUS_MINUTES minutes of every source). */
  ringChars: number;
  /** Rows each shard writes more per hour because the ring lengthened its snapshot. */
  extraRowsPerHourPerShard: number;
  /** Durable Object requests per second of the open pages' reads of the shards. */
  readRequestsPerSecond: number;
}

export function statusFigures(a: Omit<ModelAssumptions, 'isolates'>): StatusFigures {
  const ringChars = JSON.stringify(statusRing(a.sources)).length;
  const parts = (chars: number): number => Math.ceil(chars / METRICS_SNAPSHOT_PART_CHARS);
  const extraParts = parts(a.metricsStateChars + ringChars) - parts(a.metricsStateChars);
  const persistSeconds = Math.min(a.flushSeconds, METRICS_PERSIST_MAX_MS / 1000);
  return {
    ringChars,
    extraRowsPerHourPerShard: (extraParts * 3600) / persistSeconds,
    readRequestsPerSecond: (a.statusViewers * METRICS_SHARDS) / STATUS_REFRESH_SECONDS,
  };
}

function statusUsdPerSecond(a: Omit<ModelAssumptions, 'isolates'>): number {
  const f = statusFigures(a);
  const pageRequests = a.statusViewers / STATUS_REFRESH_SECONDS;
  return (
    (pageRequests * WORKERS_USD_PER_MILLION_REQUESTS +
      f.readRequestsPerSecond * DO_USD_PER_MILLION_REQUESTS +
      ((f.readRequestsPerSecond * a.metricsRequestMs) / 1000) *
        DO_BILLED_GB *
        DO_USD_PER_MILLION_GB_SECONDS +
      ((f.extraRowsPerHourPerShard * METRICS_SHARDS) / 3600) * DO_USD_PER_MILLION_ROWS_WRITTEN) /
    MILLION
  );
}

/** What the debugger costs per month when nobody watches: the registry's reads, billed. */
export function debuggerIdleUsdPerMonth(a: ModelAssumptions): number {
  return debuggerIdleUsdPerSecond(a) * SECONDS_PER_MONTH;
}

function debuggerIdleUsdPerSecond(a: ModelAssumptions): number {
  const reads = debuggerRegistryReadsPerSecond(a);
  return (
    (reads * DO_USD_PER_MILLION_REQUESTS) / MILLION +
    (((reads * a.debuggerRequestMs) / 1000) * DO_BILLED_GB * DO_USD_PER_MILLION_GB_SECONDS) /
      MILLION
  );
}

/** Dedupe shards a rate needs so no shard holds more than DEDUPE_MAX_KEYS_PER_SHARD keys. */
export function dedupeShardsFor(eventsPerSecond: number, windowSeconds: number): number {
  const needed = Math.ceil((eventsPerSecond * windowSeconds) / DEDUPE_MAX_KEYS_PER_SHARD);
  return Math.max(DEDUPE_SHARDS_DEFAULT, needed);
}

/**
 * Expected dedupe shards one consumer batch of `keys` keys calls when a share `routed` of them
 * came to its queue by their shard (one-event requests; each of `queues` queues owns
 * shards / queues shards: src/queue/producer.ts pickQueue) and the rest came at random.
 */
export function shardsTouchedByQueue(
  keys: number,
  routed: number,
  shards: number,
  queues: number,
): number {
  const own = shards / queues;
  const byShard = keys * routed;
  const atRandom = keys - byShard;
  const missedAtRandom = (1 - 1 / shards) ** atRandom;
  const missedOwn = (1 - 1 / own) ** byShard * missedAtRandom;
  return own * (1 - missedOwn) + (shards - own) * (1 - missedAtRandom);
}

/** The smallest multiple of `of` that is at least `n`. */
function roundUpTo(n: number, of: number): number {
  return Math.ceil(n / of) * of;
}

/** Events/s one stream carries at its quotas, and which quota binds first. */
function streamCapacity(d: DeliveryFigures): {
  perStream: number;
  boundBy: Infrastructure['streamBoundBy'];
} {
  const bounds = {
    bytes: FIREHOSE_STREAM_MAX_BYTES_PER_SECOND / d.bytesPerEvent,
    calls: FIREHOSE_STREAM_MAX_CALLS_PER_SECOND * d.eventsPerCall,
    records: FIREHOSE_STREAM_MAX_RECORDS_PER_SECOND * d.eventsPerRecord,
  };
  const [boundBy, perStream] = (
    Object.entries(bounds) as Array<[Infrastructure['streamBoundBy'], number]>
  ).sort((a, b) => a[1] - b[1])[0] ?? ['bytes', bounds.bytes];
  return { perStream, boundBy };
}

/**
 * The monthly bill at `eventsPerSecond` of the traffic `d` describes, with `cpuMsPerEvent` of
 * Workers CPU (handler and consumer, measured) per event, `planCpuMsPerEvent` more for
 * checking each event against its source's tracking plan (measured; 0: no source has a plan),
 * `forwardCpuMsPerEvent` for each forwarded event (the copy packed by the events consumer
 * and planned into a /v1/batch call by the forward consumer, measured), and
 * `privacyCpuMsPerEvent` for applying a privacy policy to each event (measured; 0: none).
 */
export function costAt(
  label: string,
  d: DeliveryFigures,
  eventsPerSecond: number,
  cpuMsPerEvent: number,
  a: ModelAssumptions,
  planCpuMsPerEvent = 0,
  forwardCpuMsPerEvent = 0,
  privacyCpuMsPerEvent = 0,
): CostAt {
  const rate = eventsPerSecond;
  const k = attempts(a.retryRate);
  const requestsPerSecond = rate * d.perEvent.requests;
  const messagesPerSecond = rate * d.perEvent.messages;
  const batchesPerSecond = rate * d.perEvent.consumerInvocations;
  const dlqMessagesPerSecond = messagesPerSecond * a.deadLetterShare;

  // Metrics: each isolate flushes at most once per interval; each shard persists (one snapshot
  // row, one setAlarm row, one alarm invocation) at most once per persist delay; each scrape
  // reads every shard.
  const persistSeconds = Math.min(a.flushSeconds, METRICS_PERSIST_MAX_MS / 1000);
  const flushes = a.isolates / a.flushSeconds;
  const alarms = METRICS_SHARDS / persistSeconds;
  const scrapeReads = a.scrapesPerSecond * METRICS_SHARDS;
  const metricsRequests = flushes + alarms + scrapeReads;
  const metricsRows = 2 * alarms;
  // The snapshot's UPDATE reads its row; restarts read it back (rare, left out).
  const metricsRowsRead = alarms;
  const points = (METRICS_SHARDS * (a.sources + a.streams + 1)) / (ANALYTICS_INTERVAL_MS / 1000);

  // Dedupe: one call per shard a consumer batch has keys for (commits ride on it); each shard
  // writes one row of keys, arms one alarm and deletes one expired row per persist interval.
  // DEDUPE_SHARDS is a multiple of the number of queues (README, "Scaling"), so one-event
  // requests go to the queue of their shard.
  const queues = Math.max(1, Math.ceil(messagesPerSecond / QUEUE_MAX_MESSAGES_PER_SECOND));
  const dedupeOn = a.dedupeWindowSeconds > 0;
  const dedupeShards = dedupeOn
    ? roundUpTo(dedupeShardsFor(rate, a.dedupeWindowSeconds), queues)
    : 0;
  const keysPerBatch = batchesPerSecond > 0 ? rate / batchesPerSecond : 0;
  const callsPerBatch = dedupeOn
    ? shardsTouchedByQueue(keysPerBatch, d.shardRoutedEvents / d.events, dedupeShards, queues)
    : 0;
  const dedupeAlarms = dedupeOn ? dedupeShards / DEDUPE_PERSIST_SECONDS : 0;
  const dedupeRequests = batchesPerSecond * k * callsPerBatch + dedupeAlarms;
  const dedupeRows = 3 * dedupeAlarms;
  // Each alarm's cleanup finds the expired rows by id and deletes them: in steady state one row
  // expires per alarm, read by the lookup and the delete, plus the lookup's first kept row and
  // the read of the new oldest (test/dedupe/object.worker.test.ts counts them). A restarted
  // object reads every kept row once (not modelled: shards that receive calls stay up).
  const dedupeRowsRead = 4 * dedupeAlarms;

  // Tracking plans. Blocked events ride in the events messages, marked (src/queue/message.ts):
  // no message, send or Workers request of their own; their bytes add to the messages' queue
  // operations (written, read, deleted: 3 per 64 KB). The events consumer writes them to R2
  // itself (src/archive/blocked.ts), one object per source with blocked events in a batch, after
  // one dedupe call per shard their keys fall on (their commits ride on the next calls). A retry
  // finds them committed and writes nothing, so neither line grows with retries.
  const planReads = trackingPlanReads(a.isolates, a);
  // Each save: the body, the head and the index written, and one list() of the heads (KV
  // pricing: list requests are priced as writes).
  const planWrites = (a.planChangesPerDay * 4) / SECONDS_PER_DAY;
  // Expected distinct sources (or shards) with a blocked event among a batch's events, each
  // blocked with probability blockedShare and of one of `of` uniformly.
  const touched = (of: number): number => of * (1 - (1 - a.blockedShare / of) ** keysPerBatch);
  const blockedObjects = batchesPerSecond * touched(a.sources);
  const blockedDedupeCalls = dedupeOn ? batchesPerSecond * touched(dedupeShards) : 0;
  const blockedQueueOps =
    ((rate * a.blockedShare * d.bytesPerEvent) / QUEUES_OPERATION_UNIT_BYTES) * 3;

  const perSecond: Record<Line, number> = {
    workers_requests:
      ((requestsPerSecond + batchesPerSecond * k + dlqMessagesPerSecond / 10 + a.scrapesPerSecond) *
        WORKERS_USD_PER_MILLION_REQUESTS) /
      MILLION,
    workers_cpu: (rate * cpuMsPerEvent * WORKERS_USD_PER_MILLION_CPU_MS) / MILLION,
    queues:
      ((rate * (d.queueOpsPerEvent[retryKey(a.retryRate)] ?? NaN) + dlqMessagesPerSecond * 3) *
        QUEUES_USD_PER_MILLION_OPERATIONS) /
      MILLION,
    firehose:
      ((rate * d.perEvent.billedBytes * k) / FIREHOSE_BYTES_PER_BILLED_GB) * FIREHOSE_USD_PER_GB,
    metrics_do_requests: (metricsRequests * DO_USD_PER_MILLION_REQUESTS) / MILLION,
    metrics_do_duration:
      (((metricsRequests * a.metricsRequestMs) / 1000) *
        DO_BILLED_GB *
        DO_USD_PER_MILLION_GB_SECONDS) /
      MILLION,
    metrics_do_rows:
      (metricsRows * DO_USD_PER_MILLION_ROWS_WRITTEN +
        metricsRowsRead * DO_USD_PER_MILLION_ROWS_READ) /
      MILLION,
    analytics_engine: (points * ANALYTICS_ENGINE_USD_PER_MILLION_POINTS) / MILLION,
    dedupe_do_requests: (dedupeRequests * DO_USD_PER_MILLION_REQUESTS) / MILLION,
    dedupe_do_duration:
      (((dedupeRequests * a.dedupeRequestMs) / 1000) *
        DO_BILLED_GB *
        DO_USD_PER_MILLION_GB_SECONDS) /
      MILLION,
    dedupe_do_rows:
      (dedupeRows * DO_USD_PER_MILLION_ROWS_WRITTEN +
        dedupeRowsRead * DO_USD_PER_MILLION_ROWS_READ) /
      MILLION,
    // One object per DLQ consumer batch (assumed ~10 dead letters each at low rates).
    r2_archive: ((dlqMessagesPerSecond / 10) * R2_USD_PER_MILLION_CLASS_A) / MILLION,
    tracking_plan_kv:
      (planReads.readsPerSecond * KV_USD_PER_MILLION_READS +
        planWrites * KV_USD_PER_MILLION_WRITES) /
      MILLION,
    tracking_plan_cpu: (rate * planCpuMsPerEvent * WORKERS_USD_PER_MILLION_CPU_MS) / MILLION,
    tracking_plan_blocked:
      (blockedQueueOps * QUEUES_USD_PER_MILLION_OPERATIONS +
        blockedDedupeCalls * DO_USD_PER_MILLION_REQUESTS +
        ((blockedDedupeCalls * a.dedupeRequestMs) / 1000) *
          DO_BILLED_GB *
          DO_USD_PER_MILLION_GB_SECONDS +
        blockedObjects * R2_USD_PER_MILLION_CLASS_A) /
      MILLION,
    // Nobody watching: the registry's reads; lookups the data centres' caches answer are free.
    debugger: debuggerIdleUsdPerSecond(a),
    // The status page: open pages' reads of every shard (their Workers requests, the shards'
    // requests and duration), and the rows its ring adds to the shards' snapshots (none while
    // the snapshot stays within one part).
    status_page: statusUsdPerSecond(a),
    // Forwarding: the copies of each consumer batch, re-packed per source (write + read +
    // delete per 64 KB unit, modelled by the real packer), queued once per event (the dedupe
    // ledger remembers a queued copy, src/queue/forward-copies.ts; without deduplication again
    // on each Firehose retry), and one forward consumer invocation per batch of up to 100
    // copies, with the CPU of packing and planning each event (measured). Its /v1/batch calls
    // are subrequests, not billed.
    forwarding:
      (a.forwardedShare *
        rate *
        ((dedupeOn ? 1 : k) *
          ((d.forwardQueueOps / d.events) * QUEUES_USD_PER_MILLION_OPERATIONS +
            (d.forwardCopies / d.events / QUEUE_MAX_CONSUMER_BATCH_MESSAGES) *
              WORKERS_USD_PER_MILLION_REQUESTS) +
          forwardCpuMsPerEvent * WORKERS_USD_PER_MILLION_CPU_MS)) /
      MILLION,
    // Privacy: the registry's index, one Durable Object request per isolate per cache window.
    privacy:
      (privacyIndexReadsPerSecond(a) * DO_USD_PER_MILLION_REQUESTS +
        ((privacyIndexReadsPerSecond(a) * a.privacyRequestMs) / 1000) *
          DO_BILLED_GB *
          DO_USD_PER_MILLION_GB_SECONDS) /
      MILLION,
    privacy_cpu: (rate * privacyCpuMsPerEvent * WORKERS_USD_PER_MILLION_CPU_MS) / MILLION,
  };
  const usdPerMonth = Object.fromEntries(
    LINES.map((l) => [l, perSecond[l] * SECONDS_PER_MONTH]),
  ) as Record<Line, number>;
  const usdPerMillionEvents = Object.fromEntries(
    LINES.map((l) => [l, (perSecond[l] / rate) * MILLION]),
  ) as Record<Line, number>;
  const totalUsdPerMonth = BILLED_LINES.reduce((n, l) => n + usdPerMonth[l], 0);
  const metrics = METRICS_LINES.reduce((n, l) => n + usdPerMonth[l], 0);
  const { perStream, boundBy } = streamCapacity(d);
  const keysPerShard = dedupeOn ? (rate * a.dedupeWindowSeconds) / dedupeShards : 0;
  return {
    label,
    eventsPerSecond: rate,
    isolates: a.isolates,
    retryRate: a.retryRate,
    usdPerMonth,
    usdPerMillionEvents,
    totalUsdPerMonth,
    totalUsdPerMillionEvents: (totalUsdPerMonth / (rate * SECONDS_PER_MONTH)) * MILLION,
    metricsShare: metrics / totalUsdPerMonth,
    infrastructure: {
      queues,
      streams: Math.ceil(rate / perStream),
      streamBoundBy: boundBy,
      metricShards: METRICS_SHARDS,
      metricShardRequestsPerSecond: metricsRequests / METRICS_SHARDS,
      dedupeShards,
      dedupeKeysPerShard: keysPerShard,
      dedupeMegabytesPerShard: (keysPerShard * DEDUPE_BYTES_PER_WINDOW_KEY) / 1e6,
      dedupeCallsPerBatch: callsPerBatch,
    },
  };
}

/** KV reads per second of tracking plans: index reads, plan body reads, and their sum. */
export interface PlanReads {
  indexReadsPerSecond: number;
  bodyReadsPerSecond: number;
  readsPerSecond: number;
}

/**
 * The plans' KV reads at `isolates` active isolates: one index read per isolate per cache window
 * (whatever the number of sources: the index names them all), and one body read per isolate per
 * plan change (an upper bound: only isolates that meet the changed source read it).
 */
export function trackingPlanReads(isolates: number, a: ModelAssumptions): PlanReads {
  const indexReadsPerSecond = isolates / Math.max(a.planCacheSeconds, 1);
  const bodyReadsPerSecond = (isolates * a.planChangesPerDay) / SECONDS_PER_DAY;
  return {
    indexReadsPerSecond,
    bodyReadsPerSecond,
    readsPerSecond: indexReadsPerSecond + bodyReadsPerSecond,
  };
}

/** The Durable Object requests per second one metrics shard sees at `isolates` isolates. */
export function metricShardRequestsPerSecond(isolates: number, a: ModelAssumptions): number {
  const persistSeconds = Math.min(a.flushSeconds, METRICS_PERSIST_MAX_MS / 1000);
  return (
    (isolates / a.flushSeconds +
      METRICS_SHARDS / persistSeconds +
      a.scrapesPerSecond * METRICS_SHARDS) /
    METRICS_SHARDS
  );
}

/** An outage that holds every event back (refused credentials, a dedupe shard down). */
export interface Outage {
  seconds: number;
  /** DELIVERY_RETRY_MAX_SECONDS. */
  retryCapSeconds: number;
}

export interface OutageCost {
  label: string;
  outageSeconds: number;
  retryCapSeconds: number;
  /** Attempts a message held back for the whole outage makes (its requeued copies' included). */
  attemptsPerMessage: number;
  /** Fresh copies requeued per message: one when it starts waiting, one per copy's budget. */
  requeuesPerMessage: number;
  /** Extra queue operations per event held, beyond its one write, read and delete. */
  queueOpsPerEvent: number;
  /** What the outage adds, per million events held, by line; and in total. */
  usdPerMillionEvents: { queues: number; workers_requests: number; dedupe_do_requests: number };
  totalUsdPerMillionEvents: number;
}

/**
 * Delivery attempts of a message held back for `o.seconds`, the one that lands after it
 * included: backoff doubles from
 * RETRY_BASE_SECONDS to the cap, each delay on average 3/4 of its ceiling (equal jitter,
 * src/queue/retry.ts), carried on across requeued copies (their header keeps the attempts).
 */
export function outageAttempts(o: Outage): number {
  let elapsed = 0;
  let n = 1;
  while (elapsed < o.seconds) {
    const ceiling = Math.min(o.retryCapSeconds, RETRY_BASE_SECONDS * 2 ** Math.min(n - 1, 30));
    elapsed += Math.max(1, 0.75 * ceiling);
    n += 1;
  }
  return n;
}

/**
 * What an outage adds per million events it holds back (src/queue/step.ts): each attempt a
 * read of the message's 64 KB units and a share of a consumer invocation with its dedupe calls
 * (reserve and release); each requeued copy a write, read and delete. Firehose bills nothing for
 * a call it refuses; copy marks and waiting counts write no rows.
 */
export function outageCost(label: string, d: DeliveryFigures, at: CostAt, o: Outage): OutageCost {
  const attempts = outageAttempts(o);
  const perCopy = DELIVERY_MAX_ATTEMPTS - REQUEUE_LAST_ATTEMPTS + 1;
  const requeues = 1 + Math.floor((attempts - 1) / perCopy);
  const unitsPerEvent = d.queueOps / 3 / d.events;
  const queueOpsPerEvent = unitsPerEvent * (attempts - 1 + 2 * requeues);
  const invocations = d.perEvent.consumerInvocations * (attempts - 1);
  const dedupeCalls = invocations * at.infrastructure.dedupeCallsPerBatch;
  const usd = {
    queues: queueOpsPerEvent * QUEUES_USD_PER_MILLION_OPERATIONS,
    workers_requests: invocations * WORKERS_USD_PER_MILLION_REQUESTS,
    dedupe_do_requests: dedupeCalls * DO_USD_PER_MILLION_REQUESTS,
  };
  return {
    label,
    outageSeconds: o.seconds,
    retryCapSeconds: o.retryCapSeconds,
    attemptsPerMessage: attempts,
    requeuesPerMessage: requeues,
    queueOpsPerEvent,
    usdPerMillionEvents: usd,
    totalUsdPerMillionEvents: usd.queues + usd.workers_requests + usd.dedupe_do_requests,
  };
}
