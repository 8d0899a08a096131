// The producer's send of one request's events, grouped by the sinks their consent allows, so
// each message's header can say which (src/queue/message.ts `sinks`). Adapter.

import { enqueueEvents, type EnqueueResult } from '../queue/producer';
import type { PackContext, PackEvent } from '../queue/pack';
import type { Sink } from './policy';
import { groupBySinks } from './sinks';

/** An event to queue with the sinks its consent allows (undefined: every sink). */
export type SinkedEvent = PackEvent & { sinks?: readonly Sink[] | undefined };

/**
 * Sends one request's events to `queue` (enqueueEvents), in messages whose header names the
 * sinks when consent restricted them. Resolves once every group is accepted.
 */
export async function enqueueBySinks(
  queue: Queue<string>,
  events: readonly SinkedEvent[],
  context: PackContext,
): Promise<EnqueueResult> {
  const results = await Promise.all(
    groupBySinks(events).map((g) =>
      enqueueEvents(
        queue,
        g.events.map(({ sinks: _sinks, ...event }): PackEvent => event),
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
