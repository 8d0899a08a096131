// Producer adapter: packs serialised events into messages (pack.ts) and sends them with
// sendBatch. Resolves only when every send resolved; throws when any was refused.

import { groupForSendBatch, packMessages } from './pack';

export interface EnqueueResult {
  messages: number;
  bytes: number;
}

export async function enqueueEvents(
  queue: Queue<string>,
  lines: readonly string[],
  source: string,
  receivedAt: number,
  /** UTF-8 sizes of `lines`, when already measured. */
  lineBytes?: readonly number[],
): Promise<EnqueueResult> {
  const messages = packMessages(lines, source, receivedAt, undefined, lineBytes);
  const calls = groupForSendBatch(messages);
  await Promise.all(
    calls.map((call) =>
      queue.sendBatch(call.map((m) => ({ body: m.body, contentType: 'text' as const }))),
    ),
  );
  return { messages: messages.length, bytes: messages.reduce((sum, m) => sum + m.bytes, 0) };
}
