// The Worker's queue() handler: routes each batch to delivery (ndc-segment-events) or the
// archive (ndc-segment-dlq), records what happened, and arms the metrics flush. Adapter.

import type { Env } from '../env';
import { AnalyticsWriter } from '../metrics/analytics';
import { isolateBuffer, scheduleFlush } from '../metrics/isolate';
import { recordArchived, recordDelivery } from '../metrics/record';
import { archiveBatch, deliverBatch, runtimeConsumerDeps, type DeliveryReport } from './consumer';

// The dead-letter queue's name ends in -dlq (wrangler.toml); every other queue carries events.
const isDeadLetterQueue = (name: string): boolean => name.endsWith('-dlq');

function writeAnalytics(env: Env, report: DeliveryReport, now: number): void {
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

export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const deps = runtimeConsumerDeps;
  if (isDeadLetterQueue(batch.queue)) {
    const report = await archiveBatch(batch, env, deps);
    recordArchived(isolateBuffer, report.archivedEvents);
  } else {
    const report = await deliverBatch(batch, env, deps);
    const now = deps.now();
    recordDelivery(isolateBuffer, report, now);
    writeAnalytics(env, report, now);
  }
  scheduleFlush(env, ctx);
}
