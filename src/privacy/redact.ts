// A privacy policy applied to one request's enriched events, in the order docs/privacy.md gives:
// suppression, Global Privacy Control, consent per sink, then field rules, IP and location.
// Pure given its two injected functions: the suppression lookup and the keyed hash (Web Crypto
// in production, src/privacy/apply.ts), both async.
//
// Events the policy leaves alone are returned as the very same objects (no copy, no new JSON);
// an edited event is copied where it changes (pointer.ts) and serialised once, after its hashes.

import { anonymizeIp } from '../segment/ip';
import type { QueuedEvent } from '../segment/ingest';
import { isJsonObject, type JsonObject } from '../segment/types';
import { utf8Length } from '../segment/utf8';
import { hashInput, type IdKind } from './hash';
import { ANY, EventEdit, removeKeys, type Segment } from './pointer';
import type { CompiledField, CompiledPolicy, IpMode, LocationMode, Sink } from './policy';

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
  /** Whether an id is suppressed; undefined when no suppression applies to the source. */
  suppressed: ((kind: IdKind, id: string) => Promise<boolean>) | undefined;
  /** The lowercase hex keyed hash of a text; undefined without PRIVACY_HASH_KEY. */
  hash: ((text: string) => Promise<string>) | undefined;
}

/** What a policy asks for that needs work on every event (cheap checks first). */
export function policyIsInert(input: Pick<RedactInput, 'policy' | 'suppressed' | 'gpc'>): boolean {
  const p = input.policy;
  if (input.suppressed !== undefined) return false;
  if (p === undefined) return true;
  return (
    p.fields.length === 0 &&
    p.ip === 'full' &&
    p.location === 'full' &&
    (p.gpc === 'ignore' || !input.gpc) &&
    p.categories.firehose.length === 0 &&
    p.categories.forward.length === 0
  );
}

// The fields `gpc: anonymize` hashes (issue #25): the ids and every trait's value.
const GPC_HASHED: readonly CompiledField[] = (
  [['userId'], ['anonymousId'], ['context', 'traits', ANY], ['traits', ANY]] as Segment[][]
).map((segments) => ({ path: '', segments, action: 'hash' as const }));

const STRICTER_IP: Record<IpMode, number> = { full: 0, truncate: 1, drop: 2 };
const STRICTER_LOCATION: Record<LocationMode, number> = { full: 0, country: 1, none: 2 };

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

/** A hash to compute and where it goes, once every rule has run. */
interface PendingHash {
  container: JsonObject | unknown[];
  key: string | number;
  value: unknown;
  text: string;
}

class Editor {
  readonly pending: PendingHash[] = [];
  readonly #marked = new Map<object, Set<string | number>>();
  /**
   * Array items to remove, once every hash is written: removing them at once would shift the
   * items a pending hash is to be written over.
   */
  readonly #arrayDrops = new Map<unknown[], Set<number>>();
  readonly counts: RedactCounts['redacted'] = { drop: 0, hash: 0, truncate: 0 };

  field(edit: EventEdit, rule: CompiledField): void {
    edit.apply(rule.segments, (container, keys) => {
      if (rule.action === 'drop') {
        if (!Array.isArray(container)) {
          removeKeys(container, keys);
          this.counts.drop += keys.length;
          return;
        }
        let drops = this.#arrayDrops.get(container);
        if (drops === undefined) this.#arrayDrops.set(container, (drops = new Set()));
        for (const key of keys) drops.add(key as number);
        return;
      }
      let marked = this.#marked.get(container);
      if (marked === undefined) this.#marked.set(container, (marked = new Set()));
      for (const key of keys) {
        // A value two rules hash is hashed once, from what it was.
        if (marked.has(key)) continue;
        marked.add(key);
        const value = (container as Record<string | number, unknown>)[key];
        this.pending.push({ container, key, value, text: hashInput(value) });
      }
    });
  }

  /** Removes the array items dropped (after the hashes are written). */
  dropArrayItems(): void {
    for (const [array, indexes] of this.#arrayDrops) {
      removeKeys(array, [...indexes]);
      this.counts.drop += indexes.size;
    }
  }

  ip(edit: EventEdit, mode: IpMode): void {
    if (mode === 'full') return;
    const context = edit.root['context'];
    if (!isJsonObject(context) || !Object.hasOwn(context, 'ip')) return;
    const ip = context['ip'];
    const masked = mode === 'truncate' && typeof ip === 'string' ? anonymizeIp(ip) : undefined;
    if (masked === ip) return;
    const owned = edit.ownChild(edit.ownRoot(), 'context') as JsonObject;
    // An address that cannot be parsed cannot be truncated: it is dropped rather than kept.
    if (masked === undefined) {
      delete owned['ip'];
      this.counts.drop += 1;
    } else {
      owned['ip'] = masked;
      this.counts.truncate += 1;
    }
  }

  location(edit: EventEdit, mode: LocationMode): void {
    if (mode === 'full') return;
    const context = edit.root['context'];
    if (!isJsonObject(context) || !Object.hasOwn(context, 'location')) return;
    const location = context['location'];
    const country = isJsonObject(location) ? location['country'] : undefined;
    if (mode === 'country' && isJsonObject(location)) {
      const keys = Object.keys(location);
      if (keys.length === 0 || (keys.length === 1 && keys[0] === 'country')) return;
    }
    const owned = edit.ownChild(edit.ownRoot(), 'context') as JsonObject;
    if (mode === 'country' && country !== undefined) owned['location'] = { country };
    else delete owned['location'];
    this.counts.drop += 1;
  }
}

function stricter<T extends string>(order: Record<T, number>, a: T, b: T): T {
  return order[a] >= order[b] ? a : b;
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

async function suppressedFlags(events: readonly QueuedEvent[], input: RedactInput) {
  const lookup = input.suppressed;
  if (lookup === undefined) return undefined;
  return Promise.all(
    events.map(async (e) => {
      for (const [kind, id] of idsOf(e.event)) if (await lookup(kind, id)) return true;
      return false;
    }),
  );
}

/** What the policy asks of every event of this request, worked out once. */
function plan(input: RedactInput) {
  const policy = input.policy;
  const anonymize = input.gpc && policy?.gpc === 'anonymize';
  return {
    ip: stricter(STRICTER_IP, policy?.ip ?? 'full', anonymize ? 'drop' : 'full'),
    location: stricter(
      STRICTER_LOCATION,
      policy?.location ?? 'full',
      anonymize ? 'country' : 'full',
    ),
    rules: anonymize ? [...(policy?.fields ?? []), ...GPC_HASHED] : (policy?.fields ?? []),
    gpcDrop: input.gpc && policy?.gpc === 'drop',
  };
}

type Decided =
  { kind: 'withheld'; reason: WithheldReason } | { kind: 'kept'; edit: EventEdit; sinks: Sink[] };

/** One event: withheld (suppressed, Sec-GPC, no consented sink), or edited by the rules. */
function decide(
  queued: QueuedEvent,
  suppressed: boolean,
  input: RedactInput,
  todo: ReturnType<typeof plan>,
  editor: Editor,
  counts: RedactCounts,
): Decided {
  if (suppressed) {
    counts.suppressed += 1;
    return { kind: 'withheld', reason: 'suppressed' };
  }
  if (todo.gpcDrop) {
    for (const sink of input.sinks) counts.consent[sink] += 1;
    return { kind: 'withheld', reason: 'gpc' };
  }
  const sinks = consentedSinks(queued.event, input.policy, input.sinks);
  for (const sink of input.sinks) if (!sinks.includes(sink)) counts.consent[sink] += 1;
  if (sinks.length === 0) return { kind: 'withheld', reason: 'consent' };
  const edit = new EventEdit(queued.event);
  for (const rule of todo.rules) editor.field(edit, rule);
  editor.ip(edit, todo.ip);
  editor.location(edit, todo.location);
  return { kind: 'kept', edit, sinks };
}

/** The event as it goes on: serialised again only when edited; its sinks when restricted. */
function finish(
  queued: QueuedEvent,
  decided: Decided & { kind: 'kept' },
  all: number,
): QueuedEvent {
  let kept = queued;
  if (decided.edit.changed) {
    const line = JSON.stringify(decided.edit.root);
    kept = { ...queued, line, bytes: utf8Length(line), event: decided.edit.root };
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
  const todo = plan(input);
  const editor = new Editor();
  const decided = events.map((queued, i) =>
    decide(queued, suppressed?.[i] === true, input, todo, editor, counts),
  );
  const hashed = await assignHashes(editor.pending, input.hash);
  editor.dropArrayItems();
  counts.redacted = { ...editor.counts, hash: hashed };
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

/** Writes each pending hash where its value still is; returns how many it wrote. */
async function assignHashes(
  pending: readonly PendingHash[],
  hash: RedactInput['hash'],
): Promise<number> {
  if (pending.length === 0) return 0;
  if (hash === undefined) throw new Error('the policy hashes, and PRIVACY_HASH_KEY is not set');
  // One HMAC per distinct text in the request (a batch repeats a user's e-mail).
  const texts = new Map<string, Promise<string>>();
  for (const p of pending) if (!texts.has(p.text)) texts.set(p.text, hash(p.text));
  const digests = new Map<string, string>();
  await Promise.all([...texts].map(async ([text, h]) => digests.set(text, await h)));
  let written = 0;
  for (const p of pending) {
    const container = p.container as Record<string | number, unknown>;
    // A later rule may have dropped it, or dropped what held it: then there is nothing to write.
    if (container[p.key] !== p.value) continue;
    container[p.key] = digests.get(p.text);
    written += 1;
  }
  return written;
}
