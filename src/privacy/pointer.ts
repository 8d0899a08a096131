// JSON Pointers (RFC 6901) into an event, with a `*` segment matching any key or array item, and
// their application with copy-on-write. Pure.
//
// An event's nested objects can be shared with other events (a batch's top-level context is
// merged into every item) and with the request as parsed (what the debugger shows): nothing
// reached is ever changed in place. A container is copied, once per event, only when a rule
// changes something in it, and so is every container on the path to it.

import type { JsonObject } from '../segment/types';

/** A parsed pointer: each segment a key (or array index as text), or ANY for `*`. */
export const ANY = null;
export type Segment = string | typeof ANY;

/** RFC 6901 §4: `~1` is `/`, `~0` is `~`, in that order. */
function unescapeToken(token: string): string | undefined {
  if (/~[^01]|~$/.test(token)) return undefined;
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * The segments of `pointer` ("/properties/email", "/context/traits/*"), or why it is not one. The
 * root pointer "" (the whole event) is refused: a rule names a field.
 */
export function parsePointer(
  pointer: string,
): { ok: true; segments: Segment[] } | { ok: false; why: string } {
  if (pointer === '') return { ok: false, why: 'the whole event cannot be a field' };
  if (!pointer.startsWith('/'))
    return {
      ok: false,
      why: 'a JSON Pointer starts with "/" (RFC 6901), e.g. "/properties/email"',
    };
  const segments: Segment[] = [];
  for (const token of pointer.slice(1).split('/')) {
    if (token === '*') {
      segments.push(ANY);
      continue;
    }
    const key = unescapeToken(token);
    if (key === undefined) return { ok: false, why: `"~" must be followed by 0 or 1 (RFC 6901)` };
    segments.push(key);
  }
  return { ok: true, segments };
}

type Container = JsonObject | unknown[];
type Key = string | number;

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

const INDEX = /^(?:0|[1-9][0-9]*)$/;

/** The keys of `node` a segment selects: every key or item for ANY, else the one it names. */
function selected(node: Container, segment: Segment): Key[] {
  if (Array.isArray(node)) {
    if (segment === ANY) return node.map((_v, i) => i);
    if (!INDEX.test(segment)) return [];
    const i = Number(segment);
    return i < node.length ? [i] : [];
  }
  if (segment === ANY) return Object.keys(node);
  return Object.hasOwn(node, segment) ? [segment] : [];
}

function read(node: Container, key: Key): unknown {
  return (node as Record<Key, unknown>)[key];
}

/**
 * One event being edited: its root, copied on the first change, and the containers already
 * copied (so each is copied once however many rules change it).
 */
export class EventEdit {
  readonly original: JsonObject;
  #root: JsonObject;
  readonly #owned = new Set<object>();

  constructor(event: JsonObject) {
    this.original = event;
    this.#root = event;
  }

  /** The event as edited so far (the original while nothing changed). */
  get root(): JsonObject {
    return this.#root;
  }

  get changed(): boolean {
    return this.#root !== this.original;
  }

  /** The root, copied if it is not yet. */
  ownRoot(): JsonObject {
    if (!this.#owned.has(this.#root)) {
      this.#root = { ...this.#root };
      this.#owned.add(this.#root);
    }
    return this.#root;
  }

  /** `parent[key]` (a container), copied into `parent` if it is not yet ours. */
  ownChild(parent: Container, key: Key): Container | undefined {
    const current = read(parent, key);
    if (!isContainer(current)) return undefined;
    if (this.#owned.has(current)) return current;
    const copy: Container = Array.isArray(current) ? current.slice() : { ...current };
    (parent as Record<Key, unknown>)[key] = copy;
    this.#owned.add(copy);
    return copy;
  }

  /**
   * Calls `act` with each container holding keys the pointer reaches (copied, so `act` may
   * change it) and those keys. A pointer that reaches nothing costs the walk and copies nothing.
   */
  apply(segments: readonly Segment[], act: (container: Container, keys: Key[]) => void): void {
    this.#visit(this.#root, () => this.ownRoot(), segments, 0, act);
  }

  #visit(
    node: unknown,
    own: () => Container | undefined,
    segments: readonly Segment[],
    i: number,
    act: (container: Container, keys: Key[]) => void,
  ): void {
    if (!isContainer(node)) return;
    const segment = segments[i] as Segment;
    const keys = selected(node, segment);
    if (keys.length === 0) return;
    if (i === segments.length - 1) {
      const owned = own();
      if (owned !== undefined) act(owned, keys);
      return;
    }
    for (const key of keys) {
      const child = read(node, key);
      if (!isContainer(child)) continue;
      const ownChild = (): Container | undefined => {
        const parent = own();
        return parent === undefined ? undefined : this.ownChild(parent, key);
      };
      this.#visit(child, ownChild, segments, i + 1, act);
    }
  }
}

/** Removes `keys` from `container` (array items by index, the highest first). */
export function removeKeys(container: Container, keys: readonly Key[]): void {
  if (Array.isArray(container)) {
    const indexes = [...new Set(keys as number[])].sort((a, b) => b - a);
    for (const i of indexes) container.splice(i, 1);
    return;
  }
  for (const key of keys) delete container[key as string];
}
