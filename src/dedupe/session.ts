// The dedupe lifecycle behind one API, for the consumers: a batch reserves the keys of every
// message it is about to deliver (one call per shard, `reserve`), then settles each message by
// what its delivery did (`settle`): delivered lines are committed; the lines of an attempt that
// failed for sure are released (that attempt's reservation only); an attempt whose answer was
// lost keeps its reservation for the delivery's next attempt; and lines whose forward copy was
// queued are marked so, so no later attempt queues another. Settlements ride on the isolate's
// next call to each shard (client.ts). The archive consumer frees the keys of dead letters
// Queues moved itself (`releaseMovedLetters`). Adapter over the pure gate.ts and client.ts.

import { askShards, callShard, type DedupeSettings, type Outbox } from './client';
import { keysByShard, planGate, resolveGate, type GateResult } from './gate';
import { ANY_OWNER } from './ledger';

export type { GateResult as Reservation };

/** One message of a batch to reserve for: whose delivery, which attempt, its lines' ids. */
export interface Delivery {
  /** The events' first queue message id, kept by retries, requeued copies and replays. */
  token: string;
  /** Unique to this attempt: the queue message's id and attempt number. */
  attempt: string;
  source: string;
  ids: readonly string[];
}

/** What a message's delivery did: landed; failed for sure (nothing landed); or may have landed. */
export type Settlement = 'delivered' | 'failed' | 'kept';

export class DedupeSession {
  readonly #settings: DedupeSettings;
  readonly #outbox: Outbox;
  #deliveries: readonly Delivery[] = [];
  #keys: Uint32Array[] = [];
  #results: GateResult[] = [];

  constructor(settings: DedupeSettings, outbox: Outbox) {
    this.#settings = settings;
    this.#outbox = outbox;
  }

  /** Each delivery's lines to send, drop or hold back; a shard that fails marks it unavailable. */
  async reserve(deliveries: readonly Delivery[]): Promise<GateResult[]> {
    const { io, shards, timeoutMs } = this.#settings;
    const plan = planGate(
      deliveries.map((d, index) => ({ index, ...d })),
      shards,
    );
    const verdicts = await askShards(io, plan, this.#outbox, timeoutMs);
    this.#deliveries = deliveries;
    this.#keys = plan.keys;
    this.#results = resolveGate(plan, verdicts);
    return this.#results;
  }

  /**
   * Queues what the shards must learn of delivery `index` (its position in `reserve`): only its
   * kept lines; `copied` when their forward copies were queued by this attempt.
   */
  settle(index: number, outcome: Settlement, copied: boolean): void {
    const delivery = this.#deliveries[index];
    const result = this.#results[index];
    const keys = this.#keys[index];
    if (delivery === undefined || result === undefined || keys === undefined) return;
    const lines = result.keep.flatMap((keep, i) => (keep ? [i] : []));
    if (lines.length === 0) return;
    const { source, token, attempt } = delivery;
    for (const [shard, shardKeys] of keysByShard(keys, lines, this.#settings.shards)) {
      const owned = { source, keys: shardKeys };
      if (outcome === 'delivered') {
        this.#outbox.commit(shard, owned);
        continue;
      }
      if (copied) this.#outbox.copied(shard, owned);
      if (outcome === 'failed') this.#outbox.release(shard, { ...owned, token, attempt });
    }
  }
}

/**
 * Frees the keys of dead letters that Queues moved itself (the consumer never saw their last
 * attempt), whatever attempt reserved them, so their replay is delivered rather than taken for
 * a duplicate. Rejects when a shard could not be told.
 */
export async function releaseMovedLetters(
  settings: DedupeSettings,
  letters: ReadonlyArray<{ source: string; ids: readonly string[] }>,
): Promise<void> {
  const byShard = new Map<number, Array<{ source: string; keys: Uint32Array }>>();
  const plan = planGate(
    letters.map((l, index) => ({ index, token: ANY_OWNER, attempt: '', ...l })),
    settings.shards,
  );
  letters.forEach((letter, i) => {
    const keys = plan.keys[i] ?? new Uint32Array();
    const lines = letter.ids.map((_id, line) => line);
    for (const [shard, k] of keysByShard(keys, lines, settings.shards)) {
      byShard.set(shard, [...(byShard.get(shard) ?? []), { source: letter.source, keys: k }]);
    }
  });
  await Promise.all(
    [...byShard].map(([shard, groups]) =>
      callShard(
        settings.io,
        shard,
        {
          commit: [],
          release: groups.map((g) => ({ ...g, token: ANY_OWNER, attempt: '' })),
          reserve: [],
        },
        settings.timeoutMs,
      ),
    ),
  );
}
