// The pace of one source's object: how long each isolate waits between its calls, so that all
// of them together make at most DEBUGGER_OBJECT_MAX_REQUESTS_PER_SECOND. Pure: the clock is a
// parameter. The object counts the isolates that called it lately (each names itself with a
// random id) and tells each caller to wait senders / max seconds (at least the flush interval),
// so N isolates make about max requests/s whatever N is; an isolate that stops calling drops
// out of the count after twice its interval.

import {
  DEBUGGER_FLUSH_INTERVAL_MS,
  DEBUGGER_MAX_SEND_INTERVAL_MS,
  DEBUGGER_OBJECT_MAX_REQUESTS_PER_SECOND,
} from './limits';

/** The interval to give each of `senders` isolates, in ms. */
export function paceInterval(senders: number): number {
  const ms = Math.ceil((senders * 1000) / DEBUGGER_OBJECT_MAX_REQUESTS_PER_SECOND);
  return Math.min(DEBUGGER_MAX_SEND_INTERVAL_MS, Math.max(DEBUGGER_FLUSH_INTERVAL_MS, ms));
}

// Ours: how often the senders' map is swept of those gone (a sweep reads every entry).
const SWEEP_MS = 1000;

export class SendPacer {
  /** When each sender drops out of the count unless it calls again. */
  readonly #until = new Map<string, number>();
  #sweptAt = Number.NEGATIVE_INFINITY;

  /** A call from `sender` at `now`: the interval (ms) it is to wait before its next call. */
  answer(sender: string, now: number): number {
    if (now - this.#sweptAt >= SWEEP_MS) {
      this.#sweptAt = now;
      for (const [id, until] of this.#until) if (until < now) this.#until.delete(id);
    }
    const known = this.#until.has(sender);
    const interval = paceInterval(this.#until.size + (known ? 0 : 1));
    this.#until.set(sender, now + 2 * interval + SWEEP_MS);
    return interval;
  }

  /** Isolates counted now (those that called within twice their interval). */
  get senders(): number {
    return this.#until.size;
  }
}
