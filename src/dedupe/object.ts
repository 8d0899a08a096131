// The dedupe Durable Object: one shard of the (source, messageId) keys delivered within
// DEDUPE_WINDOW_SECONDS. Consumers call `apply` once per shard per batch (src/dedupe/client.ts);
// decisions are the pure ledger's (src/dedupe/ledger.ts). Adapter: clock, storage and alarm.
//
// Storage: the keys committed since the last write go down as one row (a blob of 8 bytes a key,
// every source's keys one after the other, and `sources` saying whose they are) at most every
// DEDUPE_PERSIST_SECONDS, from an alarm; rows older than the window are deleted. So rows written
// grow with time, not with events or sources: ~3 a shard every DEDUPE_PERSIST_SECONDS (the
// insert, the alarm, one delete) at most. Reservations in flight live in memory only: a restart
// forgets them, which can let a duplicate through but never drops an event. Keys forgotten
// early to stay within DEDUPE_MAX_KEYS_PER_SHARD are counted by source in the metrics
// (ndc_segment_dedupe_evictions_total), from this object's own isolate.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { isolateBuffer, scheduleFlush } from '../metrics/isolate';
import { recordDedupeEvictions } from '../metrics/record';
import { DedupeLedger, type ShardAnswer, type ShardRequest, type SourceKeys } from './ledger';
import { DEDUPE_GENERATIONS, DEDUPE_LEASE_SECONDS, DEDUPE_PERSIST_SECONDS } from './limits';
import { dedupeWindowSeconds } from './settings';

// Durable Objects limits: a row (and so a BLOB) is at most 2 MB; rows are cut well below.
const ROW_MAX_KEYS = 100_000;

/** `sources` of a row: [source, keys] in the order of the blob. */
type RowSources = Array<[string, number]>;

function parseSources(text: string | null): RowSources | undefined {
  if (text === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      Array.isArray(parsed) &&
      parsed.every(
        (p) =>
          Array.isArray(p) && typeof p[0] === 'string' && Number.isSafeInteger(p[1]) && p[1] >= 0,
      )
    )
      return parsed as RowSources;
  } catch {
    // An unreadable column: the row's keys are kept without their sources.
  }
  return undefined;
}

/** Rows of at most ROW_MAX_KEYS keys: each a blob and the sources of its keys, in order. */
function rowsOf(groups: readonly SourceKeys[]): Array<{ keys: Uint32Array; sources: RowSources }> {
  const rows: Array<{ keys: Uint32Array; sources: RowSources }> = [];
  let words: Uint32Array[] = [];
  let sources: RowSources = [];
  let size = 0;
  const flush = (): void => {
    if (size === 0) return;
    const keys = new Uint32Array(size * 2);
    let at = 0;
    for (const w of words) {
      keys.set(w, at);
      at += w.length;
    }
    rows.push({ keys, sources });
    words = [];
    sources = [];
    size = 0;
  };
  for (const g of groups) {
    for (let k = 0; k < g.keys.length;) {
      const take = Math.min(g.keys.length - k, (ROW_MAX_KEYS - size) * 2);
      words.push(g.keys.subarray(k, k + take));
      sources.push([g.source, take / 2]);
      size += take / 2;
      k += take;
      if (size >= ROW_MAX_KEYS) flush();
    }
  }
  flush();
  return rows;
}

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
    // Rows written before keys were kept by source have no `sources`: restored as legacy keys.
    const columns = sql.exec<{ name: string }>('PRAGMA table_info(committed)').toArray();
    if (!columns.some((c) => c.name === 'sources'))
      sql.exec('ALTER TABLE committed ADD COLUMN sources TEXT');
    const since = Date.now() - this.#keepMs();
    for (const row of sql.exec<{ at: number; keys: ArrayBuffer; sources: string | null }>(
      'SELECT at, keys, sources FROM committed WHERE at >= ? ORDER BY id',
      since,
    )) {
      this.#restore(new Uint32Array(row.keys), row.at, parseSources(row.sources));
      this.#oldestRow ??= row.at;
    }
  }

  #restore(keys: Uint32Array, at: number, sources: RowSources | undefined): void {
    if (sources === undefined) {
      this.#ledger.restore(keys, at);
      return;
    }
    let offset = 0;
    for (const [source, n] of sources) {
      this.#ledger.restore(keys.subarray(offset, offset + n * 2), at, source);
      offset += n * 2;
    }
  }

  async apply(request: ShardRequest): Promise<ShardAnswer> {
    const answer = this.#ledger.apply(request, Date.now());
    const evictions = this.#ledger.takeEvictions();
    if (evictions.length > 0) {
      recordDedupeEvictions(isolateBuffer, evictions, Date.now());
      scheduleFlush(this.env, this.ctx);
    }
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
    for (const row of rowsOf(this.#ledger.takeUnpersisted())) {
      sql.exec(
        'INSERT INTO committed (at, keys, sources) VALUES (?, ?, ?)',
        now,
        row.keys.buffer,
        JSON.stringify(row.sources),
      );
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
