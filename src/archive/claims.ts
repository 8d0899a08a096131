// Replay claims: a marker beside an archived object (replay-claims/<key>) saying which replay
// holds it, since when, and how many of its groups are back on the queue, so two replays at
// once queue each event once and a replay resumed after a crash skips what was queued. The
// rules are pure (parseClaim, claimIsStale); takeClaim and updateClaim are the R2 adapter, with
// R2's conditional puts as compare-and-swap.

import { isJsonObject } from '../segment/types';
import { claimKey } from './keys';
import { REPLAY_CLAIM_TTL_MS } from './limits';

/**
 * A replay claim on one archived object: who holds it, since when, and how many of its groups
 * are already back on the queue (groups are replayed in order, so a resumed replay skips them).
 */
export interface ReplayClaim {
  by: string;
  at: number;
  done: number;
}

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

/** A claim this replay holds, with the etag its next update must match. */
export interface Claimed {
  etag: string;
  claim: ReplayClaim;
}

/** Claims an object for this replay, or undefined when another replay holds a fresh claim. */
export async function takeClaim(
  bucket: R2Bucket,
  key: string,
  by: string,
  now: number,
): Promise<Claimed | undefined> {
  const fresh: ReplayClaim = { by, at: now, done: 0 };
  // R2 conditional put: If-None-Match "*" creates the marker only if no replay holds one.
  const created = await bucket.put(claimKey(key), JSON.stringify(fresh), {
    onlyIf: { etagDoesNotMatch: '*' },
  });
  if (created !== null) return { etag: created.etag, claim: fresh };
  const held = await bucket.get(claimKey(key));
  if (held === null) return undefined;
  const current = parseClaim(await held.text());
  if (!claimIsStale(current, now)) return undefined;
  const claim: ReplayClaim = { by, at: now, done: current?.done ?? 0 };
  const taken = await bucket.put(claimKey(key), JSON.stringify(claim), {
    onlyIf: { etagMatches: held.etag },
  });
  return taken === null ? undefined : { etag: taken.etag, claim };
}

/** Records progress on a claim this replay holds; undefined when another took it over. */
export async function updateClaim(
  bucket: R2Bucket,
  key: string,
  held: Claimed,
  claim: ReplayClaim,
): Promise<Claimed | undefined> {
  const put = await bucket.put(claimKey(key), JSON.stringify(claim), {
    onlyIf: { etagMatches: held.etag },
  });
  return put === null ? undefined : { etag: put.etag, claim };
}
