// When an isolate's metrics leave for its Durable Object shard: at most once per flush interval
// (METRICS_FLUSH_SECONDS), a burst of requests coalesced into one. Pure logic: the timer, the
// send and the runtime's waitUntil are injected.
//
// Each flush carries the isolate's id and a sequence number. A send that fails is kept and sent
// again, unchanged, before anything newer, in the same call; the shard applies a sequence number
// only once per isolate, so a flush whose answer was lost but that had landed is not counted
// twice. Every flush runs inside the invocation that armed it (kept alive by its waitUntil): no
// request ever awaits another request's promise, which Workers do not allow for I/O.

import type { MetricsBuffer, MetricsDelta } from './buffer';

// Issue #9: "An isolate flushes at most every METRICS_FLUSH_SECONDS (var, default 10)".
export const METRICS_FLUSH_DEFAULT_SECONDS = 10;
// Ours: bounds for the var; a minute of lag is the most a dashboard should see.
export const METRICS_FLUSH_MIN_SECONDS = 1;
export const METRICS_FLUSH_MAX_SECONDS = 60;

// Ours: flushes kept while the shard is unreachable (five minutes at the default interval);
// past this the oldest are dropped and counted, so a long outage cannot grow an isolate's memory.
export const METRICS_MAX_UNSENT_FLUSHES = 30;

/** One flush as the shard receives it. */
export interface FlushEntry {
  seq: number;
  delta: MetricsDelta;
}

export interface FlushBatch {
  /** Random per isolate, made at its first flush. */
  isolate: string;
  /** Unsent flushes, oldest first, sequence numbers increasing. */
  entries: FlushEntry[];
}

export interface FlushIo {
  sleep(ms: number): Promise<void>;
  send(batch: FlushBatch): Promise<void>;
}

/** METRICS_FLUSH_SECONDS as milliseconds: a number within the bounds, else the default. */
export function flushIntervalMs(value: string | undefined): number {
  const n = Number(value);
  const seconds =
    value !== undefined && value.trim() !== '' && Number.isFinite(n)
      ? Math.min(METRICS_FLUSH_MAX_SECONDS, Math.max(METRICS_FLUSH_MIN_SECONDS, n))
      : METRICS_FLUSH_DEFAULT_SECONDS;
  return seconds * 1000;
}

export class FlushScheduler {
  readonly #buffer: MetricsBuffer;
  readonly #isolate: () => string;
  #armed = false;
  #sending = false;
  #seq = 0;
  #unsent: FlushEntry[] = [];
  /** Sends made (each is one Durable Object request). */
  flushes = 0;
  /** Flushes dropped after METRICS_MAX_UNSENT_FLUSHES failed sends piled up. */
  dropped = 0;

  constructor(buffer: MetricsBuffer, isolate: () => string) {
    this.#buffer = buffer;
    this.#isolate = isolate;
  }

  /**
   * Called at the end of every invocation. If there is something to send and no timer is
   * armed, arms one that flushes `intervalMs` later, carrying whatever every request recorded
   * meanwhile: one flush per interval at most, however many requests. The returned promise
   * goes to that invocation's ctx.waitUntil.
   */
  schedule(io: FlushIo, intervalMs: number): Promise<void> | undefined {
    if (this.#armed || (this.#buffer.isEmpty() && this.#unsent.length === 0)) return undefined;
    this.#armed = true;
    return (async () => {
      await io.sleep(intervalMs);
      this.#armed = false;
      await this.flushNow(io);
    })();
  }

  /** Moves the buffer into a numbered flush and sends every unsent flush, oldest first. */
  async flushNow(io: FlushIo): Promise<void> {
    if (!this.#buffer.isEmpty()) {
      this.#seq += 1;
      this.#unsent.push({ seq: this.#seq, delta: this.#buffer.drain() });
      if (this.#unsent.length > METRICS_MAX_UNSENT_FLUSHES) {
        this.#unsent.shift();
        this.dropped += 1;
      }
    }
    // One send at a time keeps the shard's view of sequence numbers in order.
    if (this.#sending || this.#unsent.length === 0) return;
    this.#sending = true;
    const entries = [...this.#unsent];
    this.flushes += 1;
    try {
      await io.send({ isolate: this.#isolate(), entries });
      this.#unsent = this.#unsent.filter((e) => !entries.includes(e));
    } catch (e) {
      console.error('metrics flush failed', e instanceof Error ? e.message : String(e));
    } finally {
      this.#sending = false;
    }
  }
}
