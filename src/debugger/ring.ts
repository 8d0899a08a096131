// The last DEBUGGER_RING_EVENTS captured events of one source, numbered in arrival order, and the
// reads the page and the API make of them. Pure.

import type { CapturedEvent, CaptureStatus } from './capture';
import { DEBUGGER_RING_EVENTS } from './limits';

/** A captured event as the source's object keeps it: numbered from 1 in arrival order. */
export interface RingEvent extends CapturedEvent {
  seq: number;
}

export type StatusFilter = CaptureStatus | 'all';

export class EventRing {
  readonly #capacity: number;
  #slots: RingEvent[] = [];
  /** Index in #slots of the oldest event once the ring is full. */
  #start = 0;
  #seq = 0;

  constructor(capacity = DEBUGGER_RING_EVENTS) {
    this.#capacity = capacity;
  }

  /** Adds events oldest first, numbering them; returns them as numbered. */
  push(events: readonly CapturedEvent[]): RingEvent[] {
    const added: RingEvent[] = [];
    for (const e of events) {
      const numbered = { ...e, seq: ++this.#seq };
      added.push(numbered);
      if (this.#slots.length < this.#capacity) {
        this.#slots.push(numbered);
      } else {
        this.#slots[this.#start] = numbered;
        this.#start = (this.#start + 1) % this.#capacity;
      }
    }
    return added;
  }

  get size(): number {
    return this.#slots.length;
  }

  /** The newest events first, those of `status` only, at most `limit`. */
  newest(status: StatusFilter = 'all', limit = this.#capacity): RingEvent[] {
    const out: RingEvent[] = [];
    const n = this.#slots.length;
    for (let i = n - 1; i >= 0 && out.length < limit; i--) {
      const e = this.#slots[(this.#start + i) % n];
      if (e !== undefined && (status === 'all' || e.status === status)) out.push(e);
    }
    return out;
  }

  /** Oldest first, for storage. */
  oldestFirst(): RingEvent[] {
    return this.newest().reverse();
  }

  /** Puts back what `oldestFirst` returned (numbering continues after the newest). */
  restore(events: readonly RingEvent[]): void {
    const kept = events.slice(-this.#capacity);
    this.#slots = [...kept];
    this.#start = 0;
    this.#seq = kept.reduce((max, e) => Math.max(max, e.seq), this.#seq);
  }

  /** Keeps only the events `keep` accepts, in order; returns how many it removed. */
  retain(keep: (e: RingEvent) => boolean): number {
    const all = this.oldestFirst();
    const kept = all.filter(keep);
    if (kept.length === all.length) return 0;
    this.#slots = kept;
    this.#start = 0;
    return all.length - kept.length;
  }

  /** The oldest event, or undefined when the ring is empty. */
  oldest(): RingEvent | undefined {
    return this.#slots.length === 0 ? undefined : this.#slots[this.#start % this.#slots.length];
  }

  clear(): void {
    this.#slots = [];
    this.#start = 0;
  }
}
