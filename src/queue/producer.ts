// Producer adapter: serialises enriched events, packs them into messages (pack.ts) and sends
// them with sendBatch. Resolves only when every send resolved; throws when any was refused.

import type { JsonObject } from '../segment/types';
import { groupForSendBatch, packMessages } from './pack';

export interface EnqueueResult {
  messages: number;
  bytes: number;
}

export async function enqueueEvents(
  queue: Queue<string>,
  events: readonly JsonObject[],
  source: string,
  receivedAt: number,
): Promise<EnqueueResult> {
  const lines = events.map((event) => JSON.stringify(event));
  const messages = packMessages(lines, source, receivedAt);
  const calls = groupForSendBatch(messages);
  await Promise.all(
    calls.map((call) =>
      queue.sendBatch(call.map((m) => ({ body: m.body, contentType: 'text' as const }))),
    ),
  );
  return { messages: messages.length, bytes: messages.reduce((sum, m) => sum + m.bytes, 0) };
}
