// Captured events on their way from an isolate to their source's object: sampled to
// DEBUGGER_SAMPLE_EVENTS_PER_SECOND per source, buffered, and sent at most once per
// DEBUGGER_FLUSH_INTERVAL_MS per source, a burst coalesced into one call; or less often, as the
// object answers (pace.ts: its isolates together call it at most ~100 times a second), capturing
// then only the last DEBUGGER_CAPTURE_WINDOW_MS before each call. Pure logic: the clock,
// the timer and the send are injected. A send that fails is dropped (and counted): the debugger
// is best effort, and a retry would only delay what comes next.

import type { CapturedEvent } from './capture';
import {
  DEBUGGER_CAPTURE_WINDOW_MS,
  DEBUGGER_FLUSH_INTERVAL_MS,
  DEBUGGER_SAMPLE_EVENTS_PER_SECOND,
} from './limits';

/** What one call to a source's object carries. */
export interface CaptureBatch {
  events: CapturedEvent[];
  /** Events left out by sampling since the previous batch. */
  skipped: number;
  /** The sending isolate's id (random), which the object counts to pace its senders. */
  sender?: string;
}

/** Admits at most `max` events per wall-clock second; counts what it turns away. */
export class RateSampler {
  readonly #max: number;
  #second = Number.NEGATIVE_INFINITY;
  #admitted = 0;

  constructor(max = DEBUGGER_SAMPLE_EVENTS_PER_SECOND) {
    this.#max = max;
  }

  /** How many of `n` events arriving at `now` (ms) are admitted: the first ones of each second. */
  admit(n: number, now: number): number {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#admitted = 0;
    }
    const take = Math.max(0, Math.min(n, this.#max - this.#admitted));
    this.#admitted += take;
    return take;
  }
}

export interface OutboxIo {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Sends a batch; resolves with the interval (ms) the object asks before the next, if any. */
  send(source: string, batch: CaptureBatch): Promise<number | void>;
}

interface Box {
  sampler: RateSampler;
  events: CapturedEvent[];
  skipped: number;
  lastSendAt: number;
  /** How long to wait between calls, as the object last answered (pace.ts). */
  intervalMs: number;
  armed: boolean;
}

export class CaptureOutbox {
  readonly #boxes = new Map<string, Box>();
  #sender: string | undefined;

  /**
   * This isolate's id in its calls (pace.ts counts the isolates calling an object). Made on
   * first use: the outbox is built at module load, where workerd allows no random values.
   */
  get sender(): string {
    this.#sender ??= crypto.randomUUID();
    return this.#sender;
  }
  /** Calls made to sources' objects. */
  sends = 0;
  /** Calls that failed (their events dropped). */
  failedSends = 0;

  #box(source: string): Box {
    let box = this.#boxes.get(source);
    if (box === undefined) {
      box = {
        sampler: new RateSampler(),
        events: [],
        skipped: 0,
        lastSendAt: Number.NEGATIVE_INFINITY,
        intervalMs: DEBUGGER_FLUSH_INTERVAL_MS,
        armed: false,
      };
      this.#boxes.set(source, box);
    }
    return box;
  }

  /**
   * How many of `n` events of `source` arriving at `now` to capture; the rest count skipped.
   * None before the capture window that ends at the next call.
   */
  admit(source: string, n: number, now: number): number {
    const box = this.#box(source);
    const windowFrom = box.lastSendAt + box.intervalMs - DEBUGGER_CAPTURE_WINDOW_MS;
    const take = now < windowFrom ? 0 : box.sampler.admit(n, now);
    box.skipped += n - take;
    return take;
  }

  add(source: string, events: readonly CapturedEvent[]): void {
    this.#box(source).events.push(...events);
  }

  /**
   * When `source` has something to send and no send is armed: arms one, at once if the last was
   * at least the interval ago (DEBUGGER_FLUSH_INTERVAL_MS, or the object's answer), else when
   * that much has passed. The promise goes to
   * the calling invocation's ctx.waitUntil.
   */
  schedule(source: string, io: OutboxIo): Promise<void> | undefined {
    const box = this.#boxes.get(source);
    if (box === undefined || box.armed || (box.events.length === 0 && box.skipped === 0)) {
      return undefined;
    }
    box.armed = true;
    const wait = Math.max(0, box.lastSendAt + box.intervalMs - io.now());
    return (async () => {
      if (wait > 0) await io.sleep(wait);
      box.armed = false;
      const batch: CaptureBatch = { events: box.events, skipped: box.skipped, sender: this.sender };
      box.events = [];
      box.skipped = 0;
      box.lastSendAt = io.now();
      this.sends += 1;
      try {
        const interval = await io.send(source, batch);
        if (typeof interval === 'number' && Number.isFinite(interval) && interval > 0)
          box.intervalMs = interval;
      } catch (e) {
        this.failedSends += 1;
        console.error('debugger send failed', e instanceof Error ? e.message : String(e));
      }
    })();
  }
}
