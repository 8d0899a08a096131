// The isolate's view of privacy: the index (every source's policy version and suppression shard
// versions) read from the registry at most once per PRIVACY_CACHE_SECONDS, each policy compiled
// once per version, and each source's suppressed ids as a compact set (set.ts), its shards read
// from KV once per version. Adapter.
//
// On the request path, while the index is fresh, a lookup is Map reads and no I/O. When it is
// stale, the request that notices starts one refresh in its own waitUntil (which also reads the
// policies and shards that changed, for the sources this isolate has met) and goes on with what
// the isolate has: Workers forbid awaiting another request's I/O, so no request waits on a
// refresh it did not start. Only a request that finds nothing to go on reads and waits: the
// first of a new isolate (the index), and the first for a source whose policy or suppressed ids
// this isolate has never loaded. An admin change made through this isolate drops its index, so
// its next request reads the new one.

import type { PrivacyEnv } from '../env';
import type { WaitUntil } from '../plans/cache';
import {
  EVERY_SOURCE,
  INDEX_KEY,
  parseIndex,
  policyKey,
  shardKey,
  type PrivacyIndex,
  type SuppressionEntry,
} from './layout';
import {
  PRIVACY_BODY_CACHE_TTL_SECONDS,
  PRIVACY_CACHE_SECONDS_DEFAULT,
  PRIVACY_RETRY_MS,
} from './limits';
import { parsePolicy, type CompiledPolicy } from './policy';
import { decodeShard, type SuppressionSet } from './set';

// KV "Read key-value pairs": cacheTtl is at least 30 s, the least stale a mirror read can be.
const INDEX_MIRROR_CACHE_TTL_SECONDS = 30;

/** PRIVACY_CACHE_SECONDS: a non-negative number of seconds, else the default. */
export function privacyCacheSeconds(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n >= 0
    ? n
    : PRIVACY_CACHE_SECONDS_DEFAULT;
}

/** What applies to one source's events. */
export interface SourcePrivacy {
  policy: CompiledPolicy | undefined;
  /** The suppressed ids that apply: the source's own and those of every source ("*"). */
  sets: SuppressionSet[];
}

const NOTHING: SourcePrivacy = { policy: undefined, sets: [] };

interface LoadedPolicy {
  version: string;
  policy: CompiledPolicy | undefined;
}

interface LoadedSet extends SuppressionSet {
  /** The version of each shard as loaded. */
  versions: readonly string[];
}

/** Reads the registry's index: one Durable Object call (src/privacy/registry.ts). */
export type IndexReader = (env: PrivacyEnv) => Promise<unknown>;

const REGISTRY_NAME = 'registry';

export const readRegistryIndex: IndexReader = async (env) => {
  const ns = env.PRIVACY_REGISTRY;
  if (ns === undefined) throw new Error('the PRIVACY_REGISTRY binding is missing');
  return ns.get(ns.idFromName(REGISTRY_NAME)).index();
};

export function registryStub(env: PrivacyEnv) {
  const ns = env.PRIVACY_REGISTRY;
  if (ns === undefined) throw new Error('the PRIVACY_REGISTRY binding is missing');
  return ns.get(ns.idFromName(REGISTRY_NAME));
}

export class PrivacyCache {
  readonly #now: () => number;
  readonly #readIndex: IndexReader;
  #index: PrivacyIndex | undefined;
  #nextRefreshAt = 0;
  readonly #policies = new Map<string, LoadedPolicy>();
  readonly #sets = new Map<string, LoadedSet>();
  /** `${what}\n${source}\n${version}` → when a read that failed may be tried again. */
  readonly #retryAt = new Map<string, number>();
  /** Index reads this cache made (tests count them). */
  indexReads = 0;

  constructor(now: () => number, readIndex: IndexReader = readRegistryIndex) {
    this.#now = now;
    this.#readIndex = readIndex;
  }

  /**
   * What applies to `source`, or undefined when privacy is off (PRIVACY or PRIVACY_REGISTRY
   * unbound). Throws only when the isolate has nothing to go on and cannot read it.
   */
  async forSource(
    env: PrivacyEnv,
    source: string,
    waitUntil: WaitUntil,
  ): Promise<SourcePrivacy | undefined> {
    const kv = env.PRIVACY;
    if (kv === undefined || env.PRIVACY_REGISTRY === undefined) return undefined;
    let index = this.#index;
    if (index === undefined) {
      index = await this.#loadIndex(env);
    } else if (this.#now() >= this.#nextRefreshAt) {
      this.#nextRefreshAt = this.#now() + PRIVACY_RETRY_MS;
      waitUntil(this.#refresh(env, kv));
    }
    // Most sources have neither a policy nor suppressed ids: nothing to read or wait for.
    if (
      index.policies[source] === undefined &&
      index.suppressions[source] === undefined &&
      index.suppressions[EVERY_SOURCE] === undefined
    ) {
      this.#policies.delete(source);
      this.#sets.delete(source);
      return NOTHING;
    }
    const [policy, own, every] = await Promise.all([
      this.#policy(kv, index, source, waitUntil),
      this.#set(kv, index, source, waitUntil),
      this.#set(kv, index, EVERY_SOURCE, waitUntil),
    ]);
    const sets: SuppressionSet[] = [];
    if (own !== undefined) sets.push(own);
    if (every !== undefined) sets.push(every);
    return { policy, sets };
  }

  /**
   * Whether anything of privacy applies to `source` as this isolate knows now, without I/O:
   * "none" when privacy is not bound, "unknown" before the isolate has read the index.
   */
  peek(env: PrivacyEnv, source: string): 'none' | 'active' | 'unknown' {
    if (env.PRIVACY === undefined || env.PRIVACY_REGISTRY === undefined) return 'none';
    const index = this.#index;
    if (index === undefined) return 'unknown';
    const active =
      index.policies[source] !== undefined ||
      index.suppressions[source] !== undefined ||
      index.suppressions[EVERY_SOURCE] !== undefined;
    return active ? 'active' : 'none';
  }

  /** An admin change went through this isolate: its next request reads the index afresh. */
  invalidate(): void {
    this.#index = undefined;
  }

  async #loadIndex(env: PrivacyEnv): Promise<PrivacyIndex> {
    this.indexReads += 1;
    let raw: unknown;
    try {
      raw = await this.#readIndex(env);
    } catch (e) {
      // The registry is one object: while it cannot be reached, its mirror in KV (as of its
      // last change, KV's propagation aside) keeps isolates going.
      const mirror = await env.PRIVACY?.get<unknown>(INDEX_KEY, {
        type: 'json',
        cacheTtl: INDEX_MIRROR_CACHE_TTL_SECONDS,
      });
      if (mirror === null || mirror === undefined) throw e;
      console.error(
        'privacy registry unreachable, using its mirror in KV',
        e instanceof Error ? e.message : String(e),
      );
      raw = mirror;
    }
    const index = parseIndex(raw);
    this.#index = index;
    this.#nextRefreshAt = this.#now() + privacyCacheSeconds(env.PRIVACY_CACHE_SECONDS) * 1000;
    return index;
  }

  async #refresh(env: PrivacyEnv, kv: KVNamespace): Promise<void> {
    try {
      const index = await this.#loadIndex(env);
      // What changed for the sources this isolate has met is read now, in the background.
      await Promise.all([
        ...[...this.#policies.keys()].map((s) => this.#policy(kv, index, s, undefined)),
        ...[...this.#sets.keys()].map((s) => this.#set(kv, index, s, undefined)),
      ]);
    } catch (e) {
      // The isolate goes on with what it has, and tries again in PRIVACY_RETRY_MS.
      logFailure(e);
    }
  }

  #due(key: string): boolean {
    if ((this.#retryAt.get(key) ?? 0) > this.#now()) return false;
    this.#retryAt.set(key, this.#now() + PRIVACY_RETRY_MS);
    return true;
  }

  /**
   * The policy in force: the loaded one when its version is current; else read (and waited
   * for) when never loaded, or read in the background (`waitUntil`) while the old one goes on.
   */
  async #policy(
    kv: KVNamespace,
    index: PrivacyIndex,
    source: string,
    waitUntil: WaitUntil | undefined,
  ): Promise<CompiledPolicy | undefined> {
    const version = index.policies[source];
    const loaded = this.#policies.get(source);
    if (version === undefined) {
      this.#policies.delete(source);
      return undefined;
    }
    if (loaded?.version === version) return loaded.policy;
    if (loaded !== undefined) {
      if (waitUntil !== undefined) {
        if (this.#due(`policy\n${source}\n${version}`))
          waitUntil(this.#loadPolicy(kv, source, version).catch(logFailure));
        return loaded.policy;
      }
    }
    return this.#loadPolicy(kv, source, version);
  }

  async #loadPolicy(kv: KVNamespace, source: string, version: string) {
    const body = await kv.get<unknown>(policyKey(source, version), {
      type: 'json',
      cacheTtl: PRIVACY_BODY_CACHE_TTL_SECONDS,
    });
    if (body === null) throw new Error(`privacy policy ${source} ${version} not found`);
    // Saved policies were checked with the key set; one that hashes without it fails at apply.
    const parsed = parsePolicy(body, true);
    const policy = parsed.ok ? parsed.value.compiled : undefined;
    if (!parsed.ok) console.error('privacy policy unusable', source, parsed.error.message);
    const current = this.#policies.get(source);
    if (current === undefined || current.version <= version)
      this.#policies.set(source, { version, policy });
    return policy;
  }

  /** The suppressed ids of `source` in force, as #policy decides for policies. */
  async #set(
    kv: KVNamespace,
    index: PrivacyIndex,
    source: string,
    waitUntil: WaitUntil | undefined,
  ): Promise<SuppressionSet | undefined> {
    const entry = index.suppressions[source];
    const loaded = this.#sets.get(source);
    if (entry === undefined) {
      this.#sets.delete(source);
      return undefined;
    }
    if (loaded !== undefined && sameShards(loaded, entry)) return loaded;
    if (loaded !== undefined && waitUntil !== undefined) {
      if (this.#due(`set\n${source}\n${entry.shards.join(',')}`))
        waitUntil(this.#loadSet(kv, source, entry).catch(logFailure));
      return loaded;
    }
    return this.#loadSet(kv, source, entry);
  }

  /** Reads the shards that changed since what is loaded (all of them, the first time). */
  async #loadSet(kv: KVNamespace, source: string, entry: SuppressionEntry): Promise<LoadedSet> {
    const loaded = this.#sets.get(source);
    const reuse = loaded !== undefined && loaded.bits === entry.bits;
    const shards = await Promise.all(
      entry.shards.map(async (version, shard) => {
        if (version === '') return new Uint32Array(0);
        if (reuse && loaded.versions[shard] === version) return loaded.shards[shard] as Uint32Array;
        const value = await kv.get(shardKey(source, entry.bits, shard, version), {
          type: 'arrayBuffer',
          cacheTtl: PRIVACY_BODY_CACHE_TTL_SECONDS,
        });
        const words = value === null ? undefined : decodeShard(value);
        if (words === undefined) throw new Error(`suppression shard ${source} ${shard} unreadable`);
        return words;
      }),
    );
    const set: LoadedSet = { bits: entry.bits, shards, versions: [...entry.shards] };
    this.#sets.set(source, set);
    return set;
  }
}

function sameShards(loaded: LoadedSet, entry: SuppressionEntry): boolean {
  return loaded.bits === entry.bits && loaded.versions.every((v, i) => v === entry.shards[i]);
}

function logFailure(e: unknown): void {
  console.error('privacy refresh failed', e instanceof Error ? e.message : String(e));
}

/** This isolate's cache, shared by its requests (as the tracking plans' is). */
export const isolatePrivacy = new PrivacyCache(() => Date.now());
