// The archive's key layout in R2 (a public contract: operators list and replay by these
// prefixes), every key bounded to R2's 1,024 bytes whatever the source name. Pure.
//
//   dead-letters/YYYY/MM/DD/HH/<time>-<id>.ndjson          events dead-lettered (events DLQ)
//   blocked/<source>/YYYY/MM/DD/HH/<time>-<id>.ndjson      events a tracking plan blocked
//   forward-dead-letters/YYYY/MM/DD/HH/<time>-<id>.ndjson  forwarding's dead letters
//   replayed/…, forward-replayed/…                         objects once replayed
//   replay-claims/<key>                                     a replay's claim on an object
//
// <source> is the source name as it is, up to SOURCE_SEGMENT_MAX_BYTES; a longer name is cut
// there and suffixed with `~` and a hash of the whole name (a `~` is never in a source name, so
// a cut name cannot meet a real one). The archive lines keep the whole name.

import { utf8Length } from '../segment/utf8';
import { SOURCE_SEGMENT_MAX_BYTES } from './limits';
import { fnv64Hex } from '../fnv';

export const ARCHIVE_PREFIX = 'dead-letters/';
export const REPLAYED_PREFIX = 'replayed/';
/** Events a tracking plan blocked (docs/tracking-plans.md), archived per source. */
export const BLOCKED_PREFIX = 'blocked/';
/** Dead letters of forwarding (docs/forwarding.md), replayed onto the forward queue. */
export const FORWARD_ARCHIVE_PREFIX = 'forward-dead-letters/';
export const FORWARD_REPLAYED_PREFIX = 'forward-replayed/';
/** Where replay claims live, beside the archive: `replay-claims/<archived object key>`. */
export const CLAIM_PREFIX = 'replay-claims/';

// Hex digits of the hash that ends a cut source name, and of one that stands in for an id.
const HASH_HEX_DIGITS = 16;
// Ours: an id (a UUID, a queue message id) is kept in a key as it is up to this length.
const ID_MAX_CHARS = 64;
const PLAIN_ID = /^[A-Za-z0-9_-]+$/;

/** 64 bits of FNV-1a (src/fnv.ts), as many hex digits as a key keeps. */
function hash64(text: string): string {
  return fnv64Hex(text).slice(0, HASH_HEX_DIGITS);
}

/** The longest prefix of `text` whose UTF-8 form fits `maxBytes`, never splitting a character. */
function cutToBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const size = utf8Length(ch);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** The path segment of a source: its name, or a long name cut and suffixed with its hash. */
export function sourceSegment(source: string): string {
  if (source !== '' && utf8Length(source) <= SOURCE_SEGMENT_MAX_BYTES) return source;
  const suffix = `~${hash64(source)}`;
  return cutToBytes(source, SOURCE_SEGMENT_MAX_BYTES - suffix.length) + suffix;
}

/** An id as a key segment: itself when short and plain, else a hash of it. */
function idSegment(id: string): string {
  return id.length <= ID_MAX_CHARS && PLAIN_ID.test(id) ? id : hash64(id);
}

/** `YYYY/MM/DD/HH/<time>-<id>.ndjson` under `prefix`. */
function datedKey(prefix: string, at: number, id: string): string {
  const iso = new Date(at).toISOString();
  const [y, m, d, h] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13)];
  return `${prefix}${y}/${m}/${d}/${h}/${iso.replace(/[:.]/g, '')}-${idSegment(id)}.ndjson`;
}

/** R2 key of one archived batch: <prefix>YYYY/MM/DD/HH/<time>-<id>.ndjson. */
export function archiveKey(archivedAt: number, id: string, prefix = ARCHIVE_PREFIX): string {
  return datedKey(prefix, archivedAt, id);
}

/** R2 key of one source's blocked events of a batch: blocked/<source>/YYYY/MM/DD/HH/…. */
export function blockedArchiveKey(source: string, archivedAt: number, id: string): string {
  return datedKey(`${BLOCKED_PREFIX}${sourceSegment(source)}/`, archivedAt, id);
}

/** The prefix listing one source's blocked events (GET /admin/blocked?prefix=…). */
export function blockedSourcePrefix(source: string): string {
  return `${BLOCKED_PREFIX}${sourceSegment(source)}/`;
}

/** Where an archived object's events go back to, and where the object moves after. */
export interface ReplayRoute {
  /** The events queues (dead-letters/, blocked/) or the forward queue (forward-dead-letters/). */
  queue: 'events' | 'forward';
  replayedKey: string;
}

/**
 * The route of a replayable key, or undefined for any other. `etag` names a blocked object's
 * copy for its content too: the events still blocked stay at the key, and a later replay of
 * them must not overwrite the copy of what was there before.
 */
export function replayRoute(key: string, etag = ''): ReplayRoute | undefined {
  if (key.startsWith(ARCHIVE_PREFIX))
    return { queue: 'events', replayedKey: REPLAYED_PREFIX + key.slice(ARCHIVE_PREFIX.length) };
  if (key.startsWith(BLOCKED_PREFIX)) {
    const named = key.replace(/\.ndjson$/, `-${etag.slice(0, 8)}.ndjson`);
    return { queue: 'events', replayedKey: REPLAYED_PREFIX + named };
  }
  if (key.startsWith(FORWARD_ARCHIVE_PREFIX)) {
    const rest = key.slice(FORWARD_ARCHIVE_PREFIX.length);
    return { queue: 'forward', replayedKey: FORWARD_REPLAYED_PREFIX + rest };
  }
  return undefined;
}

export function claimKey(key: string): string {
  return CLAIM_PREFIX + key;
}
