// Listing the archive for the admin API: which prefixes may be listed or replayed, the checks
// of a caller's `prefix` and `limit` (pure, Results in the one error vocabulary), and the R2
// list of one page of objects with what each holds (adapter).

import { ingestError, type IngestError } from '../segment/errors';
import { err, ok, type Result } from '../segment/types';
import {
  ARCHIVE_PREFIX,
  BLOCKED_PREFIX,
  FORWARD_ARCHIVE_PREFIX,
  FORWARD_REPLAYED_PREFIX,
  REPLAYED_PREFIX,
} from './keys';
import { LIST_MAX_OBJECTS } from './limits';

/** What GET /admin/dead-letters lists (the first is the default). */
export const DEAD_LETTER_PREFIXES = [
  ARCHIVE_PREFIX,
  REPLAYED_PREFIX,
  FORWARD_ARCHIVE_PREFIX,
  FORWARD_REPLAYED_PREFIX,
] as const;
/** What GET /admin/blocked lists. */
export const BLOCKED_PREFIXES = [BLOCKED_PREFIX] as const;
/** What POST /admin/replay replays (the first is the default). */
export const REPLAYABLE_PREFIXES = [
  ARCHIVE_PREFIX,
  BLOCKED_PREFIX,
  FORWARD_ARCHIVE_PREFIX,
] as const;

/** A caller's prefix (absent: the first allowed), when it starts with an allowed one. */
export function checkPrefix(
  value: unknown,
  allowed: readonly string[],
): Result<string, IngestError> {
  const prefix = typeof value === 'string' && value !== '' ? value : (allowed[0] ?? '');
  if (allowed.some((a) => prefix.startsWith(a))) return ok(prefix);
  return err(
    ingestError('invalid_field', `prefix must start with ${allowed.join(' or ')}`, '.prefix'),
  );
}

/** A caller's limit (absent: `max`), a whole number from 1 to `max`. */
export function checkLimit(value: unknown, max: number): Result<number, IngestError> {
  const n = typeof value === 'string' ? Number(value) : value;
  if (n === undefined || n === null || n === '') return ok(max);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
    return err(ingestError('invalid_field', `limit must be an integer from 1 to ${max}`, '.limit'));
  }
  return ok(n);
}

export interface ListedObject {
  key: string;
  size: number;
  uploaded: string;
  /** Events it holds (null when not recorded). */
  events: number | null;
  replayedAt?: string;
}

export interface Listing {
  objects: ListedObject[];
  truncated: boolean;
  cursor?: string;
}

/** One page of objects under a checked prefix. */
export async function listArchive(
  bucket: R2Bucket,
  query: { prefix: string; limit?: number; cursor?: string },
): Promise<Listing> {
  const listing = await bucket.list({
    prefix: query.prefix,
    limit: query.limit ?? LIST_MAX_OBJECTS,
    include: ['customMetadata'],
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  return {
    objects: listing.objects.map((o) => ({
      key: o.key,
      size: o.size,
      uploaded: o.uploaded.toISOString(),
      events: Number(o.customMetadata?.['events'] ?? NaN) || null,
      ...(o.customMetadata?.['replayedAt'] ? { replayedAt: o.customMetadata['replayedAt'] } : {}),
    })),
    truncated: listing.truncated,
    ...(listing.truncated ? { cursor: listing.cursor } : {}),
  };
}
