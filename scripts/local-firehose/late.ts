// The record of late-answered calls, served at GET /_local/late?stream=: per stream, how many
// calls were answered late, the records and events they wrote, and the messageId of every such
// event, so an end-to-end test can tell which events sat in a call its client gave up on.
// Pure: the server marks a call after writing it and before holding its answer.

export interface LateStream {
  calls: number;
  // Records the late calls wrote (failed records of a late call are not counted).
  records: number;
  // NDJSON lines in those records: every line that is not blank is one event.
  events: number;
  // In write order, repeats kept: an event written by two late calls is listed twice.
  messageIds: string[];
}

export type LateLedger = Map<string, LateStream>;

export function emptyLateStream(): LateStream {
  return { calls: 0, records: 0, events: 0, messageIds: [] };
}

function messageIdOf(line: string): string | undefined {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null) return undefined;
  const id = (event as Record<string, unknown>)['messageId'];
  return typeof id === 'string' ? id : undefined;
}

/**
 * The events in some records, each record's Data read as NDJSON on its own: a line that is
 * not JSON, or has no string messageId, counts as an event without an id.
 */
export function eventsOf(records: readonly Uint8Array[]): { events: number; messageIds: string[] } {
  const decoder = new TextDecoder();
  let events = 0;
  const messageIds: string[] = [];
  for (const record of records) {
    for (const line of decoder.decode(record).split('\n')) {
      if (line.trim() === '') continue;
      events += 1;
      const id = messageIdOf(line);
      if (id !== undefined) messageIds.push(id);
    }
  }
  return { events, messageIds };
}

/** Adds one late-answered call and the records it wrote to `ledger`, in place. */
export function markLate(ledger: LateLedger, stream: string, written: readonly Uint8Array[]): void {
  const entry = ledger.get(stream) ?? emptyLateStream();
  const { events, messageIds } = eventsOf(written);
  entry.calls += 1;
  entry.records += written.length;
  entry.events += events;
  for (const id of messageIds) entry.messageIds.push(id);
  ledger.set(stream, entry);
}
