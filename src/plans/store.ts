// Saving, reading and deleting plans in the TRACKING_PLANS KV namespace, for the admin API.
// Adapter; the key layout is in layout.ts.
//
// A save writes the body under its new version, then the source's head, then rebuilds the index
// from every head (one list() call per 1,000 sources) rather than editing the index it read:
// KV has no compare-and-swap, and a read-modify-write of the index would let two admins saving
// different sources at once each drop the other's entry for good. Rebuilt from the heads, the
// index can miss only a head written while this rebuild ran, and the next save or delete of any
// source puts it back. Two saves of the same source: the last head written wins (KV "Write
// key-value pairs": concurrent writes to one key, the last one takes precedence); each body
// stays under its own version.

import { isJsonObject } from '../segment/types';
import { INDEX_WRITE_ATTEMPTS, KV_LIST_MAX_KEYS, KV_SAME_KEY_WRITE_INTERVAL_MS } from './limits';
import { encodeIndex, HEAD_PREFIX, headKey, INDEX_KEY, planKey } from './layout';
import type { PlanDocument } from './plan';

export interface StoredPlan {
  version: string;
  document: PlanDocument;
}

/** Every source's current version, from the heads (strongly read: list() is not cached). */
export async function listVersions(kv: KVNamespace): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor: string | undefined;
  do {
    const page: KVNamespaceListResult<{ version?: unknown }> = await kv.list({
      prefix: HEAD_PREFIX,
      limit: KV_LIST_MAX_KEYS,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const key of page.keys) {
      const version = key.metadata?.version;
      if (typeof version === 'string') out.set(key.name.slice(HEAD_PREFIX.length), version);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
  return out;
}

/**
 * Rewrites the index from the heads, with this call's own change applied whatever list saw. A
 * write KV refuses (one write per second per key) is tried again, from a fresh list.
 */
async function rebuildIndex(kv: KVNamespace, source: string, version: string | undefined) {
  for (let attempt = 1; ; attempt++) {
    const versions = await listVersions(kv);
    if (version === undefined) versions.delete(source);
    else versions.set(source, version);
    try {
      await kv.put(INDEX_KEY, encodeIndex(versions));
      return;
    } catch (e) {
      if (attempt >= INDEX_WRITE_ATTEMPTS) throw e;
      await new Promise((resolve) => setTimeout(resolve, KV_SAME_KEY_WRITE_INTERVAL_MS));
    }
  }
}

export async function savePlan(
  kv: KVNamespace,
  source: string,
  version: string,
  document: PlanDocument,
): Promise<void> {
  // The body first, the index last: whoever reads a version in the index finds its body.
  await kv.put(planKey(source, version), JSON.stringify(document));
  await kv.put(headKey(source), version, { metadata: { version } });
  await rebuildIndex(kv, source, version);
}

export async function readPlan(kv: KVNamespace, source: string): Promise<StoredPlan | undefined> {
  const version = await kv.get(headKey(source));
  if (version === null) return undefined;
  const body = await kv.get<unknown>(planKey(source, version), { type: 'json' });
  return isJsonObject(body) ? { version, document: body as unknown as PlanDocument } : undefined;
}

/** Deletes the source's plan; the version it had, or undefined when it had none. */
export async function deletePlan(kv: KVNamespace, source: string): Promise<string | undefined> {
  const version = await kv.get(headKey(source));
  if (version === null) return undefined;
  await kv.delete(headKey(source));
  await rebuildIndex(kv, source, undefined);
  // The body stays under its version: an isolate whose index still names it can load it.
  return version;
}
