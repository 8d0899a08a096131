// What one dedupe shard decides: for each key a consumer batch is about to deliver, whether to
// send it, drop it as a duplicate, or hold it back while another delivery of it is in flight;
// and what commits, releases and copy marks do. Pure: the clock is a parameter, storage is the
// caller's.
//
// A key is reserved (PENDING) by the first delivery that asks for it, under that delivery's
// token (the events' first queue message id, kept by their retries, requeued copies and
// replays) and attempt (unique to one delivery attempt), and COMMITTED once Firehose accepted
// its record. So:
// - the owner's own retry is sent again (its earlier attempt failed, or its answer was lost),
//   and the reservation passes to that attempt;
// - any other copy is held back while the reservation is fresh, and dropped once it is
//   committed or its lease ran out (an owner that never confirms either delivered and lost its
//   commit, or is still retrying: in both cases its own copy is the one that lands);
// - a release (the owner's attempt failed for sure, or was dead-lettered) frees the key for the
//   next copy, but only while that attempt still holds it: a release from an earlier attempt,
//   arriving late from another isolate's outbox, cannot free a later attempt's reservation.
//   A commit is a fact (the record landed), whichever attempt sends it.
// - a copy mark (the event's forward copy is queued) is a fact too: a later delivery of the key
//   is told not to queue another copy (SEND_COPIED).
// Nothing here drops the only copy of an event: a copy is dropped only while another copy is
// committed, or owned by a delivery that keeps its event (the queue, then the archive).
//
// Each source has a window of its own. When the shard holds more than maxKeys keys, the source
// holding the most loses its oldest generation first: a source that floods fresh messageIds
// shortens its own window, never that of a source within its fair share (maxKeys ÷ sources).
// Every key forgotten early is counted by source (takeEvictions).

import { DEDUPE_GENERATIONS, DEDUPE_MAX_KEYS_PER_SHARD, DEDUPE_MAX_PENDING_OWNERS } from './limits';
import {
  ABSENT,
  COMMITTED,
  FREE_COPIED,
  KeyWindow,
  PENDING,
  PENDING_COPIED,
  type KeyState,
} from './window';

export const SEND = 0;
export const DUPLICATE = 1;
export const HELD = 2;
/** Send it: its forward copy is queued already (do not queue another). */
export const SEND_COPIED = 3;
export type Verdict = typeof SEND | typeof DUPLICATE | typeof HELD | typeof SEND_COPIED;

export interface LedgerOptions {
  windowMs: number;
  leaseMs: number;
  maxKeys?: number;
  maxPendingOwners?: number;
}

interface Owner {
  token: string;
  /** The attempt that holds the reservation now. */
  attempt: string;
  /** When the owner last reserved the key, ms. */
  at: number;
}

/** Keys of one source (flat [hi, lo, …]). */
export interface SourceKeys {
  source: string;
  keys: Uint32Array;
}

/** Keys of one source reserved, or released, by one attempt of one delivery. */
export interface AttemptKeys extends SourceKeys {
  token: string;
  attempt: string;
}

/** A request from one consumer batch to one shard. */
export interface ShardRequest {
  /** Keys whose record Firehose accepted since this isolate's last call. */
  commit: SourceKeys[];
  /** Keys whose forward copy is queued (a fact, whoever holds the key). */
  copied?: SourceKeys[];
  /** Keys whose delivery attempt failed for good, by the attempt that reserved them. */
  release: AttemptKeys[];
  /** Keys about to be delivered, by the attempt delivering them. */
  reserve: AttemptKeys[];
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
 * Queues moved to the dead-letter queue itself, which no longer carry the attempt they had.
 */
export const ANY_OWNER = '*';

const isPending = (s: KeyState): boolean => s === PENDING || s === PENDING_COPIED;

export class DedupeLedger {
  readonly #windows = new Map<string, KeyWindow>();
  /** Keys restored from rows written before keys were kept by source: checked for every one. */
  #legacy: KeyWindow | undefined;
  readonly #windowMs: number;
  readonly #owners = new Map<string, Owner>();
  readonly #leaseMs: number;
  readonly #maxKeys: number;
  readonly #maxOwners: number;
  /** Keys committed since the caller last took them for storage, by source. */
  #unpersisted = new Map<string, number[]>();
  /** Keys forgotten early to stay within maxKeys, by source, since last taken. */
  #evictions = new Map<string, number>();
  #droppedEarly = 0;

  constructor(options: LedgerOptions) {
    this.#windowMs = options.windowMs;
    this.#leaseMs = options.leaseMs;
    this.#maxKeys = options.maxKeys ?? DEDUPE_MAX_KEYS_PER_SHARD;
    this.#maxOwners = options.maxPendingOwners ?? DEDUPE_MAX_PENDING_OWNERS;
  }

  get keys(): number {
    let n = this.#legacy?.size ?? 0;
    for (const w of this.#windows.values()) n += w.size;
    return n;
  }

  get bytes(): number {
    let n = this.#legacy?.bytes ?? 0;
    for (const w of this.#windows.values()) n += w.bytes;
    return n;
  }

  /** Generations dropped early, all sources. */
  get droppedEarly(): number {
    return this.#droppedEarly;
  }

  get pendingOwners(): number {
    return this.#owners.size;
  }

  /** Keys held per source (tests and operators). */
  keysOf(source: string): number {
    return this.#windows.get(source)?.size ?? 0;
  }

  /** Commits, copy marks, releases, then reservations, so a batch sees its isolate's past. */
  apply(request: ShardRequest, now: number): ShardAnswer {
    this.#expire(now);
    for (const c of request.commit) this.commit(c, now);
    for (const c of request.copied ?? []) this.markCopied(c, now);
    for (const r of request.release) this.release(r);
    const total = request.reserve.reduce((n, r) => n + r.keys.length / 2, 0);
    const verdicts = new Uint8Array(total);
    let offset = 0;
    for (const r of request.reserve) {
      verdicts.set(this.reserve(r, now), offset);
      offset += r.keys.length / 2;
    }
    this.#bound();
    return { verdicts, keys: this.keys, droppedEarly: this.droppedEarly };
  }

  reserve(r: AttemptKeys, now: number): Uint8Array {
    const window = this.#window(r.source);
    const verdicts = new Uint8Array(r.keys.length / 2);
    for (let k = 0; k < verdicts.length; k++) {
      const hi = r.keys[2 * k] ?? 0;
      const lo = r.keys[2 * k + 1] ?? 0;
      verdicts[k] = this.#reserveOne(window, hi, lo, r, now);
    }
    return verdicts;
  }

  #reserveOne(window: KeyWindow, hi: number, lo: number, r: AttemptKeys, now: number): Verdict {
    const state = window.find(hi, lo).state;
    if (state === COMMITTED) return DUPLICATE;
    const id = ownerKey(hi, lo);
    if (state === ABSENT || state === FREE_COPIED) {
      if (state === ABSENT && this.#legacy?.find(hi, lo).state === COMMITTED) return DUPLICATE;
      window.set(hi, lo, state === ABSENT ? PENDING : PENDING_COPIED, now);
      this.#own(id, r, now);
      return state === ABSENT ? SEND : SEND_COPIED;
    }
    const owner = this.#owners.get(id);
    // Pending with its owner forgotten (bounded memory): let it through; at worst a duplicate.
    if (owner === undefined || owner.token === r.token) {
      this.#own(id, r, now);
      return state === PENDING_COPIED ? SEND_COPIED : SEND;
    }
    return now - owner.at < this.#leaseMs ? HELD : DUPLICATE;
  }

  commit(c: SourceKeys, now: number): void {
    const window = this.#window(c.source);
    let stored = this.#unpersisted.get(c.source);
    if (stored === undefined) {
      stored = [];
      this.#unpersisted.set(c.source, stored);
    }
    for (let k = 0; k + 1 < c.keys.length; k += 2) {
      const hi = c.keys[k] ?? 0;
      const lo = c.keys[k + 1] ?? 0;
      window.set(hi, lo, COMMITTED, now);
      this.#owners.delete(ownerKey(hi, lo));
      stored.push(hi, lo);
    }
  }

  /** Records that the keys' forward copies are queued: a later delivery queues none. */
  markCopied(c: SourceKeys, now: number): void {
    const window = this.#window(c.source);
    for (let k = 0; k + 1 < c.keys.length; k += 2) {
      const hi = c.keys[k] ?? 0;
      const lo = c.keys[k + 1] ?? 0;
      const state = window.find(hi, lo).state;
      if (state === PENDING) window.set(hi, lo, PENDING_COPIED, now);
      else if (state === ABSENT) window.set(hi, lo, FREE_COPIED, now);
    }
  }

  /**
   * Frees keys still reserved by this attempt (or by anyone, for ANY_OWNER); committed keys,
   * and keys a later attempt or another delivery holds, stay. A freed key whose copy is queued
   * stays remembered as such.
   */
  release(r: AttemptKeys): void {
    const window = this.#window(r.source);
    for (let k = 0; k + 1 < r.keys.length; k += 2) {
      const hi = r.keys[k] ?? 0;
      const lo = r.keys[k + 1] ?? 0;
      const id = ownerKey(hi, lo);
      if (r.token !== ANY_OWNER) {
        const owner = this.#owners.get(id);
        if (owner?.token !== r.token || owner.attempt !== r.attempt) continue;
      }
      const state = window.find(hi, lo).state;
      if (!isPending(state)) continue;
      this.#owners.delete(id);
      // The key is held, so set() changes its state where it is and ignores the time.
      if (state === PENDING_COPIED) window.set(hi, lo, FREE_COPIED, 0);
      else window.delete(hi, lo);
    }
  }

  /** Restores keys read back from storage as committed at `at` (source unknown: legacy rows). */
  restore(keys: Uint32Array, at: number, source?: string): void {
    const window =
      source === undefined
        ? (this.#legacy ??= new KeyWindow(this.#windowMs, DEDUPE_GENERATIONS))
        : this.#window(source);
    for (let k = 0; k + 1 < keys.length; k += 2) {
      window.set(keys[k] ?? 0, keys[k + 1] ?? 0, COMMITTED, at);
    }
  }

  /** The keys committed since the last call, by source, for the caller to write down. */
  takeUnpersisted(): SourceKeys[] {
    const out = [...this.#unpersisted]
      .filter(([, words]) => words.length > 0)
      .map(([source, words]) => ({ source, keys: Uint32Array.from(words) }));
    this.#unpersisted = new Map();
    return out;
  }

  get hasUnpersisted(): boolean {
    for (const words of this.#unpersisted.values()) if (words.length > 0) return true;
    return false;
  }

  /** Keys forgotten early since the last call, by source (for ndc_segment_dedupe_evictions_total). */
  takeEvictions(): Array<{ source: string; keys: number }> {
    const out = [...this.#evictions].map(([source, keys]) => ({ source, keys }));
    this.#evictions = new Map();
    return out;
  }

  #window(source: string): KeyWindow {
    let window = this.#windows.get(source);
    if (window === undefined) {
      window = new KeyWindow(this.#windowMs, DEDUPE_GENERATIONS);
      this.#windows.set(source, window);
    }
    return window;
  }

  #expire(now: number): void {
    for (const [source, window] of this.#windows) {
      window.expire(now);
      if (window.size === 0 && window.oldestStart === undefined) this.#windows.delete(source);
    }
    this.#legacy?.expire(now);
    if (this.#legacy?.oldestStart === undefined) this.#legacy = undefined;
  }

  /**
   * Past maxKeys, the oldest generation of the source holding the most keys goes, until the
   * shard fits: a source within maxKeys ÷ sources keys is never the largest, so never shortened.
   */
  #bound(): void {
    let total = this.keys;
    while (total > this.#maxKeys) {
      let largest: [string | undefined, KeyWindow] | undefined;
      if (this.#legacy !== undefined) largest = [undefined, this.#legacy];
      for (const [source, window] of this.#windows) {
        if (largest === undefined || window.size > largest[1].size) largest = [source, window];
      }
      if (largest === undefined) return;
      const [source, window] = largest;
      const dropped = window.dropOldest();
      if (dropped === 0 && window.oldestStart === undefined) return;
      this.#droppedEarly += 1;
      total -= dropped;
      if (source !== undefined && dropped > 0)
        this.#evictions.set(source, (this.#evictions.get(source) ?? 0) + dropped);
    }
  }

  #own(id: string, r: AttemptKeys, now: number): void {
    // Re-inserted so the Map's order stays oldest-first for eviction.
    this.#owners.delete(id);
    this.#owners.set(id, { token: r.token, attempt: r.attempt, at: now });
    if (this.#owners.size > this.#maxOwners) {
      const oldest = this.#owners.keys().next();
      if (oldest.done !== true) this.#owners.delete(oldest.value);
    }
  }
}
