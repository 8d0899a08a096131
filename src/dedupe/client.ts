// The consumer's adapter to the dedupe shards: one call per shard a batch has keys for, carrying
// the commits and releases this isolate owes that shard (its outbox). What is owed and not
// carried by a later batch within DEDUPE_OUTBOX_FLUSH_MS is sent on its own from waitUntil
// (the queue_consumer_no_wait_for_wait_until flag keeps that from delaying acks).

import type { Env } from '../env';
import type { GatePlan } from './gate';
import type { ShardAnswer, ShardRequest } from './ledger';
import { DEDUPE_OUTBOX_FLUSH_MS, DEDUPE_OUTBOX_MAX_KEYS } from './limits';
import type { DedupeShard } from './object';
import { dedupeShards, dedupeWindowSeconds } from './settings';

export interface DedupeIo {
  call(shard: number, request: ShardRequest): Promise<ShardAnswer>;
}

interface Owed {
  commit: Uint32Array[];
  release: Array<{ token: string; keys: Uint32Array }>;
  /** Keys in `commit` and `release`, for the bound. */
  keys: number;
}

const empty = (): Owed => ({ commit: [], release: [], keys: 0 });

/** Commits and releases waiting for their shard, per shard. */
export class Outbox {
  readonly #owed = new Map<number, Owed>();
  /** Keys dropped to stay within the bound (each can let one duplicate through). */
  dropped = 0;

  commit(shard: number, keys: Uint32Array): void {
    const owed = this.#of(shard);
    owed.commit.push(keys);
    owed.keys += keys.length / 2;
    this.#bound(owed);
  }

  release(shard: number, token: string, keys: Uint32Array): void {
    const owed = this.#of(shard);
    owed.release.push({ token, keys });
    owed.keys += keys.length / 2;
    this.#bound(owed);
  }

  take(shard: number): Owed | undefined {
    const owed = this.#owed.get(shard);
    this.#owed.delete(shard);
    return owed;
  }

  /** Puts back what a failed call carried, ahead of anything owed since. */
  putBack(shard: number, owed: Owed): void {
    const later = this.#owed.get(shard) ?? empty();
    this.#owed.set(shard, {
      commit: [...owed.commit, ...later.commit],
      release: [...owed.release, ...later.release],
      keys: owed.keys + later.keys,
    });
    this.#bound(this.#of(shard));
  }

  shards(): number[] {
    return [...this.#owed.keys()];
  }

  get isEmpty(): boolean {
    return this.#owed.size === 0;
  }

  #of(shard: number): Owed {
    let owed = this.#owed.get(shard);
    if (owed === undefined) {
      owed = empty();
      this.#owed.set(shard, owed);
    }
    return owed;
  }

  #bound(owed: Owed): void {
    while (owed.keys > DEDUPE_OUTBOX_MAX_KEYS && owed.commit.length + owed.release.length > 1) {
      const dropped = owed.commit.shift() ?? owed.release.shift()?.keys;
      const n = (dropped?.length ?? 0) / 2;
      owed.keys -= n;
      this.dropped += n;
    }
  }
}

export const isolateOutbox = new Outbox();

/** Each shard's verdicts for the plan's keys; undefined for a shard that could not be asked. */
export async function askShards(
  io: DedupeIo,
  plan: GatePlan,
  outbox: Outbox,
): Promise<Map<number, Uint8Array | undefined>> {
  const verdicts = new Map<number, Uint8Array | undefined>();
  await Promise.all(
    [...plan.requests].map(async ([shard, request]) => {
      const owed = outbox.take(shard) ?? empty();
      try {
        const answer = await io.call(shard, {
          commit: owed.commit,
          release: owed.release,
          reserve: request.reserve,
        });
        verdicts.set(shard, answer.verdicts);
      } catch (e) {
        console.error('dedupe shard call failed', e instanceof Error ? e.message : String(e));
        if (owed.keys > 0) outbox.putBack(shard, owed);
        verdicts.set(shard, undefined);
      }
    }),
  );
  return verdicts;
}

/** Sends everything owed, one call per shard; what fails stays owed. */
export async function flushOutbox(io: DedupeIo, outbox: Outbox): Promise<void> {
  await Promise.all(
    outbox.shards().map(async (shard) => {
      const owed = outbox.take(shard);
      if (owed === undefined) return;
      try {
        await io.call(shard, { commit: owed.commit, release: owed.release, reserve: [] });
      } catch (e) {
        console.error('dedupe outbox flush failed', e instanceof Error ? e.message : String(e));
        outbox.putBack(shard, owed);
      }
    }),
  );
}

let flushArmed = false;

/** At the end of a consumer invocation: send what is owed shortly, unless a batch carries it. */
export function scheduleOutboxFlush(io: DedupeIo, outbox: Outbox, ctx: ExecutionContext): void {
  if (flushArmed || outbox.isEmpty) return;
  flushArmed = true;
  ctx.waitUntil(
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, DEDUPE_OUTBOX_FLUSH_MS));
      flushArmed = false;
      await flushOutbox(io, outbox);
    })(),
  );
}

export interface DedupeSettings {
  io: DedupeIo;
  shards: number;
}

/** DEDUPE_SHARDS, or undefined when deduplication is off (window 0 or no binding). */
export function dedupeShardCount(env: Env): number | undefined {
  if (env.DEDUPE === undefined || dedupeWindowSeconds(env.DEDUPE_WINDOW_SECONDS) === 0) {
    return undefined;
  }
  return dedupeShards(env.DEDUPE_SHARDS);
}

/** The shards from env, or undefined when deduplication is off (window 0 or no binding). */
export function dedupeSettings(env: Env): DedupeSettings | undefined {
  const namespace = env.DEDUPE;
  const shards = dedupeShardCount(env);
  if (namespace === undefined || shards === undefined) return undefined;
  const stub = (shard: number): DurableObjectStub<DedupeShard> =>
    namespace.get(namespace.idFromName(`shard-${shard}`));
  return {
    io: { call: (shard, request) => stub(shard).apply(request) },
    shards,
  };
}
