// Keyed hashes as the ingest path needs them: a suppression lookup (an id's 64-bit HMAC prefix,
// then a bisection in each set that applies) and a `hash` rule's hex HMAC, each memoised per
// isolate so that a value seen before costs a Map read and no await. Adapter over hash.ts
// (Web Crypto) and the pure set.ts.

import { hmacHex, hmacKey, suppressionHash, type Hash64, type IdKind } from './hash';
import { setHas, type SuppressionSet } from './set';

// Ours: values hashed recently in this isolate, so a user's every event does not cost an HMAC
// (Web Crypto's sign is an async call of a few µs: bench stage.privacy.hmac); each memo is
// cleared when full (10,000 e-mails and their hashes: ~2 MB) and when the key changes. Memory
// only: the values already sit in the events being handled, and nothing here is stored or
// logged.
export const HASH_MEMO_MAX = 10_000;

class Memo<V> {
  readonly #map = new Map<string, V>();
  #secret = '';

  get(secret: string, key: string): V | undefined {
    if (this.#secret !== secret) {
      this.#map.clear();
      this.#secret = secret;
    }
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    if (this.#map.size >= HASH_MEMO_MAX) this.#map.clear();
    this.#map.set(key, value);
  }

  clear(): void {
    this.#map.clear();
  }
}

const idHashes = new Memo<Hash64>();
const hexHashes = new Memo<string>();

/** Forgets every memoised hash (the bench's cold cases). */
export function clearHashMemos(): void {
  idHashes.clear();
  hexHashes.clear();
}

function idHash(secret: string, kind: IdKind, id: string): Hash64 | Promise<Hash64> {
  const memo = `${kind}:${id}`;
  const known = idHashes.get(secret, memo);
  if (known !== undefined) return known;
  return hmacKey(secret).then(async (key) => {
    const h = await suppressionHash(key, kind, id);
    idHashes.set(memo, h);
    return h;
  });
}

/**
 * Whether an id is in any of `sets`: its keyed hash, then a bisection per set. Synchronous when
 * the isolate has hashed the id before.
 */
export function suppressionLookup(
  secret: string,
  sets: readonly SuppressionSet[],
): (kind: IdKind, id: string) => boolean | Promise<boolean> {
  const among = (h: Hash64): boolean => sets.some((s) => setHas(s, h));
  return (kind, id) => {
    const h = idHash(secret, kind, id);
    return h instanceof Promise ? h.then(among) : among(h);
  };
}

/** Keyed hex hashes for `hash` rules: those known to the isolate, and the others in one go. */
export interface KeyedHex {
  /** The hash of a text the isolate hashed before, else undefined. */
  known(text: string): string | undefined;
  /** The hashes of `texts`, computed together (one await for all), then remembered. */
  compute(texts: readonly string[]): Promise<string[]>;
}

/** A `hash` rule's lowercase hex HMAC-SHA256, keyed with `secret`. */
export function keyedHex(secret: string): KeyedHex {
  return {
    known: (text) => hexHashes.get(secret, text),
    async compute(texts) {
      const key = await hmacKey(secret);
      const hexes = await Promise.all(texts.map((t) => hmacHex(key, t)));
      texts.forEach((t, i) => hexHashes.set(t, hexes[i] as string));
      return hexes;
    },
  };
}
