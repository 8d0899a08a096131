// How privacy policies and suppressed ids are laid out in the PRIVACY KV namespace, and the index
// of versions the registry serves. Pure: key names and the index's shape.
//
//   policy:<source>:<version>                       a policy document (JSON); written once
//   suppressions:<source>:<bits>:<shard>:<version>  a shard of suppressed ids (binary, set.ts);
//                                                   written once
//
//   index                                           the index's mirror (below)
//
// The index (source → policy version; source → the versions of its suppression shards) is
// served by the registry (registry.ts), so a change is seen by an isolate's next read of it, not
// after KV's edge caches expire; its mirror in KV is read only while the registry cannot be
// reached. Everything else is immutable, under new keys: a read of a key that was never read
// before comes from KV's central store, so it is never stale.
//
// KV has no jurisdiction (Cloudflare's data-localization table): what is stored here holds no
// personal data. Policies name fields, not values; suppressed ids are 64-bit prefixes of an
// HMAC-SHA256 keyed with PRIVACY_HASH_KEY, which only the Worker holds: without the key, a
// prefix cannot be tied to an id, even by trying every id one knows.

import { isJsonObject } from '../segment/types';

/** The index's mirror, read by isolates only while the registry cannot be reached. */
export const INDEX_KEY = 'index';

/** The source name for suppressions that apply to every source. */
export const EVERY_SOURCE = '*';

export function policyKey(source: string, version: string): string {
  return `policy:${source}:${version}`;
}

export function shardKey(source: string, bits: number, shard: number, version: string): string {
  return `suppressions:${source}:${bits}:${shard}:${version}`;
}

export interface SuppressionEntry {
  /** Shards are picked by the top `bits` bits of a hash. */
  bits: number;
  /** Per shard, the version of its KV value; "" for an empty shard (nothing to read). */
  shards: string[];
  count: number;
}

export interface PrivacyIndex {
  policies: Record<string, string>;
  suppressions: Record<string, SuppressionEntry>;
}

export function emptyIndex(): PrivacyIndex {
  return { policies: {}, suppressions: {} };
}

/** An index as it crossed RPC, checked; anything malformed reads as empty. */
export function parseIndex(value: unknown): PrivacyIndex {
  const out = emptyIndex();
  if (!isJsonObject(value)) return out;
  const policies = value['policies'];
  if (isJsonObject(policies)) {
    for (const [source, version] of Object.entries(policies)) {
      if (typeof version === 'string') out.policies[source] = version;
    }
  }
  const suppressions = value['suppressions'];
  if (isJsonObject(suppressions)) {
    for (const [source, entry] of Object.entries(suppressions)) {
      if (!isJsonObject(entry)) continue;
      const { bits, shards, count } = entry;
      if (
        typeof bits === 'number' &&
        typeof count === 'number' &&
        Array.isArray(shards) &&
        shards.length === 2 ** bits &&
        shards.every((s) => typeof s === 'string')
      ) {
        out.suppressions[source] = { bits, shards: shards, count };
      }
    }
  }
  return out;
}
