import { describe, expect, it } from 'vitest';
import { MetricsBuffer } from '../../src/metrics/buffer';
import type { MetricsDelta } from '../../src/metrics/buffer';
import { BATCH_EVENTS_BUCKETS } from '../../src/metrics/catalog';
import { METRICS_MAX_SERIES } from '../../src/metrics/limits';
import { applyDelta, emptyState, mergeStates } from '../../src/metrics/state';

const BATCH = 'ndc_segment_batch_events';
const BATCH_LENGTH = BATCH_EVENTS_BUCKETS.length + 1;
const RETRIED = 'ndc_segment_events_retried_total';
const ENQUEUE = 'ndc_segment_last_enqueue_timestamp_seconds';
const SUCCESS_S1 = 'delivery_success_total{stream="s1"}';

function buckets(...counts: Array<[index: number, count: number]>): number[] {
  const out = new Array<number>(BATCH_LENGTH).fill(0);
  for (const [index, count] of counts) out[index] = count;
  return out;
}

/** A state holding some of everything, built through a buffer. */
function sampleState(): MetricsDelta {
  const buffer = new MetricsBuffer();
  buffer.inc(RETRIED, {}, 2);
  buffer.inc('delivery_success_total', { stream: 's1' }, 10);
  buffer.observe(BATCH, {}, 3, 2);
  buffer.max(ENQUEUE, {}, 100);
  return applyDelta(emptyState(), buffer.drain());
}

describe('emptyState', () => {
  it('has no series and a fresh object each time', () => {
    const a = emptyState();
    expect(a).toEqual({ counters: {}, histograms: {}, gauges: {} });
    a.counters[RETRIED] = 1;
    expect(emptyState().counters).toEqual({});
  });
});

describe('applyDelta', () => {
  it('adds counters, histograms and maxes gauges into the state in place', () => {
    const state = sampleState();
    const returned = applyDelta(state, {
      counters: { [RETRIED]: 3, 'delivery_success_total{stream="s2"}': 1 },
      histograms: { [BATCH]: { buckets: buckets([0, 1], [2, 1]), sum: 6, count: 2 } },
      gauges: { [ENQUEUE]: 90 },
    });
    expect(returned).toBe(state);
    expect(state).toEqual({
      counters: { [RETRIED]: 5, [SUCCESS_S1]: 10, 'delivery_success_total{stream="s2"}': 1 },
      histograms: { [BATCH]: { buckets: buckets([0, 1], [2, 3]), sum: 12, count: 4 } },
      gauges: { [ENQUEUE]: 100 },
    });
  });

  it('raises a gauge when the delta holds a later timestamp', () => {
    const state = applyDelta(sampleState(), { gauges: { [ENQUEUE]: 250.5 } });
    expect(state.gauges[ENQUEUE]).toBe(250.5);
  });

  it('takes a delta that went through JSON, as it does over RPC', () => {
    const buffer = new MetricsBuffer();
    buffer.observe(BATCH, {}, 2500);
    const state = applyDelta(emptyState(), JSON.parse(JSON.stringify(buffer.drain())));
    expect(state.histograms[BATCH]).toEqual({ buckets: buckets([10, 1]), sum: 2500, count: 1 });
  });

  it('does not share arrays with the delta it applied', () => {
    const delta = { histograms: { [BATCH]: { buckets: buckets([0, 1]), sum: 1, count: 1 } } };
    const state = applyDelta(emptyState(), delta);
    delta.histograms[BATCH].buckets[0] = 99;
    expect(state.histograms[BATCH]?.buckets[0]).toBe(1);
  });

  const ignored: Array<[string, unknown]> = [
    ['null', null],
    ['a string', 'counters'],
    ['an array', [1, 2]],
    ['sections of the wrong type', { counters: [], histograms: 'x', gauges: 7 }],
    ['an unknown metric', { counters: { nope_total: 1 } }],
    ['a prototype key', JSON.parse('{"counters":{"__proto__":1,"constructor":1}}')],
    ['a non-canonical key', { counters: { 'delivery_success_total{stream= "s1"}': 1 } }],
    ['a counter key in the gauge section', { gauges: { [RETRIED]: 1 } }],
    ['a gauge key in the counter section', { counters: { [ENQUEUE]: 1 } }],
    ['a histogram key in the counter section', { counters: { [BATCH]: 1 } }],
    ['a negative counter increment', { counters: { [RETRIED]: -1 } }],
    ['a NaN counter increment', { counters: { [RETRIED]: NaN } }],
    ['an infinite counter increment', { counters: { [RETRIED]: Infinity } }],
    ['a string counter increment', { counters: { [RETRIED]: '1' } }],
    ['a counter increment past 2^53', { counters: { [RETRIED]: Number.MAX_SAFE_INTEGER - 1 } }],
    [
      'a histogram count past 2^53',
      {
        histograms: {
          [BATCH]: {
            buckets: buckets([0, Number.MAX_SAFE_INTEGER]),
            sum: Number.MAX_SAFE_INTEGER,
            count: Number.MAX_SAFE_INTEGER,
          },
        },
      },
    ],
    ['a NaN gauge', { gauges: { [ENQUEUE]: NaN } }],
    ['a null gauge', { gauges: { [ENQUEUE]: null } }],
    ['a histogram that is a number', { histograms: { [BATCH]: 3 } }],
    [
      'a histogram with too few buckets',
      { histograms: { [BATCH]: { buckets: [1], sum: 1, count: 1 } } },
    ],
    [
      'a histogram with too many buckets',
      { histograms: { [BATCH]: { buckets: [...buckets([0, 1]), 0], sum: 1, count: 1 } } },
    ],
    [
      'a histogram whose count is not the sum of its buckets',
      { histograms: { [BATCH]: { buckets: buckets([0, 1]), sum: 1, count: 2 } } },
    ],
    [
      'a histogram with a negative bucket',
      { histograms: { [BATCH]: { buckets: buckets([0, 2], [1, -1]), sum: 1, count: 1 } } },
    ],
    [
      'a histogram with a fractional bucket',
      { histograms: { [BATCH]: { buckets: buckets([0, 0.5]), sum: 1, count: 0.5 } } },
    ],
    [
      'a histogram with a NaN sum',
      { histograms: { [BATCH]: { buckets: buckets([0, 1]), sum: NaN, count: 1 } } },
    ],
    [
      'a histogram with a negative sum',
      { histograms: { [BATCH]: { buckets: buckets([0, 1]), sum: -1, count: 1 } } },
    ],
    [
      'an empty histogram with a sum',
      { histograms: { [BATCH]: { buckets: buckets(), sum: 5, count: 0 } } },
    ],
    ['a histogram without buckets', { histograms: { [BATCH]: { sum: 1, count: 1 } } }],
  ];
  it.each(ignored)('ignores %s and leaves the state as it was', (_, delta) => {
    const state = sampleState();
    expect(applyDelta(state, delta)).toEqual(sampleState());
  });

  it('applies the valid parts of a delta that also holds invalid ones', () => {
    const state = applyDelta(emptyState(), {
      counters: { [RETRIED]: 1, nope_total: 5, [SUCCESS_S1]: -3 },
      histograms: { [BATCH]: { buckets: [1], sum: 1, count: 1 } },
      gauges: { [ENQUEUE]: 7, [RETRIED]: 8 },
      extra: { anything: true },
    });
    expect(state).toEqual({ counters: { [RETRIED]: 1 }, histograms: {}, gauges: { [ENQUEUE]: 7 } });
  });

  it(`holds at most ${METRICS_MAX_SERIES} series and keeps updating existing ones`, () => {
    const counters: Record<string, number> = {};
    for (let i = 0; i < METRICS_MAX_SERIES + 50; i += 1) {
      counters[`delivery_success_total{stream="s${i}"}`] = 1;
    }
    const state = applyDelta(emptyState(), { counters });
    expect(Object.keys(state.counters)).toHaveLength(METRICS_MAX_SERIES);

    applyDelta(state, {
      counters: { 'delivery_success_total{stream="s0"}': 4, [RETRIED]: 1 },
      gauges: { [ENQUEUE]: 1 },
    });
    expect(state.counters['delivery_success_total{stream="s0"}']).toBe(5);
    expect(state.counters[RETRIED]).toBeUndefined();
    expect(state.gauges).toEqual({});
  });
});

describe('mergeStates', () => {
  it('merges the forwarding streak apart from the delivery streak', () => {
    const a = new MetricsBuffer();
    a.deliveryOutcome(100, false);
    a.forwardOutcome(200, false);
    const b = new MetricsBuffer();
    b.forwardOutcome(230, true);
    b.forwardOutcome(240, false);
    const merged = mergeStates([a.drain(), JSON.parse(JSON.stringify(b.drain())) as unknown]);
    expect(merged.streak).toEqual({ success: 0, failures: [100] });
    expect(merged.forwardStreak).toEqual({ success: 230, failures: [240] });
  });

  it('sums counters and histograms across shards', () => {
    const merged = mergeStates([sampleState(), sampleState(), sampleState()]);
    expect(merged.counters).toEqual({ [RETRIED]: 6, [SUCCESS_S1]: 30 });
    expect(merged.histograms[BATCH]).toEqual({ buckets: buckets([2, 6]), sum: 18, count: 6 });
  });

  it('takes the maximum of each gauge across shards', () => {
    const shards = [100, 300, 200].map((t) => ({
      counters: {},
      histograms: {},
      gauges: { [ENQUEUE]: t },
    }));
    expect(mergeStates(shards).gauges).toEqual({ [ENQUEUE]: 300 });
  });

  it('keeps series that appear in only one shard', () => {
    const a = applyDelta(emptyState(), { counters: { [SUCCESS_S1]: 1 } });
    const b = applyDelta(emptyState(), { counters: { 'delivery_success_total{stream="s2"}': 2 } });
    expect(mergeStates([a, b]).counters).toEqual({
      [SUCCESS_S1]: 1,
      'delivery_success_total{stream="s2"}': 2,
    });
  });

  it('is empty for no shards and for empty shards', () => {
    expect(mergeStates([])).toEqual(emptyState());
    expect(mergeStates([emptyState(), emptyState()])).toEqual(emptyState());
  });

  it('leaves its inputs untouched', () => {
    const a = sampleState();
    mergeStates([a, sampleState()]);
    expect(a).toEqual(sampleState());
  });

  it('skips a garbage shard and merges the rest', () => {
    expect(mergeStates([null, 'x', { counters: { [RETRIED]: -1 } }, sampleState()])).toEqual(
      sampleState(),
    );
  });

  it('keeps every series of full shards with disjoint series', () => {
    const shard = (prefix: string): MetricsDelta => {
      const counters: Record<string, number> = {};
      for (let i = 0; i < METRICS_MAX_SERIES; i += 1) {
        counters[`delivery_failure_total{stream="${prefix}${i}"}`] = 1;
      }
      return applyDelta(emptyState(), { counters });
    };
    const merged = mergeStates([shard('a'), shard('b')]);
    expect(Object.keys(merged.counters)).toHaveLength(2 * METRICS_MAX_SERIES);
  });
});
