// The events consumer's one step for forwarding: a copy of what it is about to deliver, for the
// sources in FORWARD_WRITE_KEYS, queued on the forward queue BEFORE the Firehose call; the
// copies of a batch are re-packed per source (pack.ts packCopies). Adapter.
//
// Why before: a message is acked only once its Firehose record landed and its copy is queued.
// Were the copy sent after Firehose and refused, the message's retry would find its events
// committed by the dedupe gate and send nothing, copy included: the forward endpoint would
// never get them. Sent first, an event is committed only by a delivery whose copy is already
// queued, so every event that reaches Firehose reaches the forward queue at least once, and a
// later copy the gate drops as a duplicate had its copy queued by the delivery that committed
// it. Once queued, a copy is not queued again by a later attempt: the consumer marks its keys
// as copied in the dedupe ledger (src/dedupe/session.ts settle), and the ledger answers a later
// attempt's reservation of them with SEND_COPIED (deliver to Firehose, copy nothing). The mark
// rides on the isolate's next call to the shard, so an attempt in another isolate that reserves
// before it arrives may queue one more copy (the destination drops repeats by messageId), never
// one fewer; without deduplication (DEDUPE_WINDOW_SECONDS=0) each attempt queues its copy.
// Firehose delivery waits on a queue send, never on the forward endpoint.

import type { Env } from '../env';
import { forwardConfig, forwardedSources } from '../forward/settings';
import {
  groupForSendBatch,
  packCopies,
  type CopyInput,
  type PackedCopy,
  type PackedMessage,
} from './pack';

export type { CopyInput };

export interface CopiesQueued {
  /** Messages whose copy was queued. */
  queued: Set<number>;
  /** Messages whose copy could not be queued: the caller holds them back, undelivered. */
  failed: Set<number>;
}

/**
 * Queues a copy of each message of a forwarded source (none while forwarding is off). A
 * sendBatch that fails is sent once more before giving up, as the producer does.
 */
export async function queueForwardCopies(
  env: Env,
  inputs: readonly CopyInput[],
): Promise<CopiesQueued> {
  const sources = forwardedSources(forwardConfig(env));
  const copies = inputs.filter((i) => sources.has(i.source));
  if (copies.length === 0) return { queued: new Set(), failed: new Set() };
  const queue = env.FORWARD;
  if (queue === undefined) {
    // Forwarding is configured but its queue is not bound: /health says so; Firehose delivery
    // waits rather than losing the copies.
    return { queued: new Set(), failed: new Set(copies.map((c) => c.index)) };
  }
  const groups = groupForSendBatch(packCopies(copies)) as PackedCopy[][];
  const send = (group: ReadonlyArray<PackedMessage>): Promise<unknown> =>
    queue.sendBatch(group.map((p) => ({ body: p.body, contentType: 'text' as const })));
  const first = await Promise.allSettled(groups.map(send));
  const again = groups.filter((_g, i) => first[i]?.status === 'rejected');
  const second = await Promise.allSettled(again.map(send));
  const failed = new Set<number>();
  again.forEach((group, i) => {
    const result = second[i];
    if (result?.status !== 'rejected') return;
    console.error(
      'forward copy send failed',
      result.reason instanceof Error ? result.reason.message : String(result.reason),
    );
    for (const copy of group) for (const index of copy.indexes) failed.add(index);
  });
  const queued = new Set(copies.map((c) => c.index).filter((index) => !failed.has(index)));
  return { queued, failed };
}
