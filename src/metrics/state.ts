// Metrics state: what one Durable Object shard holds, the running sum of the deltas flushed to
// it, and the merge of several shards for `/metrics`. Pure.
//
// A state has the shape of a delta (a state is the delta of everything since the shard began),
// so the same checked accumulation applies a delta and merges shards. Deltas arrive over RPC
// and states from storage, so both are read as `unknown`: every part that is not a valid
// series of a catalogued metric with well-formed numbers is skipped, never thrown on.

import { emptyDelta } from './buffer';
import type { HistogramSample, MetricsDelta } from './buffer';
import type { HistogramDef } from './catalog';
import { METRICS_MAX_SERIES } from './limits';
import { parseSeriesKey } from './series';
import { emptyStreak, mergeStreak } from './streak';
import { mergeWaiting } from './waiting';

/** Same shape and keys as `MetricsDelta`; counters and histograms are totals, gauges maxima. */
export type MetricsState = MetricsDelta;

export function emptyState(): MetricsState {
  return emptyDelta();
}

/**
 * Adds a delta to `state` IN PLACE and returns that same state, so both
 * `applyDelta(state, delta)` and `state = applyDelta(state, delta)` work. Counters and
 * histograms add, gauges keep the maximum. Invalid parts of `delta` are ignored, as are new
 * series once `state` holds `METRICS_MAX_SERIES` (existing series keep counting).
 */
export function applyDelta(state: MetricsState, delta: unknown): MetricsState {
  accumulate(state, delta, METRICS_MAX_SERIES);
  return state;
}

/**
 * Sums shards into a new state (inputs untouched): counters and histograms add, gauges take
 * the maximum (they are timestamps). Invalid parts are ignored as in `applyDelta`. The cap
 * grows with the number of shards, so merging valid shards never drops a series.
 */
export function mergeStates(states: readonly unknown[]): MetricsState {
  const merged = emptyState();
  const maxSeries = METRICS_MAX_SERIES * Math.max(1, states.length);
  for (const state of states) accumulate(merged, state, maxSeries);
  return merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

// Totals stay at or below 2^53 - 1, where every integer is exact; an increment that would pass
// it (only a hostile delta could) is ignored rather than freezing the series at a huge value.
function withinExact(total: number): boolean {
  return total <= Number.MAX_SAFE_INTEGER;
}

/** A histogram sample that fits `def`: one count per bucket plus overflow, counts adding up. */
function validSample(value: unknown, def: HistogramDef): HistogramSample | undefined {
  if (!isRecord(value)) return undefined;
  const { buckets, sum, count } = value;
  if (!Array.isArray(buckets) || buckets.length !== def.buckets.length + 1) return undefined;
  if (!buckets.every(isCount) || !isCount(count) || !isAmount(sum)) return undefined;
  const total = buckets.reduce((a: number, b: number) => a + b, 0);
  if (total !== count || (count === 0 && sum !== 0)) return undefined;
  return { buckets, sum, count };
}

function seriesCount(state: MetricsState): number {
  return (
    Object.keys(state.counters).length +
    Object.keys(state.histograms).length +
    Object.keys(state.gauges).length
  );
}

/** The sections that are not series: the failure streaks and the events held back. */
function accumulateSections(target: MetricsState, source: Record<string, unknown>): void {
  if (source.streak !== undefined) {
    target.streak = mergeStreak(target.streak ?? emptyStreak(), source.streak);
  }
  if (source.forwardStreak !== undefined) {
    target.forwardStreak = mergeStreak(target.forwardStreak ?? emptyStreak(), source.forwardStreak);
  }
  if (source.waiting !== undefined)
    target.waiting = mergeWaiting(target.waiting ?? {}, source.waiting);
}

function accumulate(target: MetricsState, source: unknown, maxSeries: number): void {
  if (!isRecord(source)) return;
  accumulateSections(target, source);
  let series = seriesCount(target);
  const admit = (): boolean => {
    if (series >= maxSeries) return false;
    series += 1;
    return true;
  };

  // Keys are checked by parseSeriesKey before use, so they are catalogued names and never
  // `__proto__` or another inherited property.
  if (isRecord(source.counters)) {
    for (const [key, value] of Object.entries(source.counters)) {
      if (!isAmount(value) || parseSeriesKey(key)?.def.type !== 'counter') continue;
      const current = target.counters[key];
      if (!withinExact((current ?? 0) + value)) continue;
      if (current === undefined) {
        if (admit()) target.counters[key] = value;
      } else {
        target.counters[key] = current + value;
      }
    }
  }

  if (isRecord(source.histograms)) {
    for (const [key, value] of Object.entries(source.histograms)) {
      const def = parseSeriesKey(key)?.def;
      if (def?.type !== 'histogram') continue;
      const sample = validSample(value, def);
      if (sample === undefined) continue;
      const current = target.histograms[key];
      if (current === undefined) {
        // Copied, so the state never shares arrays with a delta or another shard's state.
        if (admit()) target.histograms[key] = { ...sample, buckets: [...sample.buckets] };
      } else if (
        withinExact(current.count + sample.count) &&
        Number.isFinite(current.sum + sample.sum)
      ) {
        current.buckets = current.buckets.map((n, i) => n + (sample.buckets[i] ?? 0));
        current.sum += sample.sum;
        current.count += sample.count;
      }
    }
  }

  if (isRecord(source.gauges)) {
    for (const [key, value] of Object.entries(source.gauges)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      if (parseSeriesKey(key)?.def.type !== 'gauge') continue;
      const current = target.gauges[key];
      if (current === undefined) {
        if (admit()) target.gauges[key] = value;
      } else {
        target.gauges[key] = Math.max(current, value);
      }
    }
  }
}
