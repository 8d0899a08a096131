// The Worker's queue() handler: routes each batch by the role its queue has in configuration,
// never by a guess from its name: the dead-letter queue (DEAD_LETTER_QUEUE) is archived to R2,
// the forward queue (FORWARD_QUEUE) is posted to FORWARD_ENDPOINT, the forward dead-letter
// queue (FORWARD_DEAD_LETTER_QUEUE) is archived under forward-dead-letters/, and every other
// queue (EVENTS, EVENTS_1, …) is delivered to Firehose. Records what happened, and arms the
// metrics flush and the dedupe outbox flush. Adapter.

import { dedupeSettings, isolateOutbox, scheduleOutboxFlush } from '../dedupe/client';
import type { Env } from '../env';
import { isolateBuffer, scheduleFlush } from '../metrics/isolate';
import {
  failedCallsLine,
  failedForwardLine,
  recordArchived,
  recordDelivery,
  recordForwarded,
} from '../metrics/record';
import { FORWARD_ARCHIVE_PREFIX } from '../archive/keys';
import { archiveBatch } from '../archive/writer';
import { deliverBatch, runtimeConsumerDeps } from './consumer';
import { forwardBatch } from './forward-consumer';

// wrangler.toml: the dead_letter_queue of every events consumer.
export const DEFAULT_DEAD_LETTER_QUEUE = 'ndc-segment-dlq';
// wrangler.toml: the queue of copies to forward, and its consumer's dead_letter_queue.
export const DEFAULT_FORWARD_QUEUE = 'ndc-segment-forward';
export const DEFAULT_FORWARD_DEAD_LETTER_QUEUE = 'ndc-segment-forward-dlq';

export function deadLetterQueueName(env: Env): string {
  return env.DEAD_LETTER_QUEUE?.trim() || DEFAULT_DEAD_LETTER_QUEUE;
}

export type QueueRole = 'events' | 'dead-letters' | 'forward' | 'forward-dead-letters';

/** What a queue's batches are for, from the vars that name the queues. */
export function queueRole(queue: string, env: Env): QueueRole {
  if (queue === deadLetterQueueName(env)) return 'dead-letters';
  if (queue === (env.FORWARD_QUEUE?.trim() || DEFAULT_FORWARD_QUEUE)) return 'forward';
  if (queue === (env.FORWARD_DEAD_LETTER_QUEUE?.trim() || DEFAULT_FORWARD_DEAD_LETTER_QUEUE))
    return 'forward-dead-letters';
  return 'events';
}

export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const deps = runtimeConsumerDeps;
  const dedupe = dedupeSettings(env);
  switch (queueRole(batch.queue, env)) {
    case 'dead-letters': {
      const report = await archiveBatch(batch, env, deps, dedupe);
      recordArchived(isolateBuffer, report.archivedEvents);
      break;
    }
    case 'forward': {
      const report = await forwardBatch(batch, env, deps);
      recordForwarded(isolateBuffer, report, deps.now());
      const failed = failedForwardLine(report);
      if (failed !== undefined) console.warn(failed);
      break;
    }
    case 'forward-dead-letters': {
      const report = await archiveBatch(batch, env, deps, undefined, FORWARD_ARCHIVE_PREFIX);
      recordArchived(isolateBuffer, report.archivedEvents);
      break;
    }
    case 'events': {
      const report = await deliverBatch(batch, env, deps, dedupe);
      recordDelivery(isolateBuffer, report, deps.now());
      const failed = failedCallsLine(report);
      if (failed !== undefined) console.warn(failed);
      break;
    }
  }
  if (dedupe !== undefined) scheduleOutboxFlush(dedupe, isolateOutbox, ctx);
  scheduleFlush(env, ctx);
}
