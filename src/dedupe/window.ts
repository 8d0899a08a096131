// The keys a dedupe shard remembers: 64-bit keys in open-addressing tables of typed arrays, kept
// as generations so a whole slice of the window ages out at once. Pure: time is a parameter.
//
// A Map of strings costs ~100 bytes a key; these tables cost 9 bytes a slot (two Uint32 words
// and a state byte) at a load of at most 0.8, so 11–15 bytes a key: what lets one Durable Object
// hold an hour of 10,000 events/s split over a dozen shards (src/dedupe/limits.ts).

/**
 * A key's state in a table: absent, reserved by a delivery in flight, or delivered; and, for
 * forwarding (src/queue/forward-copies.ts), whether the event's forward copy is already queued:
 * reserved with its copy queued, or free again (its delivery failed) with its copy queued.
 */
export const ABSENT = 0;
export const PENDING = 1;
export const COMMITTED = 2;
export const FREE_COPIED = 3;
export const PENDING_COPIED = 4;
export type KeyState =
  typeof ABSENT | typeof PENDING | typeof COMMITTED | typeof FREE_COPIED | typeof PENDING_COPIED;
export type HeldState = Exclude<KeyState, typeof ABSENT>;

// Ours: a growing table is rebuilt 1.5× larger past this load; linear probing stays short
// (Knuth: ~1/(1−α)² probes for a miss, 25 at 0.8).
const MAX_LOAD = 0.8;
const SEALED_LOAD = 0.75;
const MIN_CAPACITY = 64;

const SLOT_BYTES = 9;

/** An open-addressing hash table of 64-bit keys (hi, lo) with a state each; linear probing. */
export class KeyTable {
  #hi: Uint32Array;
  #lo: Uint32Array;
  #state: Uint8Array;
  #size = 0;

  constructor(capacity = MIN_CAPACITY) {
    const cap = Math.max(MIN_CAPACITY, Math.ceil(capacity));
    this.#hi = new Uint32Array(cap);
    this.#lo = new Uint32Array(cap);
    this.#state = new Uint8Array(cap);
  }

  get size(): number {
    return this.#size;
  }

  get capacity(): number {
    return this.#state.length;
  }

  get bytes(): number {
    return this.#state.length * SLOT_BYTES;
  }

  /** Home slot: the low word is already a uniform hash, scaled into [0, capacity). */
  #home(lo: number): number {
    return Math.floor(((lo >>> 0) / 4294967296) * this.#state.length);
  }

  /** The slot holding the key, or −1 − (the empty slot where it would go). */
  #find(hi: number, lo: number): number {
    const cap = this.#state.length;
    let i = this.#home(lo);
    for (;;) {
      if (this.#state[i] === ABSENT) return -1 - i;
      if (this.#lo[i] === lo && this.#hi[i] === hi) return i;
      i = i + 1 === cap ? 0 : i + 1;
    }
  }

  get(hi: number, lo: number): KeyState {
    const i = this.#find(hi >>> 0, lo >>> 0);
    return i < 0 ? ABSENT : ((this.#state[i] ?? ABSENT) as KeyState);
  }

  /** Inserts the key or changes its state. */
  set(hi: number, lo: number, state: HeldState): void {
    const h = hi >>> 0;
    const l = lo >>> 0;
    let i = this.#find(h, l);
    if (i >= 0) {
      this.#state[i] = state;
      return;
    }
    if ((this.#size + 1) / this.#state.length > MAX_LOAD) {
      this.#resize(Math.ceil(this.#state.length * 1.5));
      i = this.#find(h, l);
    }
    const slot = -1 - i;
    this.#hi[slot] = h;
    this.#lo[slot] = l;
    this.#state[slot] = state;
    this.#size += 1;
  }

  /** Removes the key; later keys of its probe run shift back (no tombstones). */
  delete(hi: number, lo: number): boolean {
    let i = this.#find(hi >>> 0, lo >>> 0);
    if (i < 0) return false;
    const cap = this.#state.length;
    this.#state[i] = ABSENT;
    this.#size -= 1;
    // Knuth, TAOCP vol. 3, 6.4 Algorithm R: move back every later key of the run whose home
    // slot does not lie cyclically in (i, j].
    let j = i;
    for (;;) {
      j = j + 1 === cap ? 0 : j + 1;
      if (this.#state[j] === ABSENT) return true;
      const home = this.#home(this.#lo[j] ?? 0);
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      this.#hi[i] = this.#hi[j] ?? 0;
      this.#lo[i] = this.#lo[j] ?? 0;
      this.#state[i] = this.#state[j] ?? ABSENT;
      this.#state[j] = ABSENT;
      i = j;
    }
  }

  /** Rebuilt at the smallest capacity that keeps the load at SEALED_LOAD: for a table that is done growing. */
  compact(): void {
    this.#resize(Math.ceil(this.#size / SEALED_LOAD));
  }

  forEach(visit: (hi: number, lo: number, state: KeyState) => void): void {
    for (let i = 0; i < this.#state.length; i++) {
      const s = this.#state[i] ?? ABSENT;
      if (s !== ABSENT) visit(this.#hi[i] ?? 0, this.#lo[i] ?? 0, s as KeyState);
    }
  }

  #resize(capacity: number): void {
    const hi = this.#hi;
    const lo = this.#lo;
    const state = this.#state;
    const cap = Math.max(MIN_CAPACITY, capacity, Math.ceil(this.#size / MAX_LOAD) + 1);
    this.#hi = new Uint32Array(cap);
    this.#lo = new Uint32Array(cap);
    this.#state = new Uint8Array(cap);
    this.#size = 0;
    for (let i = 0; i < state.length; i++) {
      const s = state[i] ?? ABSENT;
      if (s === ABSENT) continue;
      const slot = -1 - this.#find(hi[i] ?? 0, lo[i] ?? 0);
      this.#hi[slot] = hi[i] ?? 0;
      this.#lo[slot] = lo[i] ?? 0;
      this.#state[slot] = s;
      this.#size += 1;
    }
  }
}

interface Generation {
  /** Time the generation opened, ms since the epoch. */
  start: number;
  table: KeyTable;
}

/**
 * Keys remembered for a window, in generations of window ÷ (n − 1): a key stays findable for at
 * least the window and at most n ÷ (n − 1) of it. When the keys outgrow `maxKeys`, the oldest
 * generation is dropped early (the window shortens) rather than memory growing; the dedupe
 * ledger keeps one window per source with no bound of its own and drops generations itself,
 * from the largest source first (src/dedupe/ledger.ts).
 */
export class KeyWindow {
  readonly #windowMs: number;
  readonly #generationMs: number;
  readonly #maxKeys: number;
  #generations: Generation[] = [];
  /** Generations dropped before their time to stay within maxKeys. */
  droppedEarly = 0;

  constructor(windowMs: number, generations: number, maxKeys = Infinity) {
    this.#windowMs = windowMs;
    this.#generationMs = Math.max(1, Math.ceil(windowMs / Math.max(1, generations - 1)));
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#generations.reduce((n, g) => n + g.table.size, 0);
  }

  get bytes(): number {
    return this.#generations.reduce((n, g) => n + g.table.bytes, 0);
  }

  /** The oldest generation's start: keys at or after it may be remembered. */
  get oldestStart(): number | undefined {
    return this.#generations[0]?.start;
  }

  /** Drops generations that ended more than a window ago. */
  expire(now: number): void {
    while (this.#generations.length > 0) {
      const oldest = this.#generations[0];
      if (oldest === undefined || oldest.start + this.#generationMs > now - this.#windowMs) break;
      this.#generations.shift();
    }
  }

  /** The key's state and the table that holds it, newest generation first. */
  find(hi: number, lo: number): { state: KeyState; table: KeyTable | undefined } {
    for (let g = this.#generations.length - 1; g >= 0; g--) {
      const table = this.#generations[g]?.table;
      const state = table?.get(hi, lo) ?? ABSENT;
      if (state !== ABSENT) return { state, table };
    }
    return { state: ABSENT, table: undefined };
  }

  /**
   * Forgets the oldest generation before its time, even the only one; returns the keys it held
   * (0 when there was none).
   */
  dropOldest(): number {
    const oldest = this.#generations.shift();
    if (oldest === undefined) return 0;
    this.droppedEarly += 1;
    return oldest.table.size;
  }

  /** Adds a key at time `at` (or changes its state where it is already held). */
  set(hi: number, lo: number, state: HeldState, at: number): void {
    const held = this.find(hi, lo).table;
    if (held !== undefined) {
      held.set(hi, lo, state);
      return;
    }
    this.#generationFor(at).set(hi, lo, state);
    if (this.#maxKeys !== Infinity && this.size > this.#maxKeys && this.#generations.length > 1) {
      this.#generations.shift();
      this.droppedEarly += 1;
    }
  }

  delete(hi: number, lo: number): boolean {
    return this.find(hi, lo).table?.delete(hi, lo) ?? false;
  }

  /** The table keys received at `at` belong in: the newest, or a new one once it has aged. */
  #generationFor(at: number): KeyTable {
    const newest = this.#generations[this.#generations.length - 1];
    if (newest !== undefined && at < newest.start + this.#generationMs) {
      // A key older than the newest generation (restored from storage out of order) joins the
      // generation that covers its time, or the oldest one.
      for (let g = this.#generations.length - 1; g >= 0; g--) {
        const gen = this.#generations[g];
        if (gen !== undefined && at >= gen.start) return gen.table;
      }
      return this.#generations[0]?.table ?? newest.table;
    }
    newest?.table.compact();
    const start = newest === undefined ? at : at - ((at - newest.start) % this.#generationMs);
    const table = new KeyTable(newest === undefined ? undefined : newest.table.size);
    this.#generations.push({ start, table });
    return table;
  }
}
