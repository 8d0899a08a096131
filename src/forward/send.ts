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
import { inPool } from '../pool';

export interface ForwardResult {
  plan: ForwardPlan;
  sent: SentForwardCall[];
  decisions: Map<number, ForwardDecision>;
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
