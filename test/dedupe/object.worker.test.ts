// The dedupe Durable Object inside workerd: committed keys are written from its alarm and read
// back by a restarted object; reservations in flight are not written.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { dedupeSettings } from '../../src/dedupe/client';
import { keysOf } from '../../src/dedupe/keys';
import { DUPLICATE, SEND } from '../../src/dedupe/ledger';
import { DEDUPE_GENERATIONS } from '../../src/dedupe/limits';
import { DedupeShard } from '../../src/dedupe/object';
import type { Env } from '../../src/env';

const testEnv = env as unknown as Env;
const k = (...ids: string[]): { source: string; keys: Uint32Array } => ({
  source: 'web',
  keys: keysOf(ids.map((id) => ['web', id] as const)),
});
const by = (token: string, ...ids: string[]) => ({ ...k(...ids), token, attempt: `${token}:1` });

function shard(): DurableObjectStub<DedupeShard> {
  const namespace = testEnv.DEDUPE;
  if (namespace === undefined) throw new Error('no DEDUPE binding');
  return namespace.get(namespace.idFromName(`object-${crypto.randomUUID()}`));
}

describe('DedupeShard', () => {
  it('writes committed keys from its alarm, as one row, and a restarted object knows them', async () => {
    const stub = shard();
    await stub.apply({
      commit: [],
      release: [],
      reserve: [by('m1', 'a', 'b', 'c')],
    });
    await stub.apply({ commit: [k('a', 'b')], release: [], reserve: [] });
    const rows = async (): Promise<number> =>
      runInDurableObject(stub, (_i, state) =>
        Number(state.storage.sql.exec('SELECT count(*) AS n FROM committed').one()['n']),
      );
    expect(await rows()).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows()).toBe(1);
    const verdicts = await runInDurableObject(stub, async (_instance, state) => {
      const restarted = new DedupeShard(state, testEnv);
      const answer = await restarted.apply({
        commit: [],
        release: [],
        reserve: [by('m2', 'a', 'b', 'c')],
      });
      return Array.from(answer.verdicts);
    });
    // a and b were committed and written; c was only reserved, so a restart forgets it.
    expect(verdicts).toEqual([DUPLICATE, DUPLICATE, SEND]);
  });
});

describe('DedupeShard storage by source', () => {
  it("writes each source's keys with their source, and a restarted object keeps them apart", async () => {
    const stub = shard();
    const ios = { source: 'ios', keys: keysOf([['ios', 'a']]) };
    await stub.apply({ commit: [k('a'), ios], release: [], reserve: [] });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const verdicts = await runInDurableObject(stub, async (_instance, state) => {
      const row = state.storage.sql
        .exec<{ sources: string }>('SELECT sources FROM committed')
        .one();
      const restarted = new DedupeShard(state, testEnv);
      const answer = await restarted.apply({
        commit: [],
        release: [],
        reserve: [by('m1', 'a'), { ...ios, token: 'm2', attempt: 'm2:1' }],
      });
      return { sources: JSON.parse(row.sources) as unknown, verdicts: Array.from(answer.verdicts) };
    });
    expect(verdicts.sources).toEqual([
      ['web', 1],
      ['ios', 1],
    ]);
    expect(verdicts.verdicts).toEqual([DUPLICATE, DUPLICATE]);
  });

  it('reads back rows written before keys had a source, for every source', async () => {
    const stub = shard();
    const verdicts = await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec('DROP TABLE IF EXISTS committed');
      sql.exec(
        'CREATE TABLE committed (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, keys BLOB NOT NULL)',
      );
      sql.exec('INSERT INTO committed (at, keys) VALUES (?, ?)', Date.now(), k('old').keys.buffer);
      const restarted = new DedupeShard(state, testEnv);
      const answer = await restarted.apply({
        commit: [],
        release: [],
        reserve: [by('m1', 'old', 'new')],
      });
      return Array.from(answer.verdicts);
    });
    expect(verdicts).toEqual([DUPLICATE, SEND]);
  });
});

describe('DedupeShard cleanup', () => {
  it('deletes the expired rows reading those rows, not every row kept', async () => {
    const stub = shard();
    const result = await runInDurableObject(stub, async (_instance, state) => {
      // A 2 s window keeps rows 2.5 s (one generation more): rows 2.2 s old expire 0.3 s later.
      const windowEnv = { ...testEnv, DEDUPE_WINDOW_SECONDS: '2' };
      const keepMs = (2000 * DEDUPE_GENERATIONS) / (DEDUPE_GENERATIONS - 1);
      const sql = state.storage.sql;
      sql.exec(
        'CREATE TABLE IF NOT EXISTS committed (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, keys BLOB NOT NULL)',
      );
      const now = Date.now();
      const blob = k('x').keys.buffer;
      for (let i = 0; i < 5; i++) {
        sql.exec('INSERT INTO committed (at, keys) VALUES (?, ?)', now - keepMs + 300, blob);
      }
      for (let i = 0; i < 300; i++) {
        sql.exec('INSERT INTO committed (at, keys) VALUES (?, ?)', now, blob);
      }
      const restarted = new DedupeShard(state, windowEnv);
      await new Promise((r) => setTimeout(r, 400));
      await restarted.apply({ commit: [], release: [], reserve: [by('t', 'y')] });
      await restarted.apply({ commit: [k('y')], release: [], reserve: [] });
      restarted.alarm();
      const left = sql.exec<{ n: number }>('SELECT count(*) AS n FROM committed').one().n;
      return { left, rowsRead: restarted.lastCleanupRowsRead };
    });
    // The 5 expired rows went; the 300 kept and the one just written stay.
    expect(result.left).toBe(301);
    // Reading every row to find them (a scan on `at`) would read over 600.
    expect(result.rowsRead).toBeGreaterThan(0);
    expect(result.rowsRead).toBeLessThan(20);
  });
});

describe('dedupeSettings', () => {
  it('turns deduplication off with DEDUPE_WINDOW_SECONDS=0 or without the binding', () => {
    expect(dedupeSettings(testEnv)?.shards).toBe(12);
    expect(dedupeSettings({ ...testEnv, DEDUPE_WINDOW_SECONDS: '0' })).toBeUndefined();
    expect(dedupeSettings({ ...testEnv, DEDUPE: undefined })).toBeUndefined();
    expect(dedupeSettings({ ...testEnv, DEDUPE_SHARDS: '40' })?.shards).toBe(40);
  });
});
