// A source's privacy policy: the document an operator PUTs, checked and compiled. Pure.
//
//   {
//     "consent": { "categories": { "firehose": ["analytics"], "forward": ["advertising"] },
//                  "missing": "allow" | "deny" },
//     "gpc": "ignore" | "anonymize" | "drop",
//     "fields": [ { "path": "/properties/email", "action": "hash" | "drop" }, … ],
//     "ip": "full" | "truncate" | "drop",
//     "location": "full" | "country" | "none"
//   }
//
// Every key is optional; the first value listed is the default. A bad policy is refused with
// `invalid_policy` naming the offending place as a JSON Pointer into the policy (`field`).

import { pointerToken } from '../plans/schema';
import { ingestError, type IngestError } from '../segment/errors';
import { err, isJsonObject, ok, type Result } from '../segment/types';
import { CONSENT_MAX_CATEGORIES, POINTER_MAX_SEGMENTS, POLICY_MAX_FIELD_RULES } from './limits';
import { compileRules, type Rule, type RuleNode } from './fields';
import { ANY, parsePointer, type Segment } from './pointer';

/** Where events go once queued: Firehose (with its archive) and the forward copy. */
export const SINKS = ['firehose', 'forward'] as const;
export type Sink = (typeof SINKS)[number];

export const MISSING_MODES = ['allow', 'deny'] as const;
export const GPC_MODES = ['ignore', 'anonymize', 'drop'] as const;
export const FIELD_ACTIONS = ['drop', 'hash'] as const;
export const IP_MODES = ['full', 'truncate', 'drop'] as const;
export const LOCATION_MODES = ['full', 'country', 'none'] as const;
export type MissingMode = (typeof MISSING_MODES)[number];
export type GpcMode = (typeof GPC_MODES)[number];
export type FieldAction = (typeof FIELD_ACTIONS)[number];
export type IpMode = (typeof IP_MODES)[number];
export type LocationMode = (typeof LOCATION_MODES)[number];

// Fields delivery itself depends on: the dedupe key, the call type and the source.
const PROTECTED_FIELDS = new Set(['messageId', 'type', 'source']);

/** The policy as stored and answered: every default filled in. */
export interface PolicyDocument {
  consent: { categories: Partial<Record<Sink, string[]>>; missing: MissingMode };
  gpc: GpcMode;
  fields: Array<{ path: string; action: FieldAction }>;
  ip: IpMode;
  location: LocationMode;
}

export interface CompiledField {
  path: string;
  segments: readonly Segment[];
  action: FieldAction;
}

/** A policy ready to apply: each sink's required categories, each rule's pointer parsed. */
export interface CompiledPolicy {
  /** The categories a sink needs all consented; a sink not listed needs none. */
  categories: Readonly<Record<Sink, readonly string[]>>;
  missing: MissingMode;
  gpc: GpcMode;
  fields: readonly CompiledField[];
  ip: IpMode;
  location: LocationMode;
  /** Whether applying it can hash (a hash rule, or gpc anonymize): PRIVACY_HASH_KEY needed. */
  hashes: boolean;
  /** The field rules with `ip` and `location`, as one tree (fields.ts); undefined: none. */
  rules: RuleNode | undefined;
  /** The same for a request with `Sec-GPC: 1` (with `gpc: anonymize`'s hashes). */
  gpcRules: RuleNode | undefined;
}

export interface ParsedPolicy {
  document: PolicyDocument;
  compiled: CompiledPolicy;
}

const TOP_KEYS = ['consent', 'gpc', 'fields', 'ip', 'location'];

function invalid(pointer: string, message: string): { ok: false; error: IngestError } {
  return err(ingestError('invalid_policy', `${pointer}: ${message}`, pointer));
}

function unknownKey(value: Record<string, unknown>, allowed: readonly string[], at: string) {
  const extra = Object.keys(value).find((k) => !allowed.includes(k));
  return extra === undefined
    ? undefined
    : invalid(
        `${at}/${pointerToken(extra)}`,
        `unknown key; the keys here are ${allowed.map((k) => `"${k}"`).join(', ')}`,
      );
}

function mode<T extends string>(
  value: unknown,
  allowed: readonly T[],
  at: string,
): Result<T, IngestError> {
  if (value === undefined) return ok(allowed[0] as T);
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
    return ok(value as T);
  return invalid(at, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
}

function parseConsent(raw: unknown): Result<PolicyDocument['consent'], IngestError> {
  if (raw === undefined) return ok({ categories: {}, missing: 'allow' });
  if (!isJsonObject(raw))
    return invalid('/consent', 'must be an object like {"categories": {…}, "missing": "allow"}');
  const extra = unknownKey(raw, ['categories', 'missing'], '/consent');
  if (extra !== undefined) return extra;
  const missing = mode(raw['missing'], MISSING_MODES, '/consent/missing');
  if (!missing.ok) return missing;
  const rawCategories = raw['categories'] ?? {};
  if (!isJsonObject(rawCategories))
    return invalid('/consent/categories', 'must map sinks ("firehose", "forward") to categories');
  const sinkKeys = unknownKey(rawCategories, SINKS, '/consent/categories');
  if (sinkKeys !== undefined) return sinkKeys;
  const categories: Partial<Record<Sink, string[]>> = {};
  for (const sink of SINKS) {
    const list = rawCategories[sink];
    if (list === undefined) continue;
    const at = `/consent/categories/${sink}`;
    if (!Array.isArray(list)) return invalid(at, 'must be an array of category names');
    if (list.length > CONSENT_MAX_CATEGORIES)
      return invalid(at, `at most ${CONSENT_MAX_CATEGORIES} categories`);
    const bad = list.findIndex((c) => typeof c !== 'string' || c === '');
    if (bad !== -1) return invalid(`${at}/${bad}`, 'a category is a non-empty string');
    categories[sink] = [...new Set(list as string[])];
  }
  return ok({ categories, missing: missing.value });
}

function parseField(raw: unknown, at: string): Result<CompiledField, IngestError> {
  if (!isJsonObject(raw))
    return invalid(at, 'a rule is an object like {"path": "/properties/email", "action": "hash"}');
  const extra = unknownKey(raw, ['path', 'action'], at);
  if (extra !== undefined) return extra;
  const path = raw['path'];
  if (typeof path !== 'string') return invalid(`${at}/path`, 'must be a JSON Pointer string');
  const parsed = parsePointer(path);
  if (!parsed.ok) return invalid(`${at}/path`, parsed.why);
  const [first] = parsed.segments;
  if (first === ANY || (first !== undefined && PROTECTED_FIELDS.has(first))) {
    return invalid(
      `${at}/path`,
      `messageId, type and source cannot be dropped or hashed: delivery depends on them`,
    );
  }
  if (parsed.segments.length > POINTER_MAX_SEGMENTS)
    return invalid(`${at}/path`, `at most ${POINTER_MAX_SEGMENTS} segments`);
  if (raw['action'] === undefined) return invalid(`${at}/action`, 'is required');
  const action = mode(raw['action'], FIELD_ACTIONS, `${at}/action`);
  if (!action.ok) return action;
  return ok({ path, segments: parsed.segments, action: action.value });
}

function parseFields(raw: unknown): Result<CompiledField[], IngestError> {
  if (raw === undefined) return ok([]);
  if (!Array.isArray(raw)) return invalid('/fields', 'must be an array of rules');
  if (raw.length > POLICY_MAX_FIELD_RULES)
    return invalid('/fields', `at most ${POLICY_MAX_FIELD_RULES} rules`);
  const out: CompiledField[] = [];
  for (let i = 0; i < raw.length; i++) {
    const field = parseField(raw[i], `/fields/${i}`);
    if (!field.ok) return field;
    out.push(field.value);
  }
  return ok(out);
}

// The fields `gpc: anonymize` hashes (issue #25): the ids and every trait's value; and it drops
// the IP address and keeps the location's country.
const GPC_ANONYMIZE: readonly Rule[] = [
  { segments: ['userId'], action: 'hash' },
  { segments: ['anonymousId'], action: 'hash' },
  { segments: ['context', 'traits', ANY], action: 'hash' },
  { segments: ['traits', ANY], action: 'hash' },
  { segments: ['context', 'ip'], action: 'drop' },
  { segments: ['context', 'location'], action: 'country' },
];

/** Every rule of the policy as a path and an action; `gpc` adds anonymize's. */
function rulesOf(document: PolicyDocument, fields: readonly CompiledField[], gpc: boolean) {
  const rules: Rule[] = fields.map((f) => ({ segments: f.segments, action: f.action }));
  if (document.ip !== 'full')
    rules.push({
      segments: ['context', 'ip'],
      action: document.ip === 'drop' ? 'drop' : 'truncate',
    });
  if (document.location !== 'full') {
    const action = document.location === 'none' ? 'drop' : 'country';
    rules.push({ segments: ['context', 'location'], action });
  }
  if (gpc && document.gpc === 'anonymize') rules.push(...GPC_ANONYMIZE);
  return rules.length === 0 ? undefined : compileRules(rules);
}

/**
 * The policy in `raw` (parsed JSON), checked and compiled. `hashKeySet` says whether the secret
 * PRIVACY_HASH_KEY is set: a policy that hashes is refused without it, at save time.
 */
export function parsePolicy(raw: unknown, hashKeySet: boolean): Result<ParsedPolicy, IngestError> {
  if (!isJsonObject(raw)) return invalid('', 'a privacy policy must be a JSON object');
  const extra = unknownKey(raw, TOP_KEYS, '');
  if (extra !== undefined) return extra;
  const consent = parseConsent(raw['consent']);
  if (!consent.ok) return consent;
  const gpc = mode(raw['gpc'], GPC_MODES, '/gpc');
  if (!gpc.ok) return gpc;
  const fields = parseFields(raw['fields']);
  if (!fields.ok) return fields;
  const ip = mode(raw['ip'], IP_MODES, '/ip');
  if (!ip.ok) return ip;
  const location = mode(raw['location'], LOCATION_MODES, '/location');
  if (!location.ok) return location;
  const hashRule = fields.value.findIndex((f) => f.action === 'hash');
  const hashes = hashRule !== -1 || gpc.value === 'anonymize';
  if (hashes && !hashKeySet) {
    return invalid(
      hashRule !== -1 ? `/fields/${hashRule}/action` : '/gpc',
      'hashing needs the secret PRIVACY_HASH_KEY, which is not set (wrangler secret put PRIVACY_HASH_KEY)',
    );
  }
  const document: PolicyDocument = {
    consent: consent.value,
    gpc: gpc.value,
    fields: fields.value.map((f) => ({ path: f.path, action: f.action })),
    ip: ip.value,
    location: location.value,
  };
  const compiled: CompiledPolicy = {
    categories: {
      firehose: consent.value.categories.firehose ?? [],
      forward: consent.value.categories.forward ?? [],
    },
    missing: consent.value.missing,
    gpc: gpc.value,
    fields: fields.value,
    ip: ip.value,
    location: location.value,
    hashes,
    rules: rulesOf(document, fields.value, false),
    gpcRules: rulesOf(document, fields.value, true),
  };
  return ok({ document, compiled });
}
