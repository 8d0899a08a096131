// Renders a metrics state in the Prometheus text exposition format 0.0.4 (Prometheus,
// "Exposition formats", text format details). Pure: state in, text out.
//
// Every catalogued metric gets `# HELP` and `# TYPE`, in catalog order, even before it has
// samples, so dashboards and `promtool` see the full contract. A metric without labels and
// without samples is rendered as zero when it is a counter or histogram (nothing happened
// yet); a gauge without samples is left out, as a timestamp of 0 would claim 1970. A labelled
// metric without series is just its HELP and TYPE lines, which the format allows (the parser
// drops metric families that end up without samples).

import { METRIC_CATALOG, METRIC_NAMES } from './catalog';
import type { HistogramDef } from './catalog';
import type { HistogramSample } from './buffer';
import { splitSeriesKey } from './series';
import type { MetricsState } from './state';

// Prometheus "Exposition formats": the HTTP Content-Type of text format version 0.0.4.
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * A sample value as the format expects: Go's ParseFloat syntax, with `+Inf`, `-Inf` and `NaN`
 * for the special values. JavaScript writes integers below 1e21 without an exponent and
 * larger or tiny numbers as `1e+21` / `1e-7`, which ParseFloat reads.
 */
export function formatPrometheusNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** HELP text escapes backslash and line feed only (text format details). */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function series(name: string, labelBlock: string): string {
  return labelBlock === '' ? name : `${name}{${labelBlock}}`;
}

/** Series of one section grouped by metric name, each group sorted by key. */
function groupByMetric<V>(section: Record<string, V>): Map<string, Array<[string, V]>> {
  const groups = new Map<string, Array<[string, V]>>();
  for (const key of Object.keys(section).sort()) {
    const value = section[key];
    if (value === undefined) continue;
    const { name, labelBlock } = splitSeriesKey(key);
    let group = groups.get(name);
    if (group === undefined) {
      group = [];
      groups.set(name, group);
    }
    group.push([labelBlock, value]);
  }
  return groups;
}

function histogramLines(
  name: string,
  def: HistogramDef,
  labelBlock: string,
  sample: HistogramSample,
): string[] {
  if (sample.buckets.length !== def.buckets.length + 1) return [];
  const prefix = labelBlock === '' ? '' : `${labelBlock},`;
  const lines: string[] = [];
  let cumulative = 0;
  def.buckets.forEach((bound, i) => {
    cumulative += sample.buckets[i] ?? 0;
    const le = formatPrometheusNumber(bound);
    lines.push(`${name}_bucket{${prefix}le="${le}"} ${formatPrometheusNumber(cumulative)}`);
  });
  // The +Inf bucket equals _count (text format details, histograms).
  lines.push(`${name}_bucket{${prefix}le="+Inf"} ${formatPrometheusNumber(sample.count)}`);
  lines.push(`${series(`${name}_sum`, labelBlock)} ${formatPrometheusNumber(sample.sum)}`);
  lines.push(`${series(`${name}_count`, labelBlock)} ${formatPrometheusNumber(sample.count)}`);
  return lines;
}

/**
 * The text exposition of a state built by `applyDelta`/`mergeStates` (keys are trusted to be
 * canonical). Ends with a line feed, as the format requires of the last line.
 */
export function renderPrometheus(state: MetricsState): string {
  const counters = groupByMetric(state.counters);
  const histograms = groupByMetric(state.histograms);
  const gauges = groupByMetric(state.gauges);
  const lines: string[] = [];

  for (const name of METRIC_NAMES) {
    const def = METRIC_CATALOG[name];
    lines.push(`# HELP ${name} ${escapeHelp(def.help)}`, `# TYPE ${name} ${def.type}`);
    const unlabelled = def.labels.length === 0;
    switch (def.type) {
      case 'counter': {
        const samples = counters.get(name) ?? (unlabelled ? [['', 0] as [string, number]] : []);
        for (const [labelBlock, value] of samples) {
          lines.push(`${series(name, labelBlock)} ${formatPrometheusNumber(value)}`);
        }
        break;
      }
      case 'histogram': {
        const zero: HistogramSample = {
          buckets: new Array<number>(def.buckets.length + 1).fill(0),
          sum: 0,
          count: 0,
        };
        const samples = histograms.get(name) ?? (unlabelled ? [['', zero] as const] : []);
        for (const [labelBlock, sample] of samples) {
          lines.push(...histogramLines(name, def, labelBlock, sample));
        }
        break;
      }
      case 'gauge': {
        for (const [labelBlock, value] of gauges.get(name) ?? []) {
          lines.push(`${series(name, labelBlock)} ${formatPrometheusNumber(value)}`);
        }
        break;
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
