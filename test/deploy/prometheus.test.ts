// The alert rules shipped in deploy/prometheus/: each reads metrics and labels that exist, each
// has a unit test where it fires and one where it stays quiet, and each links its runbook in
// docs/alerts.md. (promtool itself checks and runs them in CI: `promtool test rules`.)

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { queryProblems } from './promql.ts';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');
const rules = read('../../deploy/prometheus/alerts.yml');
const tests = read('../../deploy/prometheus/alerts.test.yml');
const runbook = read('../../docs/alerts.md');

interface Rule {
  alert: string;
  expr: string;
  runbook: string;
}

/** The rules of alerts.yml: each `- alert:` with its (block or one-line) expr and runbook_url. */
function parseRules(text: string): Rule[] {
  return text
    .split(/\n(?= *- alert: )/)
    .slice(1)
    .map((block) => {
      const alert = /- alert: (\S+)/.exec(block)?.[1] ?? '';
      const expr =
        /expr: \|\n((?:\s{10,}.*\n)+)/.exec(block)?.[1] ?? /expr: (.+)/.exec(block)?.[1] ?? '';
      return { alert, expr: expr.trim(), runbook: /runbook_url: (\S+)/.exec(block)?.[1] ?? '' };
    });
}

/** For each alert name, whether a test expects it firing, and whether one expects it quiet. */
function cases(text: string): Map<string, { fires: boolean; quiet: boolean }> {
  const seen = new Map<string, { fires: boolean; quiet: boolean }>();
  for (const m of text.matchAll(/alertname: (\S+)\n\s+exp_alerts:( \[\])?/g)) {
    const name = m[1] ?? '';
    const c = seen.get(name) ?? { fires: false, quiet: false };
    if (m[2] === undefined) c.fires = true;
    else c.quiet = true;
    seen.set(name, c);
  }
  return seen;
}

const parsed = parseRules(rules);

describe('deploy/prometheus/alerts.yml', () => {
  it('has the six alerts of the issue and one for slow delivery', () => {
    expect(parsed.map((r) => r.alert)).toEqual([
      'NdcSegmentDeliveryFailing',
      'NdcSegmentEventsWaiting',
      'NdcSegmentDeliverySlow',
      'NdcSegmentDeadLetters',
      'NdcSegmentIngest5xx',
      'NdcSegmentAmbiguousDeliveries',
      'NdcSegmentDedupeEvictions',
    ]);
  });

  it.each(parsed)('$alert reads metrics and labels of the catalog', ({ expr }) => {
    expect(expr).not.toBe('');
    expect(queryProblems(expr)).toEqual([]);
  });

  it.each(parsed)('$alert has a firing and a quiet unit test', ({ alert }) => {
    expect(cases(tests).get(alert)).toEqual({ fires: true, quiet: true });
  });

  it.each(parsed)('$alert links a section of docs/alerts.md', ({ alert, runbook: url }) => {
    expect(url).toBe(`docs/alerts.md#${alert.toLowerCase()}`);
    expect(runbook).toMatch(new RegExp(`^## \`?${alert}\`?$`, 'm'));
  });

  it('names, in its descriptions, only metrics that exist', () => {
    const named = [...rules.matchAll(/\bndc_segment_[a-z0-9_]+/g)].map((m) => m[0]);
    for (const name of named) expect(queryProblems(name), name).toEqual([]);
  });
});

describe('queryProblems', () => {
  it('finds an unknown metric and a label its metric does not have', () => {
    expect(queryProblems('rate(ndc_segment_events_lost_total[5m])')).toEqual([
      'ndc_segment_events_lost_total is not a metric of the catalog',
    ]);
    expect(queryProblems('ndc_segment_events_delivered_total{source="web"}')).toEqual([
      'ndc_segment_events_delivered_total has no label source',
    ]);
    expect(queryProblems('sum by (source) (rate(ndc_segment_events_ambiguous_total[5m]))')).toEqual(
      [
        'no metric of sum by (source) (rate(ndc_segment_events_ambiguous_total[5m])) has the label source',
      ],
    );
  });

  it('reads a histogram through its _bucket series and le', () => {
    expect(
      queryProblems('sum by (le) (rate(ndc_segment_delivery_latency_seconds_bucket[5m]))'),
    ).toEqual([]);
  });
});
