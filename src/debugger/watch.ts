// Which sources are being watched, as one isolate knows it. Pure: the clock is a parameter.
//
// The shared list ({source: expiresAt}, one value for every source) lives in the registry object
// and, for DEBUGGER_WATCH_CACHE_SECONDS at a time, in each data centre's cache; an isolate looks
// it up at most once per DEBUGGER_WATCH_REFRESH_MS, in the request that finds its copy due. An
// arming made in this isolate counts here at once. Between lookups, whether a source is watched
// is one Map lookup and a comparison: no I/O.

import { SOURCE_NAME } from '../segment/write-keys';
import { DEBUGGER_WATCH_REFRESH_MS } from './limits';

/** Watched sources and when each stops being watched, ms since the epoch. */
export type WatchList = Record<string, number>;

/** A watch list from untrusted JSON: source names and finite times only. */
export function parseWatchList(value: unknown): WatchList {
  const out: WatchList = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [source, until] of Object.entries(value)) {
    if (SOURCE_NAME.test(source) && typeof until === 'number' && Number.isFinite(until)) {
      out[source] = until;
    }
  }
  return out;
}

/** The list with `source` watched until `until` at least, and what expired by `now` dropped. */
export function armWatch(list: WatchList, source: string, until: number, now: number): WatchList {
  const out: WatchList = {};
  for (const [s, u] of Object.entries(list)) if (u > now) out[s] = u;
  out[source] = Math.max(out[source] ?? 0, until);
  return out;
}

export class WatchState {
  readonly #until = new Map<string, number>();
  #lookupDueAt = 0;
  #looking = false;

  /** Whether `source` is watched at `now`. */
  isWatched(source: string, now: number): boolean {
    const until = this.#until.get(source);
    return until !== undefined && until > now;
  }

  /**
   * Whether the caller should look the shared list up now: true at most once per
   * DEBUGGER_WATCH_REFRESH_MS, and never while a lookup is under way. The caller must call
   * `looked` when its lookup ends, with the list or with undefined when it failed.
   */
  claimLookup(now: number): boolean {
    if (this.#looking || now < this.#lookupDueAt) return false;
    this.#looking = true;
    this.#lookupDueAt = now + DEBUGGER_WATCH_REFRESH_MS;
    return true;
  }

  /** The shared list as looked up; arming made here and not yet in it is kept. */
  looked(list: WatchList | undefined, now: number): void {
    this.#looking = false;
    if (list === undefined) return;
    for (const [source, until] of this.#until) {
      if (until <= now) this.#until.delete(source);
    }
    for (const [source, until] of Object.entries(list)) {
      if (until > now && until > (this.#until.get(source) ?? 0)) this.#until.set(source, until);
    }
  }

  /** An arming made in this isolate: effective here at once. */
  arm(source: string, until: number): void {
    this.#until.set(source, Math.max(until, this.#until.get(source) ?? 0));
  }

  /** Until when `source` is watched as far as this isolate knows, ms (0: not watched). */
  until(source: string): number {
    return this.#until.get(source) ?? 0;
  }

  /** Watched sources at `now` (tests, operators). */
  watched(now: number): string[] {
    return [...this.#until].filter(([, until]) => until > now).map(([source]) => source);
  }
}
