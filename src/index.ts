// The Worker's entry point: HTTP ingest and the two queue consumers.
import { createApp } from './app';
import type { Env } from './env';
import { archiveBatch, deliverBatch, runtimeConsumerDeps } from './queue/consumer';

const app = createApp();

// The dead-letter queue's name ends in -dlq (wrangler.toml); every other queue carries events.
const isDeadLetterQueue = (name: string): boolean => name.endsWith('-dlq');

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (isDeadLetterQueue(batch.queue)) await archiveBatch(batch, env, runtimeConsumerDeps);
    else await deliverBatch(batch, env, runtimeConsumerDeps);
  },
} satisfies ExportedHandler<Env, unknown>;
