// Forwarding one consumer batch: its messages packed into /v1/batch calls (batch.ts), the calls
// posted at most FORWARD_MAX_CONCURRENT_CALLS at a time (client.ts), one decision per message.
// Adapter: the consumer of the forward queue (src/queue/forward-consumer.ts) makes this one call.

import { postBatch } from './client';
import {
  decideForward,
  planForward,
  type ForwardDecision,
  type ForwardInput,
  type ForwardPlan,
  type SentForwardCall,
} from './batch';
import { FORWARD_MAX_CONCURRENT_CALLS } from './limits';
import type { ForwardSettings } from './settings';

export interface ForwardResult {
  plan: ForwardPlan;
  sent: SentForwardCall[];
  decisions: Map<number, ForwardDecision>;
}

/** Runs `task` over `items`, at most `limit` at a time, results in order. */
async function inPool<T, R>(
  items: readonly T[],
  limit: number,
  task: (t: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function forwardMessages(
  inputs: readonly ForwardInput[],
  settings: ForwardSettings,
  now: () => number,
): Promise<ForwardResult> {
  const plan = planForward(inputs, settings.writeKeys);
  const outcomes = await inPool(plan.calls, FORWARD_MAX_CONCURRENT_CALLS, (call) =>
    postBatch(settings, settings.writeKeys.get(call.source) ?? '', call.body, now),
  );
  const sent = plan.calls.map((call, i): SentForwardCall => {
    const outcome = outcomes[i];
    return {
      call,
      outcome: outcome ?? { kind: 'retry', code: 'Undecided', cause: 'ambiguous' },
    };
  });
  return {
    plan,
    sent,
    decisions: decideForward(
      inputs.map((i) => i.index),
      plan,
      sent,
    ),
  };
}
