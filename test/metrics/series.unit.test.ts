import { describe, expect, it } from 'vitest';
import { LABEL_VALUE_MAX_CHARS } from '../../src/metrics/limits';
import {
  escapeLabelValue,
  normalizeLabelValue,
  parseSeriesKey,
  seriesKey,
  splitSeriesKey,
} from '../../src/metrics/series';

describe('escapeLabelValue', () => {
  const cases: Array<[string, string]> = [
    ['plain', 'plain'],
    ['back\\slash', 'back\\\\slash'],
    ['say "hi"', 'say \\"hi\\"'],
    ['two\nlines', 'two\\nlines'],
    ['\\"\n', '\\\\\\"\\n'],
    ['tab\tand\rcr', 'tab\tand\rcr'],
    ['ünïcödé ✓', 'ünïcödé ✓'],
  ];
  it.each(cases)('escapes %j as %j', (value, escaped) => {
    expect(escapeLabelValue(value)).toBe(escaped);
  });
});

describe('normalizeLabelValue', () => {
  const long = 'a'.repeat(LABEL_VALUE_MAX_CHARS);
  const cases: Array<[string, string, string]> = [
    ['keeps a short value', 'web', 'web'],
    ['keeps a value of exactly the limit', long, long],
    ['cuts a longer value to the limit', `${long}bcd`, long],
    ['replaces a lone high surrogate', 'a\uD800b', 'a\uFFFDb'],
    ['replaces a lone low surrogate', 'a\uDC00b', 'a\uFFFDb'],
    ['keeps a surrogate pair', 'a\uD83D\uDE00b', 'a\uD83D\uDE00b'],
    [
      'does not split a surrogate pair at the limit',
      `${'a'.repeat(LABEL_VALUE_MAX_CHARS - 1)}\uD83D\uDE00`,
      'a'.repeat(LABEL_VALUE_MAX_CHARS - 1),
    ],
  ];
  it.each(cases)('%s', (_, value, normalized) => {
    expect(normalizeLabelValue(value)).toBe(normalized);
  });
});

describe('seriesKey', () => {
  it('is the bare name for a metric without labels', () => {
    expect(seriesKey('ndc_segment_events_retried_total', {})).toBe(
      'ndc_segment_events_retried_total',
    );
  });

  it('sorts labels by name whatever order they are given in', () => {
    expect(
      seriesKey('ndc_segment_firehose_calls_total', { stream: 's1', outcome: 'success' }),
    ).toBe('ndc_segment_firehose_calls_total{outcome="success",stream="s1"}');
  });

  it('escapes values and bounds their length', () => {
    const key = seriesKey('ndc_segment_events_rejected_total', {
      reason: `"a\\b"\n${'x'.repeat(500)}`,
    });
    const value = normalizeLabelValue(`"a\\b"\n${'x'.repeat(500)}`);
    expect(key).toBe(`ndc_segment_events_rejected_total{reason="${escapeLabelValue(value)}"}`);
    expect(value).toHaveLength(LABEL_VALUE_MAX_CHARS);
  });

  it('writes each value the same way past the cache of written values, and again after it', () => {
    const key = (v: string): string =>
      seriesKey('ndc_segment_events_rejected_total', { reason: v });
    const expected = (v: string): string =>
      `ndc_segment_events_rejected_total{reason="${escapeLabelValue(normalizeLabelValue(v))}"}`;
    // More distinct values than the cache holds, each with a quote to escape, twice over.
    const values = Array.from({ length: 5000 }, (_v, i) => `r"${i}\n`);
    for (let round = 0; round < 2; round++) {
      for (const v of values) expect(key(v)).toBe(expected(v));
    }
  });

  it('writes a missing label as empty and drops an uncatalogued one', () => {
    const labels = { type: 'track', extra: 'x' } as unknown as { type: string; source: string };
    expect(seriesKey('ndc_segment_events_received_total', labels)).toBe(
      'ndc_segment_events_received_total{source="",type="track"}',
    );
  });
});

describe('splitSeriesKey', () => {
  it.each([
    ['a_total', 'a_total', ''],
    ['a_total{x="1",y="2"}', 'a_total', 'x="1",y="2"'],
  ])('splits %s', (key, name, labelBlock) => {
    expect(splitSeriesKey(key)).toEqual({ name, labelBlock });
  });
});

describe('parseSeriesKey', () => {
  const valid = [
    'ndc_segment_events_retried_total',
    'ndc_segment_delivery_latency_seconds',
    'ndc_segment_last_enqueue_timestamp_seconds',
    'delivery_success_total{stream="s1"}',
    'delivery_success_total{stream=""}',
    'ndc_segment_firehose_calls_total{outcome="success",stream="s1"}',
    'ndc_segment_events_rejected_total{reason="a\\\\b\\"c\\nd,e=\\"f"}',
    seriesKey('ndc_segment_events_received_total', { type: 'x', source: 'y'.repeat(999) }),
  ];
  it.each(valid)('accepts the canonical key %s', (key) => {
    expect(parseSeriesKey(key)?.name).toBe(splitSeriesKey(key).name);
  });

  const invalid: Array<[string, string]> = [
    ['an unknown metric', 'nope_total'],
    ['an inherited property name', '__proto__'],
    ['an inherited property name with labels', 'toString{a="b"}'],
    ['labels on a metric without labels', 'ndc_segment_events_retried_total{a="b"}'],
    ['empty braces on a metric without labels', 'ndc_segment_events_retried_total{}'],
    ['a labelled metric without labels', 'delivery_success_total'],
    ['a missing label', 'ndc_segment_firehose_calls_total{stream="s1"}'],
    ['an extra label', 'delivery_success_total{stream="s1",x="y"}'],
    ['a wrong label name', 'delivery_success_total{strem="s1"}'],
    ['a duplicated label', 'delivery_success_total{stream="a",stream="a"}'],
    ['unsorted labels', 'ndc_segment_firehose_calls_total{stream="s1",outcome="success"}'],
    ['a trailing comma', 'delivery_success_total{stream="s1",}'],
    ['a space', 'delivery_success_total{stream= "s1"}'],
    ['a missing closing brace', 'delivery_success_total{stream="s1"'],
    ['text after the closing brace', 'delivery_success_total{stream="s1"}x'],
    ['an unquoted value', 'delivery_success_total{stream=s1}'],
    ['an unknown escape', 'delivery_success_total{stream="\\q"}'],
    ['a raw line feed', 'delivery_success_total{stream="a\nb"}'],
    ['an unterminated value', 'delivery_success_total{stream="s1}'],
    ['an over-long value', `delivery_success_total{stream="${'y'.repeat(999)}"}`],
    ['a lone surrogate', 'delivery_success_total{stream="\uD800"}'],
  ];
  it.each(invalid)('rejects %s', (_, key) => {
    expect(parseSeriesKey(key)).toBeUndefined();
  });
});
