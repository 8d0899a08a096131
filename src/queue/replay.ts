// Replay of archived dead letters: the archive's NDJSON lines back into events grouped the way
// the producer packs them (by source and receivedAt) and by the dedupe token they were first
// delivered under, so a replayed event is its own delivery's retry; dead letters of forwarding
// go back to the forward queue. Pure.

import type { Sink } from '../privacy/policy';
import { parseSinks } from '../privacy/sinks';
import { isJsonObject, type JsonObject } from '../segment/types';
import {
  ARCHIVE_PREFIX,
  FORWARD_ARCHIVE_PREFIX,
  FORWARD_REPLAYED_PREFIX,
  REPLAYED_PREFIX,
} from './dead-letter';

/** Where an archived object's events go back to, and where the object moves after. */
export interface ReplayRoute {
  /** The events queues (dead-letters/) or the forward queue (forward-dead-letters/). */
  queue: 'events' | 'forward';
  replayedKey: string;
}

export function replayRoute(key: string): ReplayRoute | undefined {
  if (key.startsWith(ARCHIVE_PREFIX))
    return { queue: 'events', replayedKey: REPLAYED_PREFIX + key.slice(ARCHIVE_PREFIX.length) };
  if (key.startsWith(FORWARD_ARCHIVE_PREFIX)) {
    const rest = key.slice(FORWARD_ARCHIVE_PREFIX.length);
    return { queue: 'forward', replayedKey: FORWARD_REPLAYED_PREFIX + rest };
  }
  return undefined;
}

export interface ReplayGroup {
  source: string;
  receivedAt: number;
  /** The token the events were delivered under; absent in archives written before it. */
  token?: string;
  /** The sinks their consent allowed at ingest; absent: every sink. */
  sinks?: Sink[];
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
    const token = typeof entry['token'] === 'string' ? entry['token'] : undefined;
    const sinks = parseSinks(entry['sinks']);
    const key = `${entry['source']}\n${receivedAt}\n${token ?? ''}\n${sinks?.join(',') ?? ''}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { source: entry['source'], receivedAt, events: [] };
      if (token !== undefined) group.token = token;
      if (sinks !== undefined) group.sinks = sinks;
      groups.set(key, group);
    }
    group.events.push(entry['event']);
  }
  return { groups: [...groups.values()], skipped };
}

/** The messageId of an archived event (every queued event has one), or a stand-in. */
export function eventMessageId(event: JsonObject, fallback: string): string {
  const id = event['messageId'];
  return typeof id === 'string' ? id : fallback;
}

/**
 * A replay claim on one archived object: who holds it, since when, and how many of its groups
 * are already back on the queue (groups are replayed in order, so a resumed replay skips them).
 */
export interface ReplayClaim {
  by: string;
  at: number;
  done: number;
}

// Ours: a claim older than this belongs to a replay that crashed or timed out (a call replays
// at most REPLAY_MAX_OBJECTS small objects, well within a Worker request's limits).
export const REPLAY_CLAIM_TTL_MS = 10 * 60_000;

export function parseClaim(text: string): ReplayClaim | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!isJsonObject(value)) return undefined;
    const { by, at, done } = value;
    return typeof by === 'string' && typeof at === 'number' && typeof done === 'number'
      ? { by, at, done }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a replay may take a claim another holds: only once it has gone stale. */
export function claimIsStale(claim: ReplayClaim | undefined, now: number): boolean {
  return claim === undefined || now - claim.at > REPLAY_CLAIM_TTL_MS;
}
