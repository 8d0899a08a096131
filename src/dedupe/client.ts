// The consumer's adapter to the dedupe shards: one call per shard a batch has keys for, carrying
// the commits, copy marks and releases this isolate owes that shard (its outbox), each call
// abandoned after DEDUPE_CALL_TIMEOUT_MS. What is owed and not carried by a later batch within
// DEDUPE_OUTBOX_FLUSH_MS is sent on its own from waitUntil (the
// queue_consumer_no_wait_for_wait_until flag keeps that from delaying acks). What a call
// carried is owed again when it fails or times out: every entry is safe to apply twice (a
// commit or a copy mark is a fact; a release names the attempt it frees).

import type { Env } from '../env';
import type { GatePlan } from './gate';
import type { AttemptKeys, ShardAnswer, ShardRequest, SourceKeys } from './ledger';
import { DEDUPE_CALL_TIMEOUT_MS, DEDUPE_OUTBOX_FLUSH_MS, DEDUPE_OUTBOX_MAX_KEYS } from './limits';
import type { DedupeShard } from './object';
import { dedupeShards, dedupeWindowSeconds } from './settings';

export interface DedupeIo {
  call(shard: number, request: ShardRequest): Promise<ShardAnswer>;
}

interface Owed {
  commit: SourceKeys[];
  copied: SourceKeys[];
  release: AttemptKeys[];
  /** Keys in `commit`, `copied` and `release`, for the bound. */
  keys: number;
}

const empty = (): Owed => ({ commit: [], copied: [], release: [], keys: 0 });

/** Commits, copy marks and releases waiting for their shard, per shard. */
export class Outbox {
  readonly #owed = new Map<number, Owed>();
  /** Keys dropped to stay within the bound (each can let one duplicate through). */
  dropped = 0;

  commit(shard: number, keys: SourceKeys): void {
    this.#add(shard, 'commit', keys);
  }

  copied(shard: number, keys: SourceKeys): void {
    this.#add(shard, 'copied', keys);
  }

  release(shard: number, keys: AttemptKeys): void {
    const owed = this.#of(shard);
    owed.release.push(keys);
    owed.keys += keys.keys.length / 2;
    this.#bound(owed);
  }

  #add(shard: number, list: 'commit' | 'copied', keys: SourceKeys): void {
    const owed = this.#of(shard);
    owed[list].push(keys);
    owed.keys += keys.keys.length / 2;
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
      copied: [...owed.copied, ...later.copied],
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
    const entries = (): number => owed.commit.length + owed.copied.length + owed.release.length;
    while (owed.keys > DEDUPE_OUTBOX_MAX_KEYS && entries() > 1) {
      const dropped = owed.commit.shift() ?? owed.copied.shift() ?? owed.release.shift();
      const n = (dropped?.keys.length ?? 0) / 2;
      owed.keys -= n;
      this.dropped += n;
    }
  }
}

export const isolateOutbox = new Outbox();

/**
 * One call to a shard, abandoned after `timeoutMs`: a shard that hangs fails the call rather
 * than the consumer invocation waiting on it (the call may still land later: see the header).
 */
export async function callShard(
  io: DedupeIo,
  shard: number,
  request: ShardRequest,
  timeoutMs = DEDUPE_CALL_TIMEOUT_MS,
): Promise<ShardAnswer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`dedupe shard ${shard} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([io.call(shard, request), timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Each shard's verdicts for the plan's keys; undefined for a shard that could not be asked. */
export async function askShards(
  io: DedupeIo,
  plan: GatePlan,
  outbox: Outbox,
  timeoutMs = DEDUPE_CALL_TIMEOUT_MS,
): Promise<Map<number, Uint8Array | undefined>> {
  const verdicts = new Map<number, Uint8Array | undefined>();
  await Promise.all(
    [...plan.requests].map(async ([shard, request]) => {
      const owed = outbox.take(shard) ?? empty();
      try {
        const answer = await callShard(
          io,
          shard,
          {
            commit: owed.commit,
            copied: owed.copied,
            release: owed.release,
            reserve: request.reserve,
          },
          timeoutMs,
        );
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
export async function flushOutbox(
  io: DedupeIo,
  outbox: Outbox,
  timeoutMs = DEDUPE_CALL_TIMEOUT_MS,
): Promise<void> {
  await Promise.all(
    outbox.shards().map(async (shard) => {
      const owed = outbox.take(shard);
      if (owed === undefined) return;
      try {
        const { commit, copied, release } = owed;
        await callShard(io, shard, { commit, copied, release, reserve: [] }, timeoutMs);
      } catch (e) {
        console.error('dedupe outbox flush failed', e instanceof Error ? e.message : String(e));
        outbox.putBack(shard, owed);
      }
    }),
  );
}

let flushArmed = false;

/** At the end of a consumer invocation: send what is owed shortly, unless a batch carries it. */
export function scheduleOutboxFlush(
  dedupe: DedupeSettings,
  outbox: Outbox,
  ctx: ExecutionContext,
): void {
  if (flushArmed || outbox.isEmpty) return;
  flushArmed = true;
  ctx.waitUntil(
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, DEDUPE_OUTBOX_FLUSH_MS));
      flushArmed = false;
      await flushOutbox(dedupe.io, outbox, dedupe.timeoutMs);
    })(),
  );
}

export interface DedupeSettings {
  io: DedupeIo;
  shards: number;
  /** How long a shard may take to answer (default DEDUPE_CALL_TIMEOUT_MS; tests shorten it). */
  timeoutMs?: number;
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
