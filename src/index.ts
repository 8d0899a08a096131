// The Worker's entry point: HTTP ingest, the two queue consumers, and the metrics Durable
// Object class.
import { createApp } from './app';
import type { Env } from './env';
import { AnalyticsWriter } from './metrics/analytics';
import { isolateBuffer, scheduleFlush } from './metrics/isolate';
import { recordArchived, recordDelivery } from './metrics/record';
import { archiveBatch, deliverBatch, runtimeConsumerDeps } from './queue/consumer';

export { MetricsShard } from './metrics/object';

const app = createApp();

// The dead-letter queue's name ends in -dlq (wrangler.toml); every other queue carries events.
const isDeadLetterQueue = (name: string): boolean => name.endsWith('-dlq');

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    const deps = runtimeConsumerDeps;
    if (isDeadLetterQueue(batch.queue)) {
      const report = await archiveBatch(batch, env, deps);
      recordArchived(isolateBuffer, report.archivedEvents);
    } else {
      const report = await deliverBatch(batch, env, deps);
      const now = deps.now();
      recordDelivery(isolateBuffer, report, now);
      const analytics = new AnalyticsWriter(env.ANALYTICS);
      for (const d of report.delivered) {
        const waited = d.received.reduce((sum, r) => sum + (now - r.at) * r.events, 0);
        analytics.write({
          kind: 'delivery',
          stream: d.stream,
          outcome: 'delivered',
          events: d.events,
          bytes: d.bytes,
          latencyMs: d.events > 0 ? waited / d.events : 0,
        });
      }
      for (const f of report.failed) {
        analytics.write({
          kind: 'delivery',
          stream: f.stream,
          outcome: 'failed',
          events: f.events,
          bytes: 0,
          latencyMs: 0,
        });
      }
    }
    scheduleFlush(env, ctx);
  },
} satisfies ExportedHandler<Env, unknown>;
