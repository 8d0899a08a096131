// The producer's send of one request's events, grouped by the sinks their consent allows, so
// each message's header can say which (src/queue/message.ts `sinks`). Adapter.

import { enqueueEvents, type EnqueueResult } from '../queue/producer';
import type { PackContext, PackEvent } from '../queue/pack';
import type { Sink } from './policy';
import { groupBySinks } from './sinks';

/**
 * Sends one request's events to `queue` (enqueueEvents), in messages whose header names the
 * sinks when consent restricted them. Resolves once every group is accepted.
 */
export async function enqueueBySinks(
  queue: Queue<string>,
  events: ReadonlyArray<PackEvent & { sinks?: readonly Sink[] | undefined }>,
  context: PackContext,
): Promise<EnqueueResult> {
  const results = await Promise.all(
    groupBySinks(events).map((g) =>
      enqueueEvents(
        queue,
        g.events.map((e) => ({ line: e.line, bytes: e.bytes, messageId: e.messageId })),
        g.sinks === undefined ? context : { ...context, sinks: g.sinks },
      ),
    ),
  );
  return results.reduce(
    (a, r) => ({ messages: a.messages + r.messages, bytes: a.bytes + r.bytes }),
    {
      messages: 0,
      bytes: 0,
    },
  );
}
