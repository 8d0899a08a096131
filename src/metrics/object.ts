// The metrics Durable Object: one shard of the exact counters. Isolates send it deltas over
// RPC (`apply`); /metrics and /health read every shard (`snapshot`). State lives in SQLite, one
// row per series, so a write touches only the series a delta changed.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { MetricsDelta } from './buffer';
import { applyDelta, emptyState, mergeStates, type MetricsState } from './state';

// Ours: isolates pick a shard at random, so N shards split the flush load N ways; /metrics
// reads all N (one RPC each). 16 keeps each shard far below a Durable Object's ~1,000
// requests/s soft limit up to ~16,000 isolates flushing once a second.
export const METRICS_SHARDS = 16;

const SECTIONS = ['counters', 'histograms', 'gauges'] as const;

export class MetricsShard extends DurableObject<Env> {
  #state: MetricsState = emptyState();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(
      'CREATE TABLE IF NOT EXISTS series (section TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (section, key))',
    );
    const stored: MetricsState = emptyState();
    for (const row of sql.exec<{ section: string; key: string; value: string }>(
      'SELECT section, key, value FROM series',
    )) {
      const section = SECTIONS.find((s) => s === row.section);
      if (section === undefined) continue;
      (stored[section] as Record<string, unknown>)[row.key] = JSON.parse(row.value) as unknown;
    }
    // Re-validated through the same checks a delta gets: storage is read as untrusted.
    this.#state = mergeStates([stored]);
  }

  apply(delta: MetricsDelta): void {
    applyDelta(this.#state, delta);
    const sql = this.ctx.storage.sql;
    for (const section of SECTIONS) {
      const part = (delta as unknown as Record<string, unknown>)[section];
      if (typeof part !== 'object' || part === null) continue;
      for (const key of Object.keys(part)) {
        const value = (this.#state[section] as Record<string, unknown>)[key];
        if (value === undefined) continue;
        sql.exec(
          'INSERT OR REPLACE INTO series (section, key, value) VALUES (?, ?, ?)',
          section,
          key,
          JSON.stringify(value),
        );
      }
    }
  }

  snapshot(): MetricsState {
    return this.#state;
  }
}
