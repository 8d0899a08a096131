// The Worker's queue() handler: archives batches of the dead-letter queue (named by the
// DEAD_LETTER_QUEUE var, never guessed from a name) and delivers every other queue's batches
// (EVENTS, EVENTS_1, …) to Firehose; records what happened, and arms the metrics flush and the
// dedupe outbox flush. Adapter.

import { dedupeSettings, isolateOutbox, scheduleOutboxFlush } from '../dedupe/client';
import type { Env } from '../env';
import { isolateBuffer, scheduleFlush } from '../metrics/isolate';
import { failedCallsLine, recordArchived, recordDelivery } from '../metrics/record';
import { archiveBatch, deliverBatch, runtimeConsumerDeps } from './consumer';

// wrangler.toml: the dead_letter_queue of every events consumer.
export const DEFAULT_DEAD_LETTER_QUEUE = 'ndc-segment-dlq';

export function deadLetterQueueName(env: Env): string {
  return env.DEAD_LETTER_QUEUE?.trim() || DEFAULT_DEAD_LETTER_QUEUE;
}

export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const deps = runtimeConsumerDeps;
  const dedupe = dedupeSettings(env);
  if (batch.queue === deadLetterQueueName(env)) {
    const report = await archiveBatch(batch, env, deps, dedupe);
    recordArchived(isolateBuffer, report.archivedEvents);
  } else {
    const report = await deliverBatch(batch, env, deps, dedupe);
    recordDelivery(isolateBuffer, report, deps.now());
    const failed = failedCallsLine(report);
    if (failed !== undefined) console.warn(failed);
  }
  if (dedupe !== undefined) scheduleOutboxFlush(dedupe.io, isolateOutbox, ctx);
  scheduleFlush(env, ctx);
}
