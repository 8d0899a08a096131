// The isolate's view of every source's tracking plan: the index (source → version) read from
// KV at most once per TRACKING_PLAN_CACHE_SECONDS, and each plan compiled once per version.
// Adapter.
//
// On the request path, while the index is fresh, a lookup is a Map read and no KV read. When
// it is stale, the request that notices starts one refresh in its own waitUntil and goes on
// with what the isolate has (Workers forbid awaiting another request's I/O, so no request ever
// waits for a refresh it did not start); the refresh also fetches, for the sources this isolate
// has met, the bodies of versions that changed. Only a request that finds nothing to go on
// reads KV itself and waits: the first of a new isolate (the index), and the first for a source
// whose plan this isolate has never loaded (its body). A body is fetched only when its version
// changes. The isolate that saves or deletes a plan applies it at once (`install`, `forget`),
// and keeps its own answer until the index it reads has caught up.

import type { PlansEnv } from '../env';
import {
  INDEX_CACHE_TTL_SECONDS,
  LOCAL_WRITE_PIN_MS,
  PLAN_BODY_CACHE_TTL_SECONDS,
  PLAN_RETRY_MS,
  TRACKING_PLAN_CACHE_SECONDS_DEFAULT,
} from './limits';
import { INDEX_KEY, parseIndex, planKey, versionTime } from './layout';
import { parsePlan, type CompiledPlan } from './plan';

/** TRACKING_PLAN_CACHE_SECONDS: a non-negative number of seconds, else the default. */
export function cacheSeconds(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n >= 0
    ? n
    : TRACKING_PLAN_CACHE_SECONDS_DEFAULT;
}

interface Loaded {
  version: string;
  plan: CompiledPlan | undefined;
}

/** A save or delete made by this isolate: `version` undefined for a delete. */
interface Pin {
  version: string | undefined;
  at: number;
}

export type WaitUntil = (promise: Promise<unknown>) => void;

export class PlanCache {
  readonly #now: () => number;
  #index: ReadonlyMap<string, string> | undefined;
  #nextRefreshAt = 0;
  readonly #loaded = new Map<string, Loaded>();
  /** `${source}\n${version}` → when a body that could not be had may be tried again. */
  readonly #retryAt = new Map<string, number>();
  readonly #pins = new Map<string, Pin>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /**
   * The plan in force for `source`, or undefined when it has none (or no TRACKING_PLANS is
   * bound). Throws only when the isolate has nothing to go on and KV cannot be read.
   */
  async planFor(
    env: PlansEnv,
    source: string,
    waitUntil: WaitUntil,
  ): Promise<CompiledPlan | undefined> {
    const kv = env.TRACKING_PLANS;
    if (kv === undefined) return undefined;
    if (this.#index === undefined) {
      await this.#readIndex(kv, env);
    } else if (this.#now() >= this.#nextRefreshAt) {
      this.#nextRefreshAt = this.#now() + PLAN_RETRY_MS;
      waitUntil(this.#refresh(kv, env));
    }
    return this.#resolve(kv, source, waitUntil);
  }

  /** For the admin API (replay): the plan in force now, the index and body read afresh. */
  async currentPlan(env: PlansEnv, source: string): Promise<CompiledPlan | undefined> {
    const kv = env.TRACKING_PLANS;
    if (kv === undefined) return undefined;
    await this.#readIndex(kv, env);
    const version = this.#versionOf(source);
    if (version === undefined) return undefined;
    const loaded = this.#loaded.get(source);
    if (loaded?.version === version) return loaded.plan;
    return (await this.#loadBody(kv, source, version)) ?? loaded?.plan;
  }

  /** A plan this isolate just saved: in force here at once. */
  install(source: string, version: string, plan: CompiledPlan): void {
    this.#pins.set(source, { version, at: this.#now() });
    this.#loaded.set(source, { version, plan });
  }

  /** A plan this isolate just deleted: gone here at once. */
  forget(source: string): void {
    this.#pins.set(source, { version: undefined, at: this.#now() });
    this.#loaded.delete(source);
  }

  #versionOf(source: string): string | undefined {
    if (this.#pins.size > 0) {
      const pin = this.#pins.get(source);
      if (pin !== undefined && this.#now() - pin.at < LOCAL_WRITE_PIN_MS) return pin.version;
    }
    return this.#index?.get(source);
  }

  async #resolve(
    kv: KVNamespace,
    source: string,
    waitUntil: WaitUntil,
  ): Promise<CompiledPlan | undefined> {
    const version = this.#versionOf(source);
    if (version === undefined) return undefined;
    const loaded = this.#loaded.get(source);
    if (loaded?.version === version) return loaded.plan;
    const key = `${source}\n${version}`;
    if ((this.#retryAt.get(key) ?? 0) > this.#now()) return loaded?.plan;
    this.#retryAt.set(key, this.#now() + PLAN_RETRY_MS);
    if (loaded !== undefined) {
      // The version changed and the refresh has not fetched it yet: the old plan goes on.
      waitUntil(this.#loadBody(kv, source, version).catch(logFailure));
      return loaded.plan;
    }
    // Never loaded here: this request reads it, and waits.
    return this.#loadBody(kv, source, version);
  }

  async #readIndex(kv: KVNamespace, env: PlansEnv): Promise<void> {
    const value = await kv.get<unknown>(INDEX_KEY, {
      type: 'json',
      cacheTtl: INDEX_CACHE_TTL_SECONDS,
    });
    this.#index = parseIndex(value);
    this.#nextRefreshAt = this.#now() + cacheSeconds(env.TRACKING_PLAN_CACHE_SECONDS) * 1000;
    this.#unpin();
  }

  /** Pins are dropped once the index shows their change, or a later one, or they expire. */
  #unpin(): void {
    const now = this.#now();
    for (const [source, pin] of this.#pins) {
      const indexed = this.#index?.get(source);
      const caughtUp =
        indexed === pin.version || (indexed !== undefined && (versionTime(indexed) ?? 0) > pin.at);
      if (caughtUp || now - pin.at >= LOCAL_WRITE_PIN_MS) this.#pins.delete(source);
    }
  }

  async #refresh(kv: KVNamespace, env: PlansEnv): Promise<void> {
    try {
      await this.#readIndex(kv, env);
      const changed = [...this.#loaded].filter(([source, l]) => {
        const version = this.#versionOf(source);
        return version !== undefined && version !== l.version;
      });
      await Promise.all(
        changed.map(([source]) => {
          const version = this.#versionOf(source) as string;
          this.#retryAt.set(`${source}\n${version}`, this.#now() + PLAN_RETRY_MS);
          return this.#loadBody(kv, source, version);
        }),
      );
    } catch (e) {
      // The isolate goes on with what it has, and tries again in PLAN_RETRY_MS.
      logFailure(e);
    }
  }

  /** Reads and compiles one plan version; undefined when KV does not have it (yet). */
  async #loadBody(
    kv: KVNamespace,
    source: string,
    version: string,
  ): Promise<CompiledPlan | undefined> {
    const body = await kv.get<unknown>(planKey(source, version), {
      type: 'json',
      cacheTtl: PLAN_BODY_CACHE_TTL_SECONDS,
    });
    if (body === null) return undefined;
    const parsed = parsePlan(body);
    if (!parsed.ok) {
      // Saved plans were checked by the same rules; a body that fails now is not retried.
      console.error('tracking plan unusable', source, version, parsed.error.message);
      this.#retryAt.set(`${source}\n${version}`, Infinity);
      return undefined;
    }
    this.#retryAt.delete(`${source}\n${version}`);
    // A later version may have landed meanwhile (install, another refresh): keep the newer.
    const current = this.#loaded.get(source);
    if (current === undefined || current.version <= version) {
      this.#loaded.set(source, { version, plan: parsed.value.compiled });
    }
    return parsed.value.compiled;
  }
}

function logFailure(e: unknown): void {
  console.error('tracking plan refresh failed', e instanceof Error ? e.message : String(e));
}

/** This isolate's cache, shared by its requests (as the metrics buffer is). */
export const isolatePlans = new PlanCache(() => Date.now());
