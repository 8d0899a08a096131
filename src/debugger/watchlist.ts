// The debugger's registry: one Durable Object holding the watch list ({source: expiresAt}) for
// every source. Armings are written here (a page opening or renewing its lease, an API read);
// isolates read it through their data centre's cache, at most one lookup per isolate per
// DEBUGGER_WATCH_REFRESH_MS and, where the Cache API works, one read per data centre per
// DEBUGGER_WATCH_CACHE_SECONDS. Strongly consistent, unlike KV (whose writes take ~60 s to reach
// every location), so an arming reaches every data centre within those two intervals.
// Adapter: the list in memory, one row per source in SQLite.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { armWatch, type WatchList } from './watch';

export class DebuggerWatchlist extends DurableObject<Env> {
  #list: WatchList = {};

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS watch (source TEXT PRIMARY KEY, until INTEGER NOT NULL)');
    const now = Date.now();
    for (const row of sql.exec<{ source: string; until: number }>(
      'SELECT source, until FROM watch WHERE until > ?',
      now,
    )) {
      this.#list[row.source] = row.until;
    }
  }

  /** Watches `source` until `until` (ms) at least; returns the whole list. */
  arm(source: string, until: number): WatchList {
    const now = Date.now();
    const before = this.#list[source] ?? 0;
    const expired = Object.values(this.#list).some((u) => u <= now);
    this.#list = armWatch(this.#list, source, until, now);
    const sql = this.ctx.storage.sql;
    if (until > before) {
      sql.exec(
        'INSERT INTO watch (source, until) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET until = excluded.until',
        source,
        until,
      );
    }
    if (expired) sql.exec('DELETE FROM watch WHERE until <= ?', now);
    return { ...this.#list };
  }

  /** The sources watched now and until when. */
  list(): WatchList {
    const now = Date.now();
    const out: WatchList = {};
    for (const [source, until] of Object.entries(this.#list)) if (until > now) out[source] = until;
    return out;
  }
}
