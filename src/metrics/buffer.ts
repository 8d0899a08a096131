// The per-isolate metrics buffer: counts, observations and gauge maxima accumulate in memory
// and leave as one plain-JSON delta (`drain`) that the metrics Durable Object adds to its
// state. Pure: no clock, no I/O; the caller decides when to drain and where the delta goes.

import { metricDef } from './catalog';
import type {
  CounterName,
  GaugeName,
  HistogramName,
  Labels,
  MetricDef,
  MetricName,
  MetricType,
} from './catalog';
import { METRICS_MAX_SERIES } from './limits';
import { addMinute, type MinuteCounts, type StatusField } from './minutes';
import { seriesKey } from './series';
import { emptyStreak, recordOutcome, type DeliveryStreak } from './streak';
import { recordWaitingChange, type WaitingChange, type WaitingState } from './waiting';

/** One histogram series: per-bucket (not cumulative) counts, the sum and count of values. */
export interface HistogramSample {
  /**
   * `buckets[i]` counts values in (bound[i-1], bound[i]] of the metric's catalogued bounds;
   * the last entry, one past the bounds, counts values above the highest bound.
   */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * What a buffer accumulated since its last drain, keyed by canonical series key (see
 * `series.ts`). Plain JSON: survives `JSON.stringify` and structured clone (Workers RPC).
 */
export interface MetricsDelta {
  /** Increments, each finite and >= 0. */
  counters: Record<string, number>;
  histograms: Record<string, HistogramSample>;
  /** Highest value seen; merged by MAX. */
  gauges: Record<string, number>;
  /** Delivery successes and failures in time, for /health's "failing since" (streak.ts). */
  streak?: DeliveryStreak;
  /** The same for forwarding (docs/forwarding.md), for /health's forwarding check. */
  forwardStreak?: DeliveryStreak;
  /** Per-minute counts by source for the status page (minutes.ts); never in a shard's state. */
  status?: MinuteCounts;
  /** Events held back by a failure an operator or the platform must fix (waiting.ts). */
  waiting?: WaitingState;
}

export function emptyDelta(): MetricsDelta {
  return { counters: {}, histograms: {}, gauges: {} };
}

/**
 * Index of the bucket a value falls in: the first bound with value <= bound (`le` is
 * inclusive, Prometheus "Histograms and summaries"), else `bounds.length`.
 */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (value <= (bounds[mid] ?? Infinity)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * Accumulates metrics until drained. Invalid input (non-finite numbers, negative increments,
 * non-integer counts) is ignored, never thrown: metrics must not fail a request. A new series
 * beyond `METRICS_MAX_SERIES` is dropped; existing series keep counting.
 */
export class MetricsBuffer {
  #delta: MetricsDelta = emptyDelta();
  #series = 0;

  /** Adds `by` (finite, >= 0) to a counter. `by = 0` creates the series at zero. */
  inc<N extends CounterName>(name: N, labels: Labels<N>, by = 1): void {
    if (!Number.isFinite(by) || by < 0) return;
    const key = this.#key(name, 'counter', labels)?.key;
    if (key === undefined) return;
    const current = this.#delta.counters[key];
    if (current !== undefined) this.#delta.counters[key] = current + by;
    else if (this.#admit()) this.#delta.counters[key] = by;
  }

  /**
   * Records `count` observations of `value` in a histogram: one call for N events with the
   * same latency. Negative values count as 0: latencies are differences of two machines'
   * clocks, and a little skew must not lose the event from `_count`.
   */
  observe<N extends HistogramName>(name: N, labels: Labels<N>, value: number, count = 1): void {
    if (!Number.isFinite(value) || !Number.isSafeInteger(count) || count < 1) return;
    const series = this.#key(name, 'histogram', labels);
    if (series?.def.type !== 'histogram') return;
    const { key, def } = series;
    const bounds = def.buckets;
    const clamped = Math.max(0, value);
    let sample = this.#delta.histograms[key];
    if (sample === undefined) {
      if (!this.#admit()) return;
      sample = { buckets: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.#delta.histograms[key] = sample;
    }
    const index = bucketIndex(bounds, clamped);
    sample.buckets[index] = (sample.buckets[index] ?? 0) + count;
    sample.sum += clamped * count;
    sample.count += count;
  }

  /** Raises a gauge to `value` if higher than what this buffer holds (timestamps). */
  max<N extends GaugeName>(name: N, labels: Labels<N>, value: number): void {
    if (!Number.isFinite(value)) return;
    const key = this.#key(name, 'gauge', labels)?.key;
    if (key === undefined) return;
    const current = this.#delta.gauges[key];
    if (current !== undefined) this.#delta.gauges[key] = Math.max(current, value);
    else if (this.#admit()) this.#delta.gauges[key] = value;
  }

  /** Records one delivery outcome at `seconds` (Unix time) for the failure streak. */
  deliveryOutcome(seconds: number, ok: boolean): void {
    if (!Number.isFinite(seconds)) return;
    this.#delta.streak ??= emptyStreak();
    recordOutcome(this.#delta.streak, seconds, ok);
  }

  /** Records one forwarding outcome at `seconds` (Unix time) for its failure streak. */
  forwardOutcome(seconds: number, ok: boolean): void {
    if (!Number.isFinite(seconds)) return;
    this.#delta.forwardStreak ??= emptyStreak();
    recordOutcome(this.#delta.forwardStreak, seconds, ok);
  }

  /** Adds to the status page's counts of `source` at `minute` (Unix minutes). */
  minute(source: string, minute: number, counts: Partial<Record<StatusField, number>>): void {
    this.#delta.status ??= {};
    addMinute(this.#delta.status, minute, source, counts);
  }

  /** Records what happened to one message's held-back events at `seconds` (Unix time). */
  waiting(change: WaitingChange, seconds: number): void {
    if (!Number.isSafeInteger(change.events) || change.events < 0) return;
    this.#delta.waiting ??= {};
    recordWaitingChange(this.#delta.waiting, change, seconds);
  }

  isEmpty(): boolean {
    return (
      this.#series === 0 &&
      this.#delta.streak === undefined &&
      this.#delta.forwardStreak === undefined &&
      this.#delta.status === undefined &&
      this.#delta.waiting === undefined
    );
  }

  /** Hands over everything accumulated and starts again from empty. */
  drain(): MetricsDelta {
    const delta = this.#delta;
    this.#delta = emptyDelta();
    this.#series = 0;
    return delta;
  }

  /** The series key, if `name` is a catalogued metric of `type` (a cast can lie to the types). */
  #key(
    name: MetricName,
    type: MetricType,
    labels: Readonly<Record<string, string>>,
  ): { key: string; def: MetricDef } | undefined {
    const def = metricDef(name);
    return def?.type === type ? { key: seriesKey(name, labels), def } : undefined;
  }

  #admit(): boolean {
    if (this.#series >= METRICS_MAX_SERIES) return false;
    this.#series += 1;
    return true;
  }
}
