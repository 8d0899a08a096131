// Reading an archived object back for a replay: its NDJSON lines into events grouped the way
// the producer packs them (by source and receivedAt) and by the dedupe token they were first
// delivered under, so a replayed event is its own delivery's retry. Reads lines written by any
// version of format.ts. Pure.
//
// An `undecodable` line whose raw body is a queue message this version reads (a version 2
// message a consumer of the version before it could not decode, during a rolling deploy) is
// read as that message's events, so they replay too.

import type { Sink } from '../privacy/policy';
import { parseSinks } from '../privacy/sinks';
import { decodeMessage, messageLines } from '../queue/message';
import { isJsonObject, type JsonObject } from '../segment/types';

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

interface Entry {
  source: string;
  receivedAt: number;
  token: string | undefined;
  sinks: Sink[] | undefined;
  event: JsonObject;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The events of an `undecodable` line's raw body when it is a message this version reads. */
function rawMessageEntries(raw: unknown): Entry[] {
  const message = typeof raw === 'string' ? decodeMessage(raw) : undefined;
  if (message === undefined) return [];
  const { source, receivedAt, token, sinks } = message.header;
  return messageLines(message).flatMap((line) => {
    const event = parsed(line);
    return isJsonObject(event) ? [{ source, receivedAt, token, sinks, event }] : [];
  });
}

/** One archive line's replayable parts: none when it holds no event. */
function readLine(line: string): Entry[] {
  const entry = parsed(line);
  if (isJsonObject(entry) && entry['reason'] === 'undecodable')
    return rawMessageEntries(entry['raw']);
  const one = readEntry(entry);
  return one === undefined ? [] : [one];
}

function readEntry(entry: unknown): Entry | undefined {
  if (!isJsonObject(entry) || !isJsonObject(entry['event']) || typeof entry['source'] !== 'string')
    return undefined;
  const receivedAt =
    typeof entry['receivedAt'] === 'string' ? Date.parse(entry['receivedAt']) : NaN;
  if (Number.isNaN(receivedAt)) return undefined;
  const token = typeof entry['token'] === 'string' ? entry['token'] : undefined;
  const sinks = parseSinks(entry['sinks']);
  return { source: entry['source'], receivedAt, token, sinks, event: entry['event'] };
}

export function parseArchive(text: string): ParsedArchive {
  const groups = new Map<string, ReplayGroup>();
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const entries = readLine(line);
    if (entries.length === 0) skipped += 1;
    for (const entry of entries) addEntry(groups, entry);
  }
  return { groups: [...groups.values()], skipped };
}

function addEntry(groups: Map<string, ReplayGroup>, entry: Entry): void {
  const key = `${entry.source}\n${entry.receivedAt}\n${entry.token ?? ''}\n${entry.sinks?.join(',') ?? ''}`;
  let group = groups.get(key);
  if (group === undefined) {
    group = { source: entry.source, receivedAt: entry.receivedAt, events: [] };
    if (entry.token !== undefined) group.token = entry.token;
    if (entry.sinks !== undefined) group.sinks = entry.sinks;
    groups.set(key, group);
  }
  group.events.push(entry.event);
}

/** The messageId of an archived event (every queued event has one), or a stand-in. */
export function eventMessageId(event: JsonObject, fallback: string): string {
  const id = event['messageId'];
  return typeof id === 'string' ? id : fallback;
}
