// The privacy registry object inside workerd with the local KV namespace: suppressed ids
// published as sorted shards (split in two once the set outgrows one shard), the index an
// isolate reads, the isolate's compact set loaded from those shards, and removal.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { PrivacyCache, registryStub } from '../../src/privacy/cache';
import { parseHash64Hex, type Hash64 } from '../../src/privacy/hash';
import { INDEX_KEY, shardKey, type PrivacyIndex } from '../../src/privacy/layout';
import { captureErrors } from '../support/console';
import { SUPPRESSION_SHARD_MAX_IDS } from '../../src/privacy/limits';
import { GARBAGE_GRACE_MS } from '../../src/privacy/registry';
import { decodeShard, setHas } from '../../src/privacy/set';
import { xorshift32 } from '../../bench/xorshift';

const testEnv = env as unknown as Env;

/** `n` distinct 16-hex-digit hashes (a seeded xorshift), as the admin route sends them. */
function hashes(n: number, seed: number): string[] {
  const next = xorshift32(seed);
  const out = new Set<string>();
  while (out.size < n) {
    out.add(next().toString(16).padStart(8, '0') + next().toString(16).padStart(8, '0'));
  }
  return [...out];
}

const h64 = (hex: string): Hash64 => parseHash64Hex(hex) as Hash64;

describe('PrivacyRegistry', () => {
  it('publishes shards an isolate loads, and splits them when the set outgrows one', async () => {
    const stub = registryStub(testEnv);
    const source = `reg-${crypto.randomUUID().slice(0, 8)}`;
    const small = hashes(3, 7);
    const added = await stub.changeSuppressions(
      source,
      'add',
      small.map((hash) => ({ hash, kind: 'userId' as const })),
      'v1',
    );
    expect(added).toEqual({ changed: 3, counts: { userIds: 3, anonymousIds: 0 } });
    const one = (await stub.index()).suppressions[source];
    expect(one).toEqual({ bits: 0, shards: ['v1'], count: 3 });
    const shard = await testEnv.PRIVACY?.get(shardKey(source, 0, 0, 'v1'), 'arrayBuffer');
    const words = decodeShard(shard as ArrayBuffer);
    expect(words?.length).toBe(6);
    // Sorted, as the isolate bisects them.
    expect([...small].sort().map((h) => h64(h).hi)).toEqual([words?.[0], words?.[2], words?.[4]]);

    // Past one shard's cap, the set is split in two by the top bit: both shards rewritten.
    const many = hashes(SUPPRESSION_SHARD_MAX_IDS, 11);
    await stub.changeSuppressions(
      source,
      'add',
      many.map((hash) => ({ hash, kind: 'anonymousId' as const })),
      'v2',
    );
    const two = (await stub.index()).suppressions[source];
    expect(two).toEqual({ bits: 1, shards: ['v2', 'v2'], count: SUPPRESSION_SHARD_MAX_IDS + 3 });

    const cache = new PrivacyCache(() => Date.now());
    const seen = await cache.forSource(testEnv, source, () => undefined);
    const set = seen?.sets[0];
    if (set === undefined) throw new Error('no set loaded');
    expect(set.bits).toBe(1);
    for (const hex of [...small, ...many.slice(0, 500)]) expect(setHas(set, h64(hex))).toBe(true);
    for (const hex of hashes(500, 99)) expect(setHas(set, h64(hex))).toBe(false);

    // One id removed: only its shard is written again; the old value is deleted later.
    const [gone] = small;
    await stub.changeSuppressions(
      source,
      'remove',
      [{ hash: gone as string, kind: 'userId' }],
      'v3',
    );
    const after = (await stub.index()).suppressions[source];
    const touched = h64(gone as string).hi >>> 31;
    expect(after?.shards[touched]).toBe('v3');
    expect(after?.shards[1 - touched]).toBe('v2');
    const garbage = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ key: string; at: number }>('SELECT key, at FROM garbage').toArray(),
    );
    expect(garbage.map((g) => g.key)).toContain(shardKey(source, 1, touched, 'v2'));
    expect(garbage.every((g) => g.at > Date.now() + GARBAGE_GRACE_MS - 60_000)).toBe(true);
  });

  it('mirrors its index to KV, which an isolate reads while the registry cannot be reached', async () => {
    const errors = captureErrors();
    const stub = registryStub(testEnv);
    const source = `reg-${crypto.randomUUID().slice(0, 8)}`;
    const [one] = hashes(1, 21);
    await stub.changeSuppressions(source, 'add', [{ hash: one as string, kind: 'userId' }], 'm1');
    for (let i = 0; i < 100; i++) {
      const mirror = await testEnv.PRIVACY?.get<PrivacyIndex>(INDEX_KEY, 'json');
      if (mirror?.suppressions[source] !== undefined) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const unreachable = new PrivacyCache(
      () => Date.now(),
      () => Promise.reject(new Error('registry down')),
    );
    const seen = await unreachable.forSource(testEnv, source, () => undefined);
    expect(seen?.sets[0] && setHas(seen.sets[0], h64(one as string))).toBe(true);
    expect(errors).toHaveBeenCalledWith(
      'privacy registry unreachable, using its mirror in KV',
      'registry down',
    );
  });

  it('forgets a source whose every id is removed, and deletes its values after the grace', async () => {
    const stub = registryStub(testEnv);
    const source = `reg-${crypto.randomUUID().slice(0, 8)}`;
    const [only] = hashes(1, 5);
    const entry = { hash: only as string, kind: 'userId' as const };
    await stub.changeSuppressions(source, 'add', [entry], 'w1');
    await stub.changeSuppressions(source, 'remove', [entry], 'w2');
    expect((await stub.index()).suppressions[source]).toBeUndefined();
    expect(await stub.counts(source)).toEqual({});
    // Past the grace, the alarm deletes the shard no index names any more.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec('UPDATE garbage SET at = 0');
    });
    await runDurableObjectAlarm(stub);
    expect(await testEnv.PRIVACY?.get(shardKey(source, 0, 0, 'w1'))).toBeNull();
  });
});
