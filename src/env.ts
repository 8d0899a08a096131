// The Worker's bindings, vars and secrets (names are the public contract: see
// docs/configuration.md). `worker-configuration.d.ts` (from `npm run types`) declares what
// wrangler.toml binds; this interface narrows those bindings' types, marks vars optional (a
// deploy may drop them) and adds the secrets, which wrangler cannot see.

import type { DebuggerSource } from './debugger/object';
import type { DebuggerWatchlist } from './debugger/watchlist';
import type { DedupeShard } from './dedupe/object';
import type { MetricsShard } from './metrics/object';
import type { PrivacyRegistry } from './privacy/registry';

type Narrowed =
  | 'EVENTS'
  | 'DLQ'
  | 'METRICS'
  | 'DEDUPE'
  | 'DEBUGGER'
  | 'DEBUGGER_WATCHLIST'
  | 'ANALYTICS'
  | 'ASSETS'
  | 'PUBLIC_HOST'
  | 'BROWSER_BATCH_SIZE'
  | 'BROWSER_BATCH_TIMEOUT_MS'
  | 'ALLOWED_ORIGINS'
  | 'ANONYMIZE_IP'
  | 'FIREHOSE_STREAM'
  | 'FIREHOSE_ENDPOINT'
  | 'AWS_REGION'
  | 'FIREHOSE_ROUTES'
  | 'DELIVERY_RETRY_MAX_SECONDS'
  | 'QUEUE_RETENTION_SECONDS'
  | 'FIREHOSE_TIMEOUT_SECONDS'
  | 'HEALTH_MAX_DELIVERY_DELAY_SECONDS'
  | 'METRICS_FLUSH_SECONDS'
  | 'DEDUPE_WINDOW_SECONDS'
  | 'DEDUPE_SHARDS'
  | 'DEAD_LETTER_QUEUE'
  | 'RATE_LIMIT_PERIOD_SECONDS'
  | 'RATE_LIMIT_KEY'
  | 'TRACKING_PLANS'
  | 'TRACKING_PLAN_CACHE_SECONDS'
  | 'DEBUGGER_ARM_SECONDS'
  | 'FORWARD'
  | 'FORWARD_DLQ'
  | 'FORWARD_ENDPOINT'
  | 'FORWARD_TIMEOUT_SECONDS'
  | 'FORWARD_QUEUE'
  | 'FORWARD_DEAD_LETTER_QUEUE'
  | 'PRIVACY'
  | 'PRIVACY_REGISTRY'
  | 'PRIVACY_CACHE_SECONDS'
  | 'ARCHIVE_RETENTION_DAYS'
  | 'DEBUGGER_RETENTION_SECONDS';

export interface Env extends Omit<Cloudflare.Env, Narrowed> {
  /** Producer binding to queue `ndc-segment-events`; bodies are text (src/queue/message.ts). */
  EVENTS: Queue<string>;
  /** More events queues (`EVENTS_1`, `EVENTS_2`, …), each with its own consumer block. */
  [events: `EVENTS_${number}`]: Queue<string> | undefined;
  /** Producer binding to the dead-letter queue `ndc-segment-dlq`. */
  DLQ: Queue<unknown>;
  /** Producer binding to `ndc-segment-forward`: copies to forward (docs/forwarding.md). */
  FORWARD?: Queue<string>;
  /** Producer binding to `ndc-segment-forward-dlq`, where forwarding dead-letters. */
  FORWARD_DLQ: Queue<unknown>;
  /** R2 bucket where the DLQ consumer archives dead letters. */
  ARCHIVE: R2Bucket;
  /** Durable Object namespace holding the exact counters, sharded (src/metrics/object.ts). */
  METRICS: DurableObjectNamespace<MetricsShard>;
  /** Durable Object namespace of the dedupe shards (src/dedupe/object.ts); absent: no dedupe. */
  DEDUPE?: DurableObjectNamespace<DedupeShard>;
  /** The debugger's object per source (src/debugger/object.ts); absent: no debugger. */
  DEBUGGER?: DurableObjectNamespace<DebuggerSource>;
  /** The debugger's registry of watched sources (src/debugger/watchlist.ts). */
  DEBUGGER_WATCHLIST?: DurableObjectNamespace<DebuggerWatchlist>;
  /** Optional Workers Analytics Engine dataset: one data point per request and per batch. */
  ANALYTICS?: AnalyticsEngineDataset;
  /** Static assets (wrangler.toml [assets]): analytics.js, copied from the pinned package. */
  ASSETS: Fetcher;
  /** KV namespace of the tracking plans (src/plans/layout.ts); absent: no source has a plan. */
  TRACKING_PLANS?: KVNamespace;
  /** KV namespace of privacy policies and suppression shards (src/privacy/layout.ts). */
  PRIVACY?: KVNamespace;
  /** The privacy registry (src/privacy/registry.ts); absent (or no PRIVACY): privacy off. */
  PRIVACY_REGISTRY?: DurableObjectNamespace<PrivacyRegistry>;
  /** Optional Workers Rate Limiting binding, keyed by source. */
  RATE_LIMITER?: RateLimit;

  /** Secret (or var): `key` or `key=sourceName`, comma-separated. Unset: every call is 401. */
  WRITE_KEYS?: string;
  /**
   * Host analytics.js is told to send to (`host[:port]`, request's scheme) or an http(s) URL
   * with no path (its scheme too); empty or unset: the host of each settings request.
   */
  PUBLIC_HOST?: string;
  /** Calls analytics.js batches per request (default 10; 1: one request per call). */
  BROWSER_BATCH_SIZE?: string;
  /** Longest analytics.js holds a call before sending its batch, ms (default 5000). */
  BROWSER_BATCH_TIMEOUT_MS?: string;
  /** Comma-separated CORS origins; empty or unset: any origin. */
  ALLOWED_ORIGINS?: string;
  /** "true" masks context.ip and reduces context.location to the country. */
  ANONYMIZE_IP?: string;

  /** Delivery stream name, or a comma-separated list to shard sources across. */
  FIREHOSE_STREAM?: string;
  /** Override of https://firehose.${AWS_REGION}.amazonaws.com/ (local, VPC or FIPS endpoint). */
  FIREHOSE_ENDPOINT?: string;
  AWS_REGION?: string;
  /**
   * Per-source routes: source name → { region, streams, queues, jurisdiction, archive }, a table
   * in wrangler.toml or its JSON text (`--var`). src/sources/routes.ts, docs/configuration.md.
   */
  FIREHOSE_ROUTES?: string | Record<string, unknown>;
  /** Seconds before a PutRecordBatch call is abandoned and its messages retried (default 20). */
  FIREHOSE_TIMEOUT_SECONDS?: string;
  /** Cap on the delay between delivery retries, seconds (default 300). */
  DELIVERY_RETRY_MAX_SECONDS?: string;
  /** The events queues' message retention, seconds (default 345,600: Queues' 4 days). */
  QUEUE_RETENTION_SECONDS?: string;
  /** Seconds of failing delivery, or of the oldest event waiting, before /health is 503. */
  HEALTH_MAX_DELIVERY_DELAY_SECONDS?: string;
  /** Seconds between an isolate's sends of its counts to the metrics shards (default 10). */
  METRICS_FLUSH_SECONDS?: string;
  /** Seconds within which a (source, messageId) is delivered once (default 3,600; 0: off). */
  DEDUPE_WINDOW_SECONDS?: string;
  /** Dedupe shards (default 12). Changing it remaps keys: one window of weaker dedupe. */
  DEDUPE_SHARDS?: string;
  /** Name of the queue archived to R2 (default ndc-segment-dlq); other queues carry events. */
  DEAD_LETTER_QUEUE?: string;
  /** Period of the RATE_LIMITER binding, for Retry-After (default 60). */
  RATE_LIMIT_PERIOD_SECONDS?: string;
  /** What RATE_LIMITER counts by: `source` (default), `ip` or `source+ip`. */
  RATE_LIMIT_KEY?: string;
  /** Seconds an isolate keeps the tracking plans' index before reading it again (default 30). */
  TRACKING_PLAN_CACHE_SECONDS?: string;
  /** Seconds an API read of the debugger keeps its source captured (default 600). */
  DEBUGGER_ARM_SECONDS?: string;
  /** A Segment-compatible /v1/batch URL to forward to; empty or unset: no forwarding. */
  FORWARD_ENDPOINT?: string;
  /** Seconds before a /v1/batch call is abandoned and its messages retried (default 20). */
  FORWARD_TIMEOUT_SECONDS?: string;
  /** Name of the queue of copies to forward (default ndc-segment-forward). */
  FORWARD_QUEUE?: string;
  /** Name of the queue archived to forward-dead-letters/ (default ndc-segment-forward-dlq). */
  FORWARD_DEAD_LETTER_QUEUE?: string;
  /** Seconds an isolate keeps the privacy index before reading it again (default 30). */
  PRIVACY_CACHE_SECONDS?: string;
  /** Days archive objects are kept before the Cron Trigger deletes them (default 30; 0: kept). */
  ARCHIVE_RETENTION_DAYS?: string;
  /** Seconds a debugger ring keeps a captured payload (default 3,600). */
  DEBUGGER_RETENTION_SECONDS?: string;

  /** Secrets. */
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  AWS_SESSION_TOKEN?: string;
  /** Bearer token for /admin/* and /debugger (role admin); unset, the admin routes are off. */
  ADMIN_TOKEN?: string;
  /**
   * Optional Bearer token of role viewer: the debugger's page and API and the status page,
   * nothing else (403 elsewhere). Unset: only ADMIN_TOKEN opens them.
   */
  DEBUGGER_TOKEN?: string;
  /** Bearer token for /metrics; unset, /metrics is open. */
  METRICS_TOKEN?: string;
  /** `source=destinationWriteKey,…`: the sources forwarded, with the destination's write key. */
  FORWARD_WRITE_KEYS?: string;
  /** The HMAC-SHA256 key of `hash` rules and suppressed ids (docs/privacy.md); unset: neither. */
  PRIVACY_HASH_KEY?: string;
}

/** What the tracking-plan cache (src/plans/cache.ts) reads. */
export type PlansEnv = Pick<Env, 'TRACKING_PLANS' | 'TRACKING_PLAN_CACHE_SECONDS'>;

/** What the privacy cache (src/privacy/cache.ts) reads. */
export type PrivacyEnv = Pick<Env, 'PRIVACY' | 'PRIVACY_REGISTRY' | 'PRIVACY_CACHE_SECONDS'>;

/** Reads a boolean var the way `wrangler dev --var NAME:true` and [vars] both set it. */
export function flag(value: string | boolean | undefined): boolean {
  if (typeof value === 'boolean') return value;
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}
