// Merging a batch's top-level `context`/`integrations` under each item's own. Pure.
// The item wins at every key; nested objects are merged, so a batch-level
// context.library survives beside an item's context.page.

import { MERGE_MAX_DEPTH } from './limits';
import { isJsonObject, type JsonObject } from './types';

/**
 * `under` merged beneath `over`: keys of `over` win, objects present in both are merged the
 * same way. Own properties are copied with defineProperty so a `__proto__` key from JSON
 * stays a plain key and never changes a prototype. Below MERGE_MAX_DEPTH, `over` wins whole.
 */
export function mergeUnder(under: JsonObject, over: JsonObject, depth = 0): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(under)) define(out, key, under[key]);
  for (const key of Object.keys(over)) {
    const mine = over[key];
    const theirs = Object.prototype.hasOwnProperty.call(out, key) ? out[key] : undefined;
    if (depth < MERGE_MAX_DEPTH && isJsonObject(mine) && isJsonObject(theirs)) {
      define(out, key, mergeUnder(theirs, mine, depth + 1));
    } else {
      define(out, key, mine);
    }
  }
  return out;
}

/** Sets an own, enumerable data property even when the key is `__proto__`. */
export function define(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
