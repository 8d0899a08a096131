// Replay of archived dead letters: the archive's NDJSON lines back into events grouped the way
// the producer packs them (by source and receivedAt). Pure.

import { isJsonObject, type JsonObject } from '../segment/types';

export interface ReplayGroup {
  source: string;
  receivedAt: number;
  events: JsonObject[];
}

export interface ParsedArchive {
  groups: ReplayGroup[];
  /** Lines that hold no replayable event (undecodable dead letters, damaged lines). */
  skipped: number;
}

export function parseArchive(text: string): ParsedArchive {
  const groups = new Map<string, ReplayGroup>();
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      skipped += 1;
      continue;
    }
    if (
      !isJsonObject(entry) ||
      !isJsonObject(entry['event']) ||
      typeof entry['source'] !== 'string'
    ) {
      skipped += 1;
      continue;
    }
    const receivedAt =
      typeof entry['receivedAt'] === 'string' ? Date.parse(entry['receivedAt']) : NaN;
    if (Number.isNaN(receivedAt)) {
      skipped += 1;
      continue;
    }
    const key = `${entry['source']}\n${receivedAt}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { source: entry['source'], receivedAt, events: [] };
      groups.set(key, group);
    }
    group.events.push(entry['event']);
  }
  return { groups: [...groups.values()], skipped };
}
