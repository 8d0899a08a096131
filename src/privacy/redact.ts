// A privacy policy applied to one request's enriched events, in the order docs/privacy.md gives:
// suppression, Global Privacy Control, consent per sink, then the field rules (with IP and
// location, compiled into one tree: fields.ts). Pure given its two injected functions: the
// suppression lookup and the keyed hash (Web Crypto in production, memoised: lookup.ts), each
// synchronous for what the isolate hashed before.
//
// Events the policy leaves alone are returned as the very same objects (no copy, no new JSON);
// an edited event is copied where it changes and serialised once, after its hashes.

import type { QueuedEvent } from '../segment/ingest';
import { isJsonObject, type JsonObject } from '../segment/types';
import { utf8Length } from '../segment/utf8';
import { applyRules, type PendingHash, type RuleNode, type WalkCounts } from './fields';
import type { IdKind } from './hash';
import type { KeyedHex } from './lookup';
import type { CompiledPolicy, Sink } from './policy';

export type WithheldReason = 'suppressed' | 'gpc' | 'consent';

export interface RedactCounts {
  suppressed: number;
  /** Events kept from a sink by consent (or dropped for Sec-GPC), per sink. */
  consent: Record<Sink, number>;
  /** Values removed (`drop`), hashed (`hash`) or truncated (an IP address). */
  redacted: { drop: number; hash: number; truncate: number };
}

export interface RedactOutcome {
  /** The events to pass on, in order: the untouched ones are the input objects. */
  events: QueuedEvent[];
  /** For each input event, what it became (the debugger shows these), or undefined: withheld. */
  shown: Array<QueuedEvent | undefined>;
  withheld: Array<{ index: number; reason: WithheldReason }>;
  counts: RedactCounts;
}

export interface RedactInput {
  policy: CompiledPolicy | undefined;
  /** The sinks this source has: firehose always, forward when forwarding is on for it. */
  sinks: readonly Sink[];
  /** The request carried `Sec-GPC: 1`. */
  gpc: boolean;
  /**
   * Whether an id is suppressed (synchronous when its hash is known); undefined when no
   * suppression applies to the source.
   */
  suppressed: ((kind: IdKind, id: string) => boolean | Promise<boolean>) | undefined;
  /** Lowercase hex keyed hashes (lookup.ts KeyedHex); undefined without PRIVACY_HASH_KEY. */
  hash: KeyedHex | undefined;
}

/** Whether nothing in the policy acts on this request's events (cheap checks first). */
export function policyIsInert(input: Pick<RedactInput, 'policy' | 'suppressed' | 'gpc'>): boolean {
  const p = input.policy;
  if (input.suppressed !== undefined) return false;
  if (p === undefined) return true;
  return (
    (input.gpc ? p.gpcRules : p.rules) === undefined &&
    (p.gpc !== 'drop' || !input.gpc) &&
    p.categories.firehose.length === 0 &&
    p.categories.forward.length === 0
  );
}

/**
 * The sinks an event's consent lets it reach (issue #25, after Segment's rule): a sink needs
 * `true` for every category it lists; no `context.consent` follows `missing`; a consent object
 * without `categoryPreferences`, or an empty one, consents to nothing.
 */
export function consentedSinks(
  event: JsonObject,
  policy: CompiledPolicy | undefined,
  sinks: readonly Sink[],
): Sink[] {
  if (policy === undefined) return [...sinks];
  const context = event['context'];
  const consent = isJsonObject(context) ? context['consent'] : undefined;
  let prefs: JsonObject;
  if (consent === undefined || consent === null) {
    if (policy.missing === 'allow') return [...sinks];
    prefs = {};
  } else {
    const p = isJsonObject(consent) ? consent['categoryPreferences'] : undefined;
    prefs = isJsonObject(p) ? p : {};
  }
  return sinks.filter((sink) => policy.categories[sink].every((c) => prefs[c] === true));
}

/** The ids of an event a suppression can name. */
function idsOf(event: JsonObject): Array<[IdKind, string]> {
  const out: Array<[IdKind, string]> = [];
  for (const kind of ['userId', 'anonymousId'] as const) {
    const id = event[kind];
    if (typeof id === 'string' && id !== '') out.push([kind, id]);
    else if (typeof id === 'number') out.push([kind, String(id)]);
  }
  return out;
}

/** Whether each event is of a suppressed user; awaits only the ids the isolate never hashed. */
async function suppressedFlags(
  events: readonly QueuedEvent[],
  input: RedactInput,
): Promise<boolean[] | undefined> {
  const lookup = input.suppressed;
  if (lookup === undefined) return undefined;
  const flags: boolean[] = [];
  let pending: Array<Promise<void>> | undefined;
  events.forEach((e, i) => {
    flags.push(false);
    for (const [kind, id] of idsOf(e.event)) {
      const found = lookup(kind, id);
      if (found === true) flags[i] = true;
      else if (found instanceof Promise)
        (pending ??= []).push(found.then((yes) => void (yes && (flags[i] = true))));
    }
  });
  if (pending !== undefined) await Promise.all(pending);
  return flags;
}

type Decided =
  { kind: 'withheld'; reason: WithheldReason } | { kind: 'kept'; event: JsonObject; sinks: Sink[] };

/** One event: withheld (suppressed, Sec-GPC, no consented sink), or walked by the rules. */
function decide(
  queued: QueuedEvent,
  suppressed: boolean,
  input: RedactInput,
  walk: { tree: RuleNode | undefined; pending: PendingHash[]; counts: WalkCounts },
  counts: RedactCounts,
): Decided {
  if (suppressed) {
    counts.suppressed += 1;
    return { kind: 'withheld', reason: 'suppressed' };
  }
  if (input.gpc && input.policy?.gpc === 'drop') {
    for (const sink of input.sinks) counts.consent[sink] += 1;
    return { kind: 'withheld', reason: 'gpc' };
  }
  const sinks = consentedSinks(queued.event, input.policy, input.sinks);
  for (const sink of input.sinks) if (!sinks.includes(sink)) counts.consent[sink] += 1;
  if (sinks.length === 0) return { kind: 'withheld', reason: 'consent' };
  const event =
    walk.tree === undefined
      ? queued.event
      : applyRules(walk.tree, queued.event, walk.pending, walk.counts);
  return { kind: 'kept', event, sinks };
}

/** The event as it goes on: serialised again only when edited; its sinks when restricted. */
function finish(queued: QueuedEvent, decided: Decided & { kind: 'kept' }, all: number) {
  let kept = queued;
  if (decided.event !== queued.event) {
    const line = JSON.stringify(decided.event);
    kept = { ...queued, line, bytes: utf8Length(line), event: decided.event };
  }
  return decided.sinks.length < all ? { ...kept, sinks: decided.sinks } : kept;
}

/**
 * The policy applied to one request's events. Throws only if `input.hash` throws, or is missing
 * while the policy hashes (the caller refuses the request then: PRIVACY_HASH_KEY unset).
 */
export async function redactEvents(
  events: readonly QueuedEvent[],
  input: RedactInput,
): Promise<RedactOutcome> {
  const counts: RedactCounts = {
    suppressed: 0,
    consent: { firehose: 0, forward: 0 },
    redacted: { drop: 0, hash: 0, truncate: 0 },
  };
  const out: RedactOutcome = { events: [], shown: [], withheld: [], counts };
  if (policyIsInert(input)) {
    out.events = [...events];
    out.shown = [...events];
    return out;
  }
  const suppressed = await suppressedFlags(events, input);
  const walk = {
    tree: input.gpc ? input.policy?.gpcRules : input.policy?.rules,
    pending: [] as PendingHash[],
    counts: { drop: 0, truncate: 0 },
  };
  const decided = events.map((queued, i) =>
    decide(queued, suppressed?.[i] === true, input, walk, counts),
  );
  const hashed = await assignHashes(walk.pending, input.hash);
  counts.redacted = { ...walk.counts, hash: hashed };
  decided.forEach((d, index) => {
    if (d.kind === 'withheld') {
      out.withheld.push({ index, reason: d.reason });
      out.shown.push(undefined);
      return;
    }
    const kept = finish(events[index] as QueuedEvent, d, input.sinks.length);
    out.events.push(kept);
    out.shown.push(kept);
  });
  return out;
}

/** Writes each pending hash into its (copied) container; returns how many it wrote. */
async function assignHashes(
  pending: readonly PendingHash[],
  hash: RedactInput['hash'],
): Promise<number> {
  if (pending.length === 0) return 0;
  if (hash === undefined) throw new Error('the policy hashes, and PRIVACY_HASH_KEY is not set');
  // One HMAC per distinct text in the request (a batch repeats a user's e-mail), all awaited
  // together; none for a text the isolate hashed before.
  const digests = new Map<string, string>();
  const missing: string[] = [];
  for (const p of pending) {
    if (digests.has(p.text)) continue;
    const known = hash.known(p.text);
    digests.set(p.text, known ?? '');
    if (known === undefined) missing.push(p.text);
  }
  if (missing.length > 0) {
    const hexes = await hash.compute(missing);
    missing.forEach((text, i) => digests.set(text, hexes[i] as string));
  }
  for (const p of pending) {
    (p.container as Record<string | number, unknown>)[p.key] = digests.get(p.text);
  }
  return pending.length;
}
