// GET /metrics (Prometheus text, exact across isolates) and GET /health (sink health).
// Adapter: reads the metrics shards (through the isolate's scrape cache) and the events queues'
// backlog, and, when forwarding is configured, its configuration and the forward queue's
// backlog; never calls Firehose or the forward endpoint. What waits on an operator's fix
// (src/metrics/waiting.ts) is worked out at read time, against DELIVERY_RETRY_MAX_SECONDS.

import type { Context } from 'hono';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../metrics/exposition';
import type { Env } from '../env';
import { forwardConfig, type ForwardConfig } from '../forward/settings';
import {
  combineBacklogs,
  evaluateHealth,
  healthDelaySeconds,
  type Backlog,
  type ForwardingInput,
} from '../metrics/health';
import { readMetrics } from '../metrics/isolate';
import type { MetricsState } from '../metrics/state';
import {
  summarizeWaiting,
  WAITING_STALE_SLACK_SECONDS,
  withWaitingGauges,
  type WaitingSummary,
} from '../metrics/waiting';
import { dedupeWindowSeconds } from '../dedupe/settings';
import { eventsQueues } from '../queue/producer';
import { retryCapSeconds } from '../queue/retry';
import { requireBearer } from './bearer';
import type { AppEnv } from './deps';

type Ctx = Context<AppEnv>;

/** What waits now: a reason counts while its messages were seen within a retry delay and more. */
function waiting(env: Env, state: MetricsState): WaitingSummary {
  const stale = retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS) + WAITING_STALE_SLACK_SECONDS;
  return summarizeWaiting(state.waiting, Date.now() / 1000, stale);
}

export async function getMetrics(c: Ctx): Promise<Response> {
  // METRICS_TOKEN is a secret: when set, scrapers send it as a bearer token; unset, open.
  if (c.env.METRICS_TOKEN !== undefined && c.env.METRICS_TOKEN !== '') {
    await requireBearer(c.env.METRICS_TOKEN, c.req.header('authorization'), 'METRICS_TOKEN');
  }
  const state = await readMetrics(c.env);
  return c.body(renderPrometheus(withWaitingGauges(state, waiting(c.env, state))), 200, {
    'Content-Type': PROMETHEUS_CONTENT_TYPE,
    'Cache-Control': 'no-store',
  });
}

/** A queue's backlog, where the runtime reports it (Queue.metrics()). */
async function backlog(queue: Queue<string>): Promise<Backlog | undefined> {
  try {
    const m = await queue.metrics();
    const oldest = m.oldestMessageTimestamp;
    const at = oldest instanceof Date ? oldest.getTime() : typeof oldest === 'number' ? oldest : 0;
    return { messages: m.backlogCount, oldestMessageAt: at };
  } catch {
    return undefined;
  }
}

/** Why forwarding, once FORWARD_ENDPOINT is set, cannot work as configured; if so. */
function forwardingProblem(env: Env, config: ForwardConfig): string | undefined {
  if (config.kind === 'invalid') return config.reason;
  if (env.FORWARD === undefined) return 'the FORWARD queue binding is missing (wrangler.toml)';
  const invalid = config.kind === 'on' ? config.settings.invalidEntries : 0;
  if (invalid > 0)
    return `${invalid} item(s) of FORWARD_WRITE_KEYS are not source=destinationWriteKey`;
  return undefined;
}

async function forwardingInput(env: Env): Promise<ForwardingInput | undefined> {
  const config = forwardConfig(env);
  if (config.kind === 'off') return undefined;
  const problem = forwardingProblem(env, config);
  const queued = env.FORWARD === undefined ? undefined : await backlog(env.FORWARD);
  return {
    ...(problem === undefined ? {} : { problem }),
    ...(queued === undefined ? {} : { backlog: queued }),
  };
}

export async function getHealth(c: Ctx): Promise<Response> {
  const [state, backlogs, forwarding] = await Promise.all([
    readMetrics(c.env),
    Promise.all(eventsQueues(c.env).map((q) => backlog(q.queue))),
    forwardingInput(c.env),
  ]);
  const health = evaluateHealth(
    state,
    combineBacklogs(backlogs),
    Date.now(),
    healthDelaySeconds(c.env.HEALTH_MAX_DELIVERY_DELAY_SECONDS),
    forwarding,
    {
      waiting: waiting(c.env, state),
      retryCapSeconds: retryCapSeconds(c.env.DELIVERY_RETRY_MAX_SECONDS),
      dedupeWindowSeconds: dedupeWindowSeconds(c.env.DEDUPE_WINDOW_SECONDS),
    },
  );
  return c.json(health, health.status === 'pass' ? 200 : 503, { 'Cache-Control': 'no-store' });
}
