// The Grafana dashboard shipped in deploy/grafana/: importable as it is (a data source variable,
// a `source` variable, every panel on that data source), with the panels the operations guide
// promises, and every query reading metrics and labels that exist in the catalog.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { queryProblems } from './promql.ts';

interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  gridPos: { h: number; w: number; x: number; y: number };
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { uid?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../deploy/grafana/dashboard.json', import.meta.url), 'utf8'),
) as Dashboard;

const allPanels = (panels: readonly Panel[]): Panel[] =>
  panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
const variable = (name: string): Variable | undefined =>
  dashboard.templating.list.find((v) => v.name === name);

describe('deploy/grafana/dashboard.json', () => {
  it('is a dashboard Grafana imports: a uid, a title, unique panel ids, panels on a 24-column grid', () => {
    expect(dashboard.uid).toBe('ndc-segment');
    expect(dashboard.title).toBe('ndc-segment');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = allPanels(dashboard.panels).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of allPanels(dashboard.panels))
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
  });

  it('asks for a Prometheus data source and reads every panel and query from it', () => {
    expect(variable('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
  });

  it('has a source variable from the sources that sent events, and panels filtered by it', () => {
    const source = variable('source');
    expect(source).toMatchObject({ type: 'query', datasource: { uid: '${datasource}' } });
    const query = typeof source?.query === 'string' ? source.query : source?.query.query;
    expect(query).toBe('label_values(ndc_segment_events_received_total, source)');
    expect(queryProblems(query ?? '')).toEqual([]);
    const filtered = panels.filter((p) =>
      (p.targets ?? []).some((t) => t.expr.includes('source=~"$source"')),
    );
    expect(filtered.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Events received per source',
        'Duplicates dropped per source',
        'Dedupe evictions per source',
      ]),
    );
  });

  it('has the panels of the issue: ingest, delivery, failures, dead letters, dedupe, backlog', () => {
    expect(panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Events received per source',
        'Events accepted and rejected',
        'Rejected by reason',
        'Events delivered per stream',
        'Delivery latency',
        'Firehose failures by reason',
        'Dead letters',
        'Duplicates dropped per source',
        'Events waiting by reason',
        'Oldest waiting event',
      ]),
    );
  });

  const queries = panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
  );

  it.each(queries)('$panel: $expr reads metrics and labels of the catalog', ({ expr }) => {
    expect(queryProblems(expr)).toEqual([]);
  });
});
