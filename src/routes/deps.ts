// What the routes get from outside: the clock and id maker the pure core takes (tests pass
// fixed ones), and where metrics go. Also the Hono environment type every route shares.

import type { Env } from '../env';
import type { MetricsBuffer } from '../metrics/buffer';
import { isolateBuffer, scheduleFlush } from '../metrics/isolate';

export interface AppDeps {
  /** Server clock, ms since the epoch. */
  now: () => number;
  /** A fresh messageId for events that lack one. */
  newId: () => string;
  /** Where requests record their metrics. */
  metrics: MetricsBuffer;
  /** Called once per request, after the response: arms the metrics flush. */
  afterRequest: (env: Env, ctx: ExecutionContext) => void;
}

export const runtimeDeps: AppDeps = {
  now: () => Date.now(),
  newId: () => crypto.randomUUID(),
  metrics: isolateBuffer,
  afterRequest: scheduleFlush,
};

/** What an ingest request accepted, for the request's Analytics Engine data point. */
export interface IngestSummary {
  source: string;
  types: string;
  events: number;
  bytes: number;
}

export interface AppEnv {
  Bindings: Env;
  Variables: { ingest?: IngestSummary };
}
