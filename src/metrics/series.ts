// Series keys: the canonical string naming one series of a catalogued metric, used as the key
// of counters, histograms and gauges in deltas and states. Pure.
//
// A key is the series as the Prometheus text format writes it, so exposition can copy it:
// `name` for a metric without labels, else `name{a="x",b="y"}` with every catalogued label,
// names sorted, values bounded and escaped. Canonical means one series has exactly one key,
// which lets a state validate a key from a delta by re-encoding it.

import { metricDef } from './catalog';
import type { MetricDef, MetricName } from './catalog';
import { LABEL_VALUE_MAX_CHARS } from './limits';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The value a label is stored with: lone surrogates replaced by U+FFFD (the exposition is
 * UTF-8, and Prometheus rejects a label value that is not valid UTF-8), then cut to
 * `LABEL_VALUE_MAX_CHARS` without splitting a surrogate pair.
 */
export function normalizeLabelValue(value: string): string {
  const wellFormed = value.replace(LONE_SURROGATE, '\uFFFD');
  if (wellFormed.length <= LABEL_VALUE_MAX_CHARS) return wellFormed;
  const cut = wellFormed.slice(0, LABEL_VALUE_MAX_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * Escapes a label value for the text format: "label_value can be any sequence of UTF-8
 * characters, but the backslash (\), double-quote ("), and line feed (\n) characters have to
 * be escaped as \\, \", and \n" (Prometheus, "Exposition formats", text format details).
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

// Ours: label values repeat (routes, statuses, sources, event types), so their written form is
// kept rather than re-made with two regex passes on every update; cleared when it reaches this
// many, so a stream of distinct values cannot grow it (bench profile, docs/benchmarks.md).
const LABEL_TEXT_CACHE_MAX = 4096;
const labelTextCache = new Map<string, string>();

/** A label value as written between quotes: normalized, then escaped. */
function labelText(value: string): string {
  let text = labelTextCache.get(value);
  if (text === undefined) {
    text = escapeLabelValue(normalizeLabelValue(value));
    if (labelTextCache.size >= LABEL_TEXT_CACHE_MAX) labelTextCache.clear();
    labelTextCache.set(value, text);
  }
  return text;
}

const sortedLabelsCache = new Map<string, readonly string[]>();

function sortedLabels(name: string, def: MetricDef): readonly string[] {
  let sorted = sortedLabelsCache.get(name);
  if (sorted === undefined) {
    sorted = [...def.labels].sort();
    sortedLabelsCache.set(name, sorted);
  }
  return sorted;
}

/**
 * The canonical key of a series. Every catalogued label is written (a missing one as ""),
 * in sorted order; labels the catalog does not list are dropped.
 */
export function seriesKey(name: MetricName, labels: Readonly<Record<string, string>>): string {
  const def = metricDef(name);
  if (def === undefined || def.labels.length === 0) return name;
  let key = `${name}{`;
  let first = true;
  for (const label of sortedLabels(name, def)) {
    key += `${first ? '' : ','}${label}="${labelText(labels[label] ?? '')}"`;
    first = false;
  }
  return `${key}}`;
}

export interface SeriesParts {
  name: string;
  /** What sits between the braces, '' for a series without labels. */
  labelBlock: string;
}

/** Splits a key into metric name and label block, without validating either. */
export function splitSeriesKey(key: string): SeriesParts {
  const brace = key.indexOf('{');
  if (brace === -1) return { name: key, labelBlock: '' };
  return { name: key.slice(0, brace), labelBlock: key.slice(brace + 1, -1) };
}

export interface ParsedSeries {
  name: MetricName;
  def: MetricDef;
  /** Label values by label name (no prototype: a label named `__proto__` is just a key). */
  labels: Readonly<Record<string, string>>;
}

// One `label="value"` pair of a label block; a value is any run of non-quote, non-backslash
// characters and backslash escapes (the two alternatives are disjoint, so matching is linear).
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\s\S])*)"(?:,|$)/y;

function unescapeLabelValue(escaped: string): string {
  return escaped.replace(/\\([\s\S])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * The metric a key names, or undefined unless the key is the canonical key of a series of a
 * catalogued metric: known name, exactly the catalogued labels, bounded well-formed values.
 * Anything else (foreign names, extra or missing labels, unsorted labels, non-canonical
 * escapes, over-long values) fails the re-encoding comparison.
 */
export function parseSeriesKey(key: string): ParsedSeries | undefined {
  const { name, labelBlock } = splitSeriesKey(key);
  const def = metricDef(name);
  if (def === undefined) return undefined;
  // No prototype, so a hostile label named `__proto__` is just a key.
  const labels = Object.create(null) as Record<string, string>;
  const parsed = { name: name as MetricName, def, labels };
  if (def.labels.length === 0) return key === name ? parsed : undefined;
  if (!key.endsWith('}')) return undefined;

  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < labelBlock.length) {
    const match = LABEL_PAIR.exec(labelBlock);
    if (match === null) return undefined;
    const [, label = '', value = ''] = match;
    if (Object.hasOwn(labels, label)) return undefined;
    labels[label] = unescapeLabelValue(value);
  }
  return seriesKey(parsed.name, labels) === key ? parsed : undefined;
}
