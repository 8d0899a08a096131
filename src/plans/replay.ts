// Blocked events checked again for a replay: each archived group's events against the plan now
// in force for its source. Pure: the plans are looked up by the caller (src/archive/replay.ts).

import { blockedReason, reblockedLine } from '../archive/format';
import type { ParsedArchive } from '../archive/parse';
import type { JsonObject } from '../segment/types';
import { recheckEvent } from './enforce';
import type { CompiledPlan } from './plan';

export interface Rechecked {
  /** Per archived group, in order: the events to queue (annotated or omitted as the plan says). */
  deliver: JsonObject[][];
  /** The events the plan still blocks, as archive lines annotated afresh. */
  still: string;
  stillEvents: number;
}

/**
 * Every event of a blocked/ object checked again; `plans` holds each source's plan in force
 * (undefined: none, every event passes), `at` is when they are blocked again.
 */
export function recheckArchive(
  archive: ParsedArchive,
  plans: ReadonlyMap<string, CompiledPlan | undefined>,
  at: number,
): Rechecked {
  const out: Rechecked = { deliver: [], still: '', stillEvents: 0 };
  for (const group of archive.groups) {
    const deliver: JsonObject[] = [];
    for (const event of group.events) {
      const verdict = recheckEvent(plans.get(group.source), event);
      if (verdict.kind === 'pass') {
        deliver.push(event);
      } else if (verdict.kind === 'changed') {
        deliver.push(verdict.event);
      } else {
        out.stillEvents += 1;
        out.still += reblockedLine(verdict.event, {
          reason: blockedReason(verdict.reason),
          source: group.source,
          receivedAt: group.receivedAt,
          at,
          ...(group.token === undefined ? {} : { token: group.token }),
          ...(group.sinks === undefined ? {} : { sinks: group.sinks }),
        });
      }
    }
    out.deliver.push(deliver);
  }
  return out;
}
