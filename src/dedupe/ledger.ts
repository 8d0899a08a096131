// What one dedupe shard decides: for each key a consumer batch is about to deliver, whether to
// send it, drop it as a duplicate, or hold it back while another delivery of it is in flight;
// and what commits and releases do. Pure: the clock is a parameter, storage is the caller's.
//
// A key is reserved (PENDING) by the first delivery that asks for it, under that delivery's
// token (the queue message's id, which stays the same across the message's retries), and
// COMMITTED once Firehose accepted its record. So:
// - the owner's own retry is sent again (its earlier attempt failed, or its answer was lost);
// - any other copy is held back while the reservation is fresh, and dropped once it is
//   committed or its lease ran out (an owner that never confirms either delivered and lost its
//   commit, or is still retrying: in both cases its own copy is the one that lands);
// - a release (the owner's delivery failed for good, or was dead-lettered) frees the key for
//   the next copy.
// Nothing here drops the only copy of an event: a copy is dropped only while another copy is
// committed, or owned by a delivery that keeps its event (the queue, then the archive).

import { DEDUPE_GENERATIONS, DEDUPE_MAX_KEYS_PER_SHARD, DEDUPE_MAX_PENDING_OWNERS } from './limits';
import { ABSENT, COMMITTED, KeyWindow, PENDING } from './window';

export const SEND = 0;
export const DUPLICATE = 1;
export const HELD = 2;
export type Verdict = typeof SEND | typeof DUPLICATE | typeof HELD;

export interface LedgerOptions {
  windowMs: number;
  leaseMs: number;
  maxKeys?: number;
  maxPendingOwners?: number;
}

interface Owner {
  token: string;
  /** When the owner last reserved the key, ms. */
  at: number;
}

/** A request from one consumer batch to one shard (keys as flat [hi, lo, …] arrays). */
export interface ShardRequest {
  /** Keys whose record Firehose accepted since this isolate's last call. */
  commit: Uint32Array[];
  /** Keys whose delivery failed for good, with the token that reserved them. */
  release: Array<{ token: string; keys: Uint32Array }>;
  /** Keys about to be delivered, by the token (queue message id) delivering them. */
  reserve: Array<{ token: string; keys: Uint32Array }>;
}

export interface ShardAnswer {
  /** One verdict per reserved key, in request order, concatenated over `reserve`. */
  verdicts: Uint8Array;
  /** Keys the shard holds after the call, and generations dropped early to stay bounded. */
  keys: number;
  droppedEarly: number;
}

const ownerKey = (hi: number, lo: number): string => `${hi >>> 0}:${lo >>> 0}`;

/**
 * The token of a release that frees a reserved key whoever reserved it: for dead letters that
 * Queues moved to the dead-letter queue itself, which no longer carry the token they had.
 */
export const ANY_OWNER = '*';

export class DedupeLedger {
  readonly #window: KeyWindow;
  readonly #owners = new Map<string, Owner>();
  readonly #leaseMs: number;
  readonly #maxOwners: number;
  /** Keys committed since the caller last took them for storage. */
  #unpersisted: number[] = [];

  constructor(options: LedgerOptions) {
    this.#window = new KeyWindow(
      options.windowMs,
      DEDUPE_GENERATIONS,
      options.maxKeys ?? DEDUPE_MAX_KEYS_PER_SHARD,
    );
    this.#leaseMs = options.leaseMs;
    this.#maxOwners = options.maxPendingOwners ?? DEDUPE_MAX_PENDING_OWNERS;
  }

  get keys(): number {
    return this.#window.size;
  }

  get bytes(): number {
    return this.#window.bytes;
  }

  get droppedEarly(): number {
    return this.#window.droppedEarly;
  }

  get pendingOwners(): number {
    return this.#owners.size;
  }

  /** Commits first, then releases, then reservations, so a batch sees its isolate's past. */
  apply(request: ShardRequest, now: number): ShardAnswer {
    this.#window.expire(now);
    for (const keys of request.commit) this.commit(keys, now);
    for (const r of request.release) this.release(r.keys, r.token);
    const total = request.reserve.reduce((n, r) => n + r.keys.length / 2, 0);
    const verdicts = new Uint8Array(total);
    let offset = 0;
    for (const r of request.reserve) {
      verdicts.set(this.reserve(r.keys, r.token, now), offset);
      offset += r.keys.length / 2;
    }
    return { verdicts, keys: this.keys, droppedEarly: this.droppedEarly };
  }

  reserve(keys: Uint32Array, token: string, now: number): Uint8Array {
    const verdicts = new Uint8Array(keys.length / 2);
    for (let k = 0; k < verdicts.length; k++) {
      const hi = keys[2 * k] ?? 0;
      const lo = keys[2 * k + 1] ?? 0;
      verdicts[k] = this.#reserveOne(hi, lo, token, now);
    }
    return verdicts;
  }

  #reserveOne(hi: number, lo: number, token: string, now: number): Verdict {
    const { state } = this.#window.find(hi, lo);
    if (state === COMMITTED) return DUPLICATE;
    const id = ownerKey(hi, lo);
    if (state === ABSENT) {
      this.#window.set(hi, lo, PENDING, now);
      this.#own(id, token, now);
      return SEND;
    }
    const owner = this.#owners.get(id);
    // Pending with its owner forgotten (bounded memory): let it through; at worst a duplicate.
    if (owner === undefined || owner.token === token) {
      this.#own(id, token, now);
      return SEND;
    }
    return now - owner.at < this.#leaseMs ? HELD : DUPLICATE;
  }

  commit(keys: Uint32Array, now: number): void {
    for (let k = 0; k + 1 < keys.length; k += 2) {
      const hi = keys[k] ?? 0;
      const lo = keys[k + 1] ?? 0;
      this.#window.set(hi, lo, COMMITTED, now);
      this.#owners.delete(ownerKey(hi, lo));
      this.#unpersisted.push(hi, lo);
    }
  }

  /** Frees keys still reserved by `token` (or anyone, for ANY_OWNER); committed keys stay. */
  release(keys: Uint32Array, token: string): void {
    for (let k = 0; k + 1 < keys.length; k += 2) {
      const hi = keys[k] ?? 0;
      const lo = keys[k + 1] ?? 0;
      const id = ownerKey(hi, lo);
      if (token !== ANY_OWNER && this.#owners.get(id)?.token !== token) continue;
      if (this.#window.find(hi, lo).state !== PENDING) continue;
      this.#owners.delete(id);
      this.#window.delete(hi, lo);
    }
  }

  /** Restores keys read back from storage as committed at `at`. */
  restore(keys: Uint32Array, at: number): void {
    for (let k = 0; k + 1 < keys.length; k += 2) {
      this.#window.set(keys[k] ?? 0, keys[k + 1] ?? 0, COMMITTED, at);
    }
  }

  /** The keys committed since the last call, for the caller to write down. */
  takeUnpersisted(): Uint32Array {
    const out = Uint32Array.from(this.#unpersisted);
    this.#unpersisted = [];
    return out;
  }

  get hasUnpersisted(): boolean {
    return this.#unpersisted.length > 0;
  }

  #own(id: string, token: string, now: number): void {
    // Re-inserted so the Map's order stays oldest-first for eviction.
    this.#owners.delete(id);
    this.#owners.set(id, { token, at: now });
    if (this.#owners.size > this.#maxOwners) {
      const oldest = this.#owners.keys().next();
      if (oldest.done !== true) this.#owners.delete(oldest.value);
    }
  }
}
