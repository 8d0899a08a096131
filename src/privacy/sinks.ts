// Where consent lets queued events go, carried with them: events whose consent restricts their
// sinks are queued in messages of their own whose header says which (`sinks`, enqueue.ts), and
// the events consumer reads it to decide (one decision: Firehose, the forward copy, or both).
// Pure.

import { SINKS, type Sink } from './policy';

/** The sinks a message's header allows: every sink when it names none (the usual case). */
export function messageSinks(sinks: readonly Sink[] | undefined): Record<Sink, boolean> {
  if (sinks === undefined) return { firehose: true, forward: true };
  return { firehose: sinks.includes('firehose'), forward: sinks.includes('forward') };
}

/** A header's `sinks` as decoded: a non-empty list of known sinks, else undefined (ignored). */
export function parseSinks(value: unknown): Sink[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const known = value.filter((s): s is Sink => (SINKS as readonly unknown[]).includes(s));
  return known.length === value.length ? known : undefined;
}

/** The events split by the sinks they may reach, each group in order. */
export function groupBySinks<E extends { sinks?: readonly Sink[] | undefined }>(
  events: readonly E[],
): Array<{ sinks: readonly Sink[] | undefined; events: E[] }> {
  if (events.every((e) => e.sinks === undefined))
    return [{ sinks: undefined, events: [...events] }];
  const groups = new Map<string, { sinks: readonly Sink[] | undefined; events: E[] }>();
  for (const e of events) {
    const key = e.sinks?.join(',') ?? '';
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { sinks: e.sinks, events: [] }));
    group.events.push(e);
  }
  return [...groups.values()];
}
