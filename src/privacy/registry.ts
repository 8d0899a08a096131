// The privacy registry: one Durable Object, the single writer of privacy policies and suppressed
// ids. It keeps them in SQLite, publishes each change to the PRIVACY KV namespace under new keys
// (layout.ts), and serves the index of versions isolates read once per PRIVACY_CACHE_SECONDS.
// Adapter around the pure set.ts and layout.ts.
//
// Why a single writer: KV has no compare-and-swap, so two admin calls changing one source's
// suppressed ids at once would each read a shard, add their ids and write it back, and one
// call's ids would be lost (KV "Write key-value pairs": the last write wins). Here calls are
// applied one after another. Why the index is served from here: it is strongly consistent, so a
// change reaches every isolate within PRIVACY_CACHE_SECONDS, where KV's edge caches would add
// their own 30-60 s. The index is also mirrored to KV (`index`), which isolates read only when
// this object cannot be reached. The object never sees an id: the Worker sends it HMAC
// prefixes only.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { parseHash64Hex, type Hash64, type IdKind } from './hash';
import {
  emptyIndex,
  INDEX_KEY,
  policyKey,
  shardKey,
  type PrivacyIndex,
  type SuppressionEntry,
} from './layout';
import { encodeShard, shardBits, shardOf, shardRange } from './set';

// Ours: a replaced KV value (an old policy or shard version) is deleted this long after, so an
// isolate that read the index just before the change can still load what it names; well past
// any PRIVACY_CACHE_SECONDS an operator would set, plus KV's propagation (~60 s).
export const GARBAGE_GRACE_MS = 15 * 60_000;
// Ours: KV deletes per alarm; KV limits page: 1,000 operations per invocation.
export const GARBAGE_DELETES_PER_ALARM = 500;
// KV limits page: "Writes to same key: 1 per second": the index's mirror is written at most
// this often (changes in between are written together), and a refused write is tried again.
export const INDEX_MIRROR_INTERVAL_MS = 1100;
export const INDEX_MIRROR_ATTEMPTS = 3;

export interface SuppressionCounts {
  userIds: number;
  anonymousIds: number;
}

export interface SuppressionChange {
  /** Ids newly suppressed (add) or no longer suppressed (remove); repeats are not counted. */
  changed: number;
  counts: SuppressionCounts;
}

export interface StoredPolicy {
  version: string;
  document: string;
}

export class PrivacyRegistry extends DurableObject<Env> {
  #index: PrivacyIndex = emptyIndex();
  /** Changes are applied one at a time (each awaits KV writes between SQL statements). */
  #queue: Promise<unknown> = Promise.resolve();
  /** Whether the index changed since its mirror was last written, and the writer running. */
  #mirrorDue = false;
  #mirroring: Promise<void> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(
      'CREATE TABLE IF NOT EXISTS policies (source TEXT PRIMARY KEY, version TEXT NOT NULL, document TEXT NOT NULL)',
    );
    sql.exec(
      'CREATE TABLE IF NOT EXISTS suppressed (source TEXT NOT NULL, hash TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (source, hash)) WITHOUT ROWID',
    );
    sql.exec(
      'CREATE TABLE IF NOT EXISTS shards (source TEXT NOT NULL, bits INTEGER NOT NULL, shard INTEGER NOT NULL, version TEXT NOT NULL, PRIMARY KEY (source, shard))',
    );
    sql.exec('CREATE TABLE IF NOT EXISTS garbage (key TEXT PRIMARY KEY, at INTEGER NOT NULL)');
    // Sources whose last publication failed half-way: their next one rewrites every shard.
    sql.exec('CREATE TABLE IF NOT EXISTS dirty (source TEXT PRIMARY KEY)');
    for (const row of sql.exec<{ source: string; version: string }>(
      'SELECT source, version FROM policies',
    )) {
      this.#index.policies[row.source] = row.version;
    }
    for (const row of sql.exec<{ source: string; bits: number; shard: number; version: string }>(
      'SELECT source, bits, shard, version FROM shards ORDER BY source, shard',
    )) {
      const entry = (this.#index.suppressions[row.source] ??= {
        bits: row.bits,
        shards: new Array<string>(2 ** row.bits).fill(''),
        count: 0,
      });
      entry.shards[row.shard] = row.version;
    }
    for (const row of sql.exec<{ source: string; n: number }>(
      'SELECT source, COUNT(*) AS n FROM suppressed GROUP BY source',
    )) {
      const entry = this.#index.suppressions[row.source];
      if (entry !== undefined) entry.count = row.n;
    }
  }

  /** Every source's policy version and suppression shards: what isolates cache. */
  index(): PrivacyIndex {
    return this.#index;
  }

  getPolicy(source: string): StoredPolicy | undefined {
    const [row] = this.ctx.storage.sql
      .exec<{ version: string; document: string }>(
        'SELECT version, document FROM policies WHERE source = ?',
        source,
      )
      .toArray();
    return row;
  }

  /** Saves a policy (already checked by the Worker) under `version`: KV body first, then index. */
  putPolicy(source: string, version: string, document: string): Promise<void> {
    return this.#serial(async () => {
      await this.#kv().put(policyKey(source, version), document);
      const before = this.#index.policies[source];
      this.ctx.storage.sql.exec(
        'INSERT INTO policies (source, version, document) VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE SET version = excluded.version, document = excluded.document',
        source,
        version,
        document,
      );
      this.#index = { ...this.#index, policies: { ...this.#index.policies, [source]: version } };
      this.#mirror();
      if (before !== undefined) await this.#discard([policyKey(source, before)]);
    });
  }

  /** Deletes a source's policy; the version it had, or undefined when it had none. */
  deletePolicy(source: string): Promise<string | undefined> {
    return this.#serial(async () => {
      const before = this.#index.policies[source];
      if (before === undefined) return undefined;
      this.ctx.storage.sql.exec('DELETE FROM policies WHERE source = ?', source);
      const { [source]: _gone, ...policies } = this.#index.policies;
      this.#index = { ...this.#index, policies };
      this.#mirror();
      await this.#discard([policyKey(source, before)]);
      return before;
    });
  }

  /**
   * Adds or removes suppressed ids (16-hex-digit HMAC prefixes, by kind) for `source`, then
   * rewrites the shards they fall in (every shard, when the set's size changes its shard count)
   * under new KV keys, and the index last.
   */
  changeSuppressions(
    source: string,
    op: 'add' | 'remove',
    entries: ReadonlyArray<{ hash: string; kind: IdKind }>,
    version: string,
  ): Promise<SuppressionChange> {
    return this.#serial(async () => {
      const sql = this.ctx.storage.sql;
      let changed = 0;
      const touched: Hash64[] = [];
      for (const { hash, kind } of entries) {
        const h = parseHash64Hex(hash);
        if (h === undefined) throw new Error('not a 64-bit hash prefix');
        const cursor =
          op === 'add'
            ? sql.exec(
                'INSERT INTO suppressed (source, hash, kind) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
                source,
                hash,
                kind,
              )
            : sql.exec('DELETE FROM suppressed WHERE source = ? AND hash = ?', source, hash);
        if (cursor.rowsWritten > 0) {
          changed += 1;
          touched.push(h);
        }
      }
      const dirty =
        sql.exec('SELECT source FROM dirty WHERE source = ?', source).toArray().length > 0;
      if (changed > 0 || dirty) {
        // Marked first: a publication that fails leaves the rows changed and the index behind,
        // and a retry of the same call changes no row, so it must still publish everything.
        sql.exec('INSERT INTO dirty (source) VALUES (?) ON CONFLICT DO NOTHING', source);
        await this.#publish(source, touched, version, dirty);
        sql.exec('DELETE FROM dirty WHERE source = ?', source);
      }
      return { changed, counts: this.counts(source)[source] ?? { userIds: 0, anonymousIds: 0 } };
    });
  }

  /** Suppressed ids per source (one source, or all): counts only, by kind. */
  counts(source?: string): Record<string, SuppressionCounts> {
    const rows =
      source === undefined
        ? this.ctx.storage.sql.exec<{ source: string; kind: string; n: number }>(
            'SELECT source, kind, COUNT(*) AS n FROM suppressed GROUP BY source, kind',
          )
        : this.ctx.storage.sql.exec<{ source: string; kind: string; n: number }>(
            'SELECT source, kind, COUNT(*) AS n FROM suppressed WHERE source = ? GROUP BY source, kind',
            source,
          );
    const out: Record<string, SuppressionCounts> = {};
    for (const row of rows) {
      const c = (out[row.source] ??= { userIds: 0, anonymousIds: 0 });
      if (row.kind === 'userId') c.userIds = row.n;
      else c.anonymousIds = row.n;
    }
    return out;
  }

  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const due = sql
      .exec<{ key: string }>(
        'SELECT key FROM garbage WHERE at <= ? ORDER BY at LIMIT ?',
        now,
        GARBAGE_DELETES_PER_ALARM,
      )
      .toArray()
      .map((r) => r.key);
    const kv = this.#kv();
    for (const key of due) {
      await kv.delete(key);
      sql.exec('DELETE FROM garbage WHERE key = ?', key);
    }
    const [next] = sql.exec<{ at: number }>('SELECT MIN(at) AS at FROM garbage').toArray();
    if (next?.at !== undefined && next.at !== null) await this.ctx.storage.setAlarm(next.at);
  }

  /** Rewrites the shards of `source` that `touched` falls in, and its index entry. */
  async #publish(
    source: string,
    touched: readonly Hash64[],
    version: string,
    everything: boolean,
  ): Promise<void> {
    const sql = this.ctx.storage.sql;
    const [row] = sql
      .exec<{ n: number }>('SELECT COUNT(*) AS n FROM suppressed WHERE source = ?', source)
      .toArray();
    const count = row?.n ?? 0;
    const before = this.#index.suppressions[source];
    const bits = shardBits(count);
    const all = everything || before === undefined || before.bits !== bits;
    const shards = all
      ? Array.from({ length: 2 ** bits }, (_v, i) => i)
      : [...new Set(touched.map((h) => shardOf(h.hi, bits)))];
    const entry: SuppressionEntry = {
      bits,
      shards: all ? new Array<string>(2 ** bits).fill('') : [...before.shards],
      count,
    };
    const kv = this.#kv();
    for (const shard of shards) {
      const { from, to } = shardRange(shard, bits);
      const hashes = (
        to === undefined
          ? sql.exec<{ hash: string }>(
              'SELECT hash FROM suppressed WHERE source = ? AND hash >= ? ORDER BY hash',
              source,
              from,
            )
          : sql.exec<{ hash: string }>(
              'SELECT hash FROM suppressed WHERE source = ? AND hash >= ? AND hash < ? ORDER BY hash',
              source,
              from,
              to,
            )
      )
        .toArray()
        .map((r) => parseHash64Hex(r.hash) as Hash64);
      if (hashes.length === 0) {
        entry.shards[shard] = '';
        continue;
      }
      await kv.put(shardKey(source, bits, shard, version), encodeShard(hashes));
      entry.shards[shard] = version;
    }
    this.#saveShards(source, count === 0 ? undefined : entry);
    const replaced =
      before === undefined
        ? []
        : before.shards.flatMap((v, shard) =>
            v !== '' && (before.bits !== bits || entry.shards[shard] !== v)
              ? [shardKey(source, before.bits, shard, v)]
              : [],
          );
    await this.#discard(replaced);
  }

  #saveShards(source: string, entry: SuppressionEntry | undefined): void {
    const sql = this.ctx.storage.sql;
    sql.exec('DELETE FROM shards WHERE source = ?', source);
    const { [source]: _old, ...suppressions } = this.#index.suppressions;
    if (entry !== undefined) {
      entry.shards.forEach((v, shard) => {
        if (v !== '')
          sql.exec(
            'INSERT INTO shards (source, bits, shard, version) VALUES (?, ?, ?, ?)',
            source,
            entry.bits,
            shard,
            v,
          );
      });
      suppressions[source] = entry;
    }
    this.#index = { ...this.#index, suppressions };
    this.#mirror();
  }

  /** Writes the index's mirror to KV in the background, at most once per interval. */
  #mirror(): void {
    this.#mirrorDue = true;
    if (this.#mirroring !== undefined) return;
    this.#mirroring = this.#writeMirror().finally(() => {
      this.#mirroring = undefined;
    });
    this.ctx.waitUntil(this.#mirroring);
  }

  async #writeMirror(): Promise<void> {
    let failures = 0;
    while (this.#mirrorDue && failures < INDEX_MIRROR_ATTEMPTS) {
      this.#mirrorDue = false;
      try {
        await this.#kv().put(INDEX_KEY, JSON.stringify(this.#index));
      } catch (e) {
        failures += 1;
        this.#mirrorDue = true;
        console.error('privacy index mirror failed', e instanceof Error ? e.message : String(e));
      }
      if (this.#mirrorDue) await new Promise((r) => setTimeout(r, INDEX_MIRROR_INTERVAL_MS));
    }
  }

  /** Queues KV values no index names any more for deletion after GARBAGE_GRACE_MS. */
  async #discard(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const at = Date.now() + GARBAGE_GRACE_MS;
    for (const key of keys) {
      this.ctx.storage.sql.exec(
        'INSERT INTO garbage (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
        key,
        at,
      );
    }
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(at);
  }

  #kv(): KVNamespace {
    const kv = this.env.PRIVACY;
    if (kv === undefined) throw new Error('the PRIVACY KV namespace is not bound');
    return kv;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
