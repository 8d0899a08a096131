// A policy's field rules compiled into one tree of the event's keys, and applied to an event in
// one walk. Pure.
//
// Every rule (the policy's `fields`, its `ip` and `location`, and `gpc: anonymize`'s hashes) is
// a path of keys ending in an action. The paths are merged into a tree once per policy, `*`
// merged into the named keys beside it, so an event is walked once whatever the number of
// rules: only the keys the tree names are visited, and a container is copied only when
// something in it changes (its copy built without the dropped keys). Nothing reached is ever
// changed in place: an event's nested objects can be shared with other events (a batch's
// top-level context is merged into every item) and with the request as parsed.
//
// Where several rules reach one value, the strongest acts: `drop`, then `hash`, then `truncate`
// (an IP address) and `country` (a location); a value that is acted on is not walked into.

import { anonymizeIp } from '../segment/ip';
import { isJsonObject, type JsonObject } from '../segment/types';
import { hashInput } from './hash';
import { ANY, type Segment } from './pointer';

export type RuleAction = 'drop' | 'hash' | 'truncate' | 'country';

const STRENGTH: Record<RuleAction, number> = { drop: 3, hash: 2, truncate: 1, country: 1 };

export interface RuleNode {
  action?: RuleAction;
  /** Named keys (array indexes as text), each already merged with `any`. */
  keys?: Map<string, RuleNode>;
  /** The names of `keys`, for the walk. */
  names?: string[];
  /** What every other key or item gets. */
  any?: RuleNode;
}

export interface Rule {
  segments: readonly Segment[];
  action: RuleAction;
}

function stronger(a: RuleAction | undefined, b: RuleAction | undefined): RuleAction | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return STRENGTH[b] > STRENGTH[a] ? b : a;
}

function merge(a: RuleNode | undefined, b: RuleNode | undefined): RuleNode {
  if (a === undefined) return b ?? {};
  if (b === undefined) return a;
  const out: RuleNode = {};
  const action = stronger(a.action, b.action);
  if (action !== undefined) out.action = action;
  const any = a.any === undefined && b.any === undefined ? undefined : merge(a.any, b.any);
  if (any !== undefined) out.any = any;
  const names = new Set([...(a.keys?.keys() ?? []), ...(b.keys?.keys() ?? [])]);
  if (names.size > 0) {
    out.keys = new Map([...names].map((k) => [k, merge(a.keys?.get(k), b.keys?.get(k))]));
  }
  return out;
}

function single(segments: readonly Segment[], action: RuleAction): RuleNode {
  let node: RuleNode = { action };
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i] as Segment;
    node = segment === ANY ? { any: node } : { keys: new Map([[segment, node]]) };
  }
  return node;
}

/** Folds `*` into the named keys beside it, all the way down. */
function settle(node: RuleNode): RuleNode {
  const any = node.any === undefined ? undefined : settle(node.any);
  const out: RuleNode = node.action === undefined ? {} : { action: node.action };
  if (any !== undefined) out.any = any;
  if (node.keys !== undefined) {
    out.keys = new Map([...node.keys].map(([k, child]) => [k, settle(merge(child, any))]));
    out.names = [...out.keys.keys()];
  }
  return out;
}

/** The rules as one tree. */
export function compileRules(rules: readonly Rule[]): RuleNode {
  return settle(rules.reduce<RuleNode>((tree, r) => merge(tree, single(r.segments, r.action)), {}));
}

/** A hash to compute and where it goes, once the walk is done. */
export interface PendingHash {
  container: JsonObject | unknown[];
  key: string | number;
  text: string;
}

export interface WalkCounts {
  drop: number;
  truncate: number;
}

const DROP = Symbol('drop');
const HASH = Symbol('hash');
type Outcome = unknown;

const INDEX = /^(?:0|[1-9][0-9]*)$/;

/** What an action makes of a value: DROP, HASH, or the value (itself when unchanged). */
function act(action: RuleAction, value: unknown, counts: WalkCounts): Outcome {
  switch (action) {
    case 'drop':
      counts.drop += 1;
      return DROP;
    case 'hash':
      return HASH;
    case 'truncate': {
      // An address that cannot be parsed cannot be truncated: it is dropped rather than kept.
      const masked = typeof value === 'string' ? anonymizeIp(value) : undefined;
      if (masked === value) return value;
      if (masked === undefined) counts.drop += 1;
      else counts.truncate += 1;
      return masked === undefined ? DROP : masked;
    }
    case 'country': {
      const country = isJsonObject(value) ? value['country'] : undefined;
      if (isJsonObject(value) && Object.keys(value).every((k) => k === 'country')) {
        return country === undefined ? DROP : value;
      }
      counts.drop += 1;
      return country === undefined ? DROP : { country };
    }
  }
}

function walkValue(node: RuleNode, value: unknown, pending: PendingHash[], counts: WalkCounts) {
  if (node.action !== undefined) return act(node.action, value, counts);
  if (typeof value !== 'object' || value === null) return value;
  return walkContainer(node, value as JsonObject | unknown[], pending, counts);
}

function present(container: JsonObject | unknown[], key: string): boolean {
  return Array.isArray(container)
    ? INDEX.test(key) && Number(key) < container.length
    : Object.hasOwn(container, key);
}

/** The keys the rules changed in one container, and what each became (small: scanned). */
interface Changes {
  keys: string[];
  outcomes: Outcome[];
  dropped: boolean;
}

function outcomeOf(changes: Changes, key: string, unchanged: unknown): Outcome {
  const i = changes.keys.indexOf(key);
  return i === -1 ? unchanged : changes.outcomes[i];
}

/** What the rules make of each key of `container` they reach; undefined when nothing changes. */
function changesIn(
  node: RuleNode,
  container: JsonObject | unknown[],
  pending: PendingHash[],
  counts: WalkCounts,
): Changes | undefined {
  const source = container as Record<string, unknown>;
  let changes: Changes | undefined;
  const keys = node.any !== undefined ? Object.keys(container) : (node.names ?? []);
  for (const key of keys) {
    const child = node.any !== undefined ? (node.keys?.get(key) ?? node.any) : node.keys?.get(key);
    if (child === undefined || (node.any === undefined && !present(container, key))) continue;
    const before = source[key];
    const after = walkValue(child, before, pending, counts);
    if (after === before) continue;
    changes ??= { keys: [], outcomes: [], dropped: false };
    changes.keys.push(key);
    changes.outcomes.push(after);
    if (after === DROP) changes.dropped = true;
  }
  return changes;
}

/** The container as the rules leave it: itself when nothing in it changes, else a new copy. */
function walkContainer(
  node: RuleNode,
  container: JsonObject | unknown[],
  pending: PendingHash[],
  counts: WalkCounts,
): unknown {
  const changes = changesIn(node, container, pending, counts);
  if (changes === undefined) return container;
  if (Array.isArray(container)) {
    const copy: unknown[] = [];
    for (let i = 0; i < container.length; i++) {
      const item = container[i];
      const outcome = outcomeOf(changes, String(i), item);
      if (outcome === DROP) continue;
      if (outcome === HASH)
        pending.push({ container: copy, key: copy.length, text: hashInput(item) });
      copy.push(outcome === HASH ? item : outcome);
    }
    return copy;
  }
  // Without a drop, a spread copy (V8's fastest) with the changed keys set; with one, a copy
  // built without it (a `delete` would leave a slow dictionary-mode object to serialise).
  const copy: JsonObject = changes.dropped ? {} : { ...container };
  const keys = changes.dropped ? Object.keys(container) : changes.keys;
  for (const key of keys) {
    const value = container[key];
    const outcome = outcomeOf(changes, key, value);
    if (outcome === DROP) continue;
    if (outcome === HASH) pending.push({ container: copy, key, text: hashInput(value) });
    copy[key] = outcome === HASH ? value : outcome;
  }
  return copy;
}

/**
 * The event as the rules leave it (itself when they change nothing), the hashes to write into
 * it (their containers are the copies, never the event's own objects), and what was removed or
 * truncated.
 */
export function applyRules(
  tree: RuleNode,
  event: JsonObject,
  pending: PendingHash[],
  counts: WalkCounts,
): JsonObject {
  return walkContainer(tree, event, pending, counts) as JsonObject;
}
