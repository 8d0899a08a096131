// What one metrics shard decides, without I/O: which flushes to apply (each isolate's sequence
// numbers once), the snapshot to write, and the Analytics Engine points due. Pure: the clock is
// a parameter; src/metrics/object.ts is the Durable Object around it.

import {
  ANALYTICS_MAX_POINTS_PER_INVOCATION,
  intervalPoints,
  type IntervalPoint,
} from './analytics';
import type { FlushBatch } from './flush';
import { ANALYTICS_INTERVAL_MS } from './limits';
import { mergeMinutes, type MinuteCounts } from './minutes';
import { applyDelta, emptyState, mergeStates, type MetricsState } from './state';

// Ours: an isolate unseen this long is forgotten (its sequence numbers with it); isolates live
// minutes to hours, and a failed flush is resent within seconds.
export const ISOLATE_FORGET_MS = 3_600_000;

interface Snapshot {
  v: 1;
  state: MetricsState;
  /** [isolate id, last sequence applied, last seen ms]. */
  isolates: Array<[string, number, number]>;
  /** Counts since the last Analytics Engine write, and when that was. */
  interval: MetricsState;
  intervalSince: number;
  /** The status page's last hour by minute and source (minutes.ts); absent before it existed. */
  status?: MinuteCounts;
}

function isBatch(value: unknown): value is FlushBatch {
  if (typeof value !== 'object' || value === null) return false;
  const { isolate, entries } = value as Record<string, unknown>;
  return typeof isolate === 'string' && Array.isArray(entries);
}

export class ShardCore {
  #state: MetricsState = emptyState();
  #interval: MetricsState = emptyState();
  #intervalSince: number;
  readonly #status: MinuteCounts = {};
  readonly #isolates = new Map<string, { seq: number; seen: number }>();

  constructor(now: number) {
    this.#intervalSince = now;
  }

  get state(): MetricsState {
    return this.#state;
  }

  /** The status page's counts this shard received (a read of the live ring: callers copy). */
  get status(): MinuteCounts {
    return this.#status;
  }

  get isolates(): number {
    return this.#isolates.size;
  }

  /** Applies each flush whose sequence number this shard has not applied for its isolate. */
  apply(batch: unknown, now: number): void {
    if (!isBatch(batch)) {
      // A bare delta from an isolate still running the code before flush ids.
      this.#add(batch);
      return;
    }
    const seen = this.#isolates.get(batch.isolate) ?? { seq: 0, seen: now };
    for (const entry of batch.entries as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { seq, delta } = entry as Record<string, unknown>;
      if (typeof seq !== 'number' || seq <= seen.seq) continue;
      this.#add(delta);
      seen.seq = seq;
    }
    seen.seen = now;
    this.#isolates.set(batch.isolate, seen);
  }

  /**
   * The points due (at most ANALYTICS_MAX_POINTS_PER_INVOCATION, once per ANALYTICS_INTERVAL_MS):
   * their counts leave the interval, the rest wait for the next call.
   */
  takePoints(now: number): IntervalPoint[] {
    if (now - this.#intervalSince < ANALYTICS_INTERVAL_MS) return [];
    const points = intervalPoints(this.#interval);
    const due = points.slice(0, ANALYTICS_MAX_POINTS_PER_INVOCATION);
    if (points.length <= ANALYTICS_MAX_POINTS_PER_INVOCATION) {
      this.#interval = emptyState();
    } else {
      for (const { series } of due) {
        for (const key of series) {
          delete this.#interval.counters[key];
          delete this.#interval.histograms[key];
        }
      }
    }
    this.#intervalSince = now;
    return due;
  }

  /** Forgets isolates unseen for ISOLATE_FORGET_MS, and returns the snapshot to write. */
  snapshot(now: number): string {
    for (const [id, { seen }] of this.#isolates) {
      if (now - seen > ISOLATE_FORGET_MS) this.#isolates.delete(id);
    }
    const snapshot: Snapshot = {
      v: 1,
      state: this.#state,
      isolates: [...this.#isolates].map(([id, s]) => [id, s.seq, s.seen]),
      interval: this.#interval,
      intervalSince: this.#intervalSince,
      status: this.#status,
    };
    return JSON.stringify(snapshot);
  }

  /** Reads back a snapshot; storage is read as untrusted, through the checks a delta gets. */
  restore(text: string): void {
    let snapshot: Partial<Snapshot>;
    try {
      snapshot = JSON.parse(text) as Partial<Snapshot>;
    } catch (e) {
      console.error('metrics snapshot unreadable', e instanceof Error ? e.message : String(e));
      return;
    }
    this.#state = mergeStates([snapshot.state]);
    this.#interval = mergeStates([snapshot.interval]);
    if (typeof snapshot.intervalSince === 'number') this.#intervalSince = snapshot.intervalSince;
    mergeMinutes(this.#status, snapshot.status);
    for (const entry of Array.isArray(snapshot.isolates) ? snapshot.isolates : []) {
      const [id, seq, seen] = entry;
      if (typeof id === 'string' && typeof seq === 'number' && typeof seen === 'number')
        this.#isolates.set(id, { seq, seen });
    }
  }

  /** Adds the counts of an earlier storage layout (one row per series). */
  merge(old: unknown): void {
    applyDelta(this.#state, old);
  }

  #add(delta: unknown): void {
    applyDelta(this.#state, delta);
    applyDelta(this.#interval, delta);
    if (typeof delta === 'object' && delta !== null && 'status' in delta)
      mergeMinutes(this.#status, delta.status);
  }
}
