// When an isolate's metrics leave for the Durable Object: at most one flush per interval, a
// burst of requests coalesced into one. Pure logic: the clock, the timer, the send and the
// runtime's waitUntil are injected.
//
// Every flush runs inside the request that armed it (kept alive by its waitUntil): no request
// ever awaits another request's promise, which Workers do not allow for I/O.

import type { MetricsBuffer, MetricsDelta } from './buffer';
import { mergeStates } from './state';

// Issue #4: "flush them with ctx.waitUntil at most about once a second per isolate".
export const METRICS_FLUSH_INTERVAL_MS = 1000;

export interface FlushIo {
  sleep(ms: number): Promise<void>;
  send(delta: MetricsDelta): Promise<void>;
}

export class FlushScheduler {
  readonly #buffer: MetricsBuffer;
  #armed = false;
  /** A delta whose send failed, sent again with the next flush. */
  #carry: MetricsDelta | undefined;
  flushes = 0;

  constructor(buffer: MetricsBuffer) {
    this.#buffer = buffer;
  }

  /**
   * Called at the end of every invocation. If there is something to send and no timer is
   * armed, arms one that flushes an interval later, carrying whatever every request recorded
   * meanwhile: one flush per interval at most, however many requests. The returned promise
   * goes to that invocation's ctx.waitUntil.
   */
  schedule(io: FlushIo): Promise<void> | undefined {
    if (this.#armed || (this.#buffer.isEmpty() && this.#carry === undefined)) return undefined;
    this.#armed = true;
    return (async () => {
      await io.sleep(METRICS_FLUSH_INTERVAL_MS);
      this.#armed = false;
      await this.flushNow(io);
    })();
  }

  /** Sends everything now (for /metrics, which must count its own isolate's last requests). */
  async flushNow(io: FlushIo): Promise<void> {
    const drained = this.#buffer.isEmpty() ? undefined : this.#buffer.drain();
    const carry = this.#carry;
    this.#carry = undefined;
    const delta =
      carry === undefined ? drained : drained === undefined ? carry : mergeStates([carry, drained]);
    if (delta === undefined) return;
    this.flushes += 1;
    try {
      await io.send(delta);
    } catch (e) {
      // Kept for the next flush: counters stay exact across a Durable Object hiccup.
      this.#carry = this.#carry === undefined ? delta : mergeStates([delta, this.#carry]);
      console.error('metrics flush failed', e instanceof Error ? e.message : String(e));
    }
  }
}
