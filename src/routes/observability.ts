// GET /metrics (Prometheus text, exact across isolates) and GET /health (sink health).
// Adapter: reads the metrics shards (through the isolate's scrape cache) and the events queues'
// backlog; never calls Firehose.

import type { Context } from 'hono';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../metrics/exposition';
import {
  combineBacklogs,
  evaluateHealth,
  healthDelaySeconds,
  type Backlog,
} from '../metrics/health';
import { readMetrics } from '../metrics/isolate';
import { eventsQueues } from '../queue/producer';
import { requireBearer } from './bearer';
import type { AppEnv } from './deps';

type Ctx = Context<AppEnv>;

export async function getMetrics(c: Ctx): Promise<Response> {
  // METRICS_TOKEN is a secret: when set, scrapers send it as a bearer token; unset, open.
  if (c.env.METRICS_TOKEN !== undefined && c.env.METRICS_TOKEN !== '') {
    await requireBearer(c.env.METRICS_TOKEN, c.req.header('authorization'), 'METRICS_TOKEN');
  }
  const state = await readMetrics(c.env);
  return c.body(renderPrometheus(state), 200, {
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

export async function getHealth(c: Ctx): Promise<Response> {
  const [state, backlogs] = await Promise.all([
    readMetrics(c.env),
    Promise.all(eventsQueues(c.env).map((q) => backlog(q.queue))),
  ]);
  const health = evaluateHealth(
    state,
    combineBacklogs(backlogs),
    Date.now(),
    healthDelaySeconds(c.env.HEALTH_MAX_DELIVERY_DELAY_SECONDS),
  );
  return c.json(health, health.status === 'pass' ? 200 : 503, { 'Cache-Control': 'no-store' });
}
