// The metrics Durable Object: one shard of the exact counters. Isolates send it numbered
// flushes over RPC (`apply`); /metrics and /health read every shard (`snapshot`). Adapter around
// the pure ShardCore (shard.ts): storage, the alarm and the Analytics Engine binding.
//
// Cost grows with shards and time, not with isolates or series: the state lives in memory and
// is written as one snapshot (a row, or a few of JSON) at most once per persist interval, from
// an alarm; Analytics Engine points are written from that alarm at most once a minute.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { FlushBatch } from './flush';
import { flushIntervalMs } from './flush';
import { METRICS_PERSIST_MAX_MS, METRICS_SNAPSHOT_PART_CHARS } from './limits';
import type { MinuteCounts } from './minutes';
import { ShardCore } from './shard';
import type { MetricsState } from './state';

/** When the shard writes after a change: the flush interval, at most METRICS_PERSIST_MAX_MS. */
export function persistDelayMs(flushSeconds: string | undefined): number {
  return Math.min(METRICS_PERSIST_MAX_MS, flushIntervalMs(flushSeconds));
}

export class MetricsShard extends DurableObject<Env> {
  readonly #core = new ShardCore(Date.now());
  #alarmArmed = false;
  #parts = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS snapshot (part INTEGER PRIMARY KEY, value TEXT NOT NULL)');
    const parts = sql.exec<{ value: string }>('SELECT value FROM snapshot ORDER BY part').toArray();
    this.#parts = parts.length;
    if (parts.length > 0) this.#core.restore(parts.map((p) => p.value).join(''));
    this.#migrateSeriesTable();
  }

  async apply(batch: FlushBatch): Promise<void> {
    const now = Date.now();
    this.#core.apply(batch, now);
    if (this.#alarmArmed) return;
    this.#alarmArmed = true;
    // Each setAlarm is billed as one row written (Durable Objects pricing).
    await this.ctx.storage.setAlarm(now + persistDelayMs(this.env.METRICS_FLUSH_SECONDS));
  }

  snapshot(): MetricsState {
    return this.#core.state;
  }

  /** The status page's per-minute counts this shard holds (GET /admin/status merges them). */
  statusMinutes(): MinuteCounts {
    return this.#core.status;
  }

  override alarm(): void {
    this.#alarmArmed = false;
    const now = Date.now();
    for (const { point } of this.#core.takePoints(now)) {
      try {
        this.env.ANALYTICS?.writeDataPoint(point);
      } catch (e) {
        // Analytics must never fail the metrics; the counts stay in Prometheus.
        console.error('analytics write failed', e instanceof Error ? e.message : String(e));
      }
    }
    this.#persist(this.#core.snapshot(now));
  }

  /** One row per part, written with UPDATE where the part exists (one row written each). */
  #persist(text: string): void {
    const sql = this.ctx.storage.sql;
    const parts = Math.max(1, Math.ceil(text.length / METRICS_SNAPSHOT_PART_CHARS));
    for (let part = 0; part < parts; part++) {
      const value = text.slice(
        part * METRICS_SNAPSHOT_PART_CHARS,
        (part + 1) * METRICS_SNAPSHOT_PART_CHARS,
      );
      if (part < this.#parts) sql.exec('UPDATE snapshot SET value = ? WHERE part = ?', value, part);
      else sql.exec('INSERT INTO snapshot (part, value) VALUES (?, ?)', part, value);
    }
    if (parts < this.#parts) sql.exec('DELETE FROM snapshot WHERE part >= ?', parts);
    this.#parts = parts;
  }

  /** Folds the one-row-per-series table of earlier versions into the state, once. */
  #migrateSeriesTable(): void {
    const sql = this.ctx.storage.sql;
    const tables = sql.exec<{ n: number }>(
      "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'series'",
    );
    if (tables.one().n === 0) return;
    const old: Record<string, Record<string, unknown>> = {
      counters: {},
      histograms: {},
      gauges: {},
    };
    for (const row of sql.exec<{ section: string; key: string; value: string }>(
      'SELECT section, key, value FROM series',
    )) {
      const section = old[row.section];
      if (section === undefined) continue;
      try {
        section[row.key] = JSON.parse(row.value) as unknown;
      } catch {
        // A damaged row is dropped with the table.
      }
    }
    this.#core.merge(old);
    sql.exec('DROP TABLE series');
    this.#persist(this.#core.snapshot(Date.now()));
  }
}
