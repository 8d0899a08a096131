// The dedupe Durable Object inside workerd: committed keys are written from its alarm and read
// back by a restarted object; reservations in flight are not written.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { dedupeSettings } from '../../src/dedupe/client';
import { keysOf } from '../../src/dedupe/keys';
import { DUPLICATE, SEND } from '../../src/dedupe/ledger';
import { DedupeShard } from '../../src/dedupe/object';
import type { Env } from '../../src/env';

const testEnv = env as unknown as Env;
const k = (...ids: string[]): Uint32Array => keysOf(ids.map((id) => ['web', id] as const));

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
      reserve: [{ token: 'm1', keys: k('a', 'b', 'c') }],
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
        reserve: [{ token: 'm2', keys: k('a', 'b', 'c') }],
      });
      return Array.from(answer.verdicts);
    });
    // a and b were committed and written; c was only reserved, so a restart forgets it.
    expect(verdicts).toEqual([DUPLICATE, DUPLICATE, SEND]);
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
