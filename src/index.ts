// The Worker's entry point: HTTP ingest, the queue consumers, and the metrics Durable Object.
import { createApp } from './app';
import type { Env } from './env';
import { handleQueue } from './queue/handler';

export { MetricsShard } from './metrics/object';

export default {
  fetch: createApp().fetch,
  queue: handleQueue,
} satisfies ExportedHandler<Env, unknown>;
