// The dedupe Durable Object: one shard of the (source, messageId) keys delivered within
// DEDUPE_WINDOW_SECONDS. Consumers call `apply` once per shard per batch (src/dedupe/client.ts);
// decisions are the pure ledger's (src/dedupe/ledger.ts). Adapter: clock, storage and alarm.
//
// Storage: the keys committed since the last write go down as one row (a blob of 8 bytes a key)
// at most every DEDUPE_PERSIST_SECONDS, from an alarm; rows older than the window are deleted.
// So rows written grow with time, not with events: ~3 a shard every DEDUPE_PERSIST_SECONDS (the
// insert, the alarm, one delete) at most. Reservations in flight live in memory only: a restart
// forgets them, which can let a duplicate through but never drops an event.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { DedupeLedger, type ShardAnswer, type ShardRequest } from './ledger';
import { DEDUPE_GENERATIONS, DEDUPE_LEASE_SECONDS, DEDUPE_PERSIST_SECONDS } from './limits';
import { dedupeWindowSeconds } from './settings';

// Durable Objects limits: a row (and so a BLOB) is at most 2 MB; rows are cut well below.
const ROW_MAX_KEYS = 100_000;

export class DedupeShard extends DurableObject<Env> {
  readonly #ledger: DedupeLedger;
  readonly #windowMs: number;
  #alarmArmed = false;
  /** Time of the oldest stored row, ms; undefined when none. */
  #oldestRow: number | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#windowMs = dedupeWindowSeconds(env.DEDUPE_WINDOW_SECONDS) * 1000;
    this.#ledger = new DedupeLedger({
      windowMs: this.#windowMs,
      leaseMs: DEDUPE_LEASE_SECONDS * 1000,
    });
    const sql = ctx.storage.sql;
    sql.exec(
      'CREATE TABLE IF NOT EXISTS committed (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, keys BLOB NOT NULL)',
    );
    const since = Date.now() - this.#keepMs();
    for (const row of sql.exec<{ at: number; keys: ArrayBuffer }>(
      'SELECT at, keys FROM committed WHERE at >= ? ORDER BY id',
      since,
    )) {
      this.#ledger.restore(new Uint32Array(row.keys), row.at);
      this.#oldestRow ??= row.at;
    }
  }

  async apply(request: ShardRequest): Promise<ShardAnswer> {
    const answer = this.#ledger.apply(request, Date.now());
    if (this.#ledger.hasUnpersisted && !this.#alarmArmed) {
      this.#alarmArmed = true;
      // Each setAlarm is billed as one row written (Durable Objects pricing): one per write.
      await this.ctx.storage.setAlarm(Date.now() + DEDUPE_PERSIST_SECONDS * 1000);
    }
    return answer;
  }

  /** What the shard holds, for tests and operators. */
  stats(): { keys: number; bytes: number; pendingOwners: number; droppedEarly: number } {
    return {
      keys: this.#ledger.keys,
      bytes: this.#ledger.bytes,
      pendingOwners: this.#ledger.pendingOwners,
      droppedEarly: this.#ledger.droppedEarly,
    };
  }

  override alarm(): void {
    this.#alarmArmed = false;
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    const keys = this.#ledger.takeUnpersisted();
    for (let k = 0; k < keys.length; k += ROW_MAX_KEYS * 2) {
      const chunk = keys.slice(k, k + ROW_MAX_KEYS * 2);
      sql.exec('INSERT INTO committed (at, keys) VALUES (?, ?)', now, chunk.buffer);
      this.#oldestRow ??= now;
    }
    const cutoff = now - this.#keepMs();
    if (this.#oldestRow !== undefined && this.#oldestRow < cutoff) {
      // Rows are written in time order, so the expired ones are the first ids: found and
      // deleted by id, reading those rows and one more, not the whole table (a scan on `at`
      // reads every row, and rows read are billed: ~900 a shard per alarm at a one-hour window).
      const deleted = sql.exec(
        'DELETE FROM committed WHERE id < coalesce((SELECT id FROM committed WHERE at >= ? ORDER BY id LIMIT 1), 9223372036854775807)',
        cutoff,
      );
      const first = sql.exec<{ at: number }>('SELECT at FROM committed ORDER BY id LIMIT 1');
      this.#oldestRow = first.toArray()[0]?.at;
      this.lastCleanupRowsRead = deleted.rowsRead + first.rowsRead;
    }
  }

  /** Rows the last alarm's cleanup read (billed per row): for tests and operators. */
  lastCleanupRowsRead = 0;

  /** Rows are kept as long as a key can be remembered: the window and one generation more. */
  #keepMs(): number {
    return Math.ceil((this.#windowMs * DEDUPE_GENERATIONS) / (DEDUPE_GENERATIONS - 1));
  }
}
