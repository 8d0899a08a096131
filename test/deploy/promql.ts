// What a PromQL expression of the shipped alerts and dashboard queries, checked against the
// metric catalog: every metric it names exists, and every label it selects or groups by is one
// of that metric's labels. A light reading of PromQL (selectors, `by`/`without` lists), enough
// for the expressions under deploy/; Grafana's `$variables` are label values, never names.

import { metricDef, type MetricDef } from '../../src/metrics/catalog.ts';

const METRIC = /\b(ndc_segment_[a-z0-9_]+|delivery_(?:success|failure)_total)\b(\s*\{[^}]*\})?/g;
const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g;
const GROUPING = /\b(?:by|without)\s*\(([^)]*)\)/g;
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

export interface MetricUse {
  /** The name as written (with a histogram's `_bucket`, `_sum` or `_count`). */
  written: string;
  /** The catalogued metric it reads. */
  metric: string;
  labels: string[];
}

/** A catalogued metric's definition, for a name as a query writes it. */
export function definition(written: string): { metric: string; def: MetricDef } | undefined {
  const direct = metricDef(written);
  if (direct !== undefined) return { metric: written, def: direct };
  const base = written.replace(HISTOGRAM_SUFFIX, '');
  const def = metricDef(base);
  return def?.type === 'histogram' ? { metric: base, def } : undefined;
}

/** The metrics an expression reads, each with the labels its selector matches on. */
export function metricUses(expr: string): MetricUse[] {
  return [...expr.matchAll(METRIC)].map((m) => ({
    written: m[1] ?? '',
    metric: m[1] ?? '',
    labels: [...(m[2] ?? '').matchAll(MATCHER)].map((l) => l[1] ?? ''),
  }));
}

/** What is wrong with an expression: unknown metrics, labels a metric does not have. */
export function queryProblems(expr: string): string[] {
  const problems: string[] = [];
  const uses = metricUses(expr);
  if (uses.length === 0) problems.push(`no ndc-segment metric in ${expr}`);
  const labelsOf = new Set<string>();
  for (const use of uses) {
    const found = definition(use.written);
    if (found === undefined) {
      problems.push(`${use.written} is not a metric of the catalog`);
      continue;
    }
    const own = new Set([...found.def.labels, ...(use.written.endsWith('_bucket') ? ['le'] : [])]);
    own.forEach((l) => labelsOf.add(l));
    for (const label of use.labels) {
      if (!own.has(label)) problems.push(`${use.written} has no label ${label}`);
    }
  }
  for (const g of expr.matchAll(GROUPING)) {
    for (const label of (g[1] ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean)) {
      if (!labelsOf.has(label)) problems.push(`no metric of ${expr} has the label ${label}`);
    }
  }
  return problems;
}
