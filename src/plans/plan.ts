// A source's tracking plan: the document an operator PUTs, checked and compiled into validators.
// Pure.
//
//   {
//     "events": { "Order Completed": { "properties": { "type": "object", ... } } },
//     "identify": { "traits": { ... } },  "group": { "traits": { ... } },
//     "page": { "properties": { ... } },  "screen": { "properties": { ... } },
//     "unplannedEvents": "allow" | "block",
//     "violations": "allow" | "omit" | "block"
//   }
//
// Every key is optional. `events` maps track event names to a schema for their `properties`;
// when `events` is absent the plan says nothing about track calls (none is unplanned). alias
// calls are never checked.

import type { Validator } from '@cfworker/json-schema';
import { ingestError, type IngestError } from '../segment/errors';
import { err, isJsonObject, ok, type EventType, type Result } from '../segment/types';
import { compileSchema, pointerToken } from './schema';

export const UNPLANNED_MODES = ['allow', 'block'] as const;
export type UnplannedMode = (typeof UNPLANNED_MODES)[number];
export const VIOLATION_MODES = ['allow', 'omit', 'block'] as const;
export type ViolationMode = (typeof VIOLATION_MODES)[number];

/** The call types a plan gives one schema each, and the field that schema checks. */
export const TYPE_FIELDS = {
  identify: 'traits',
  group: 'traits',
  page: 'properties',
  screen: 'properties',
} as const satisfies Partial<Record<EventType, string>>;
export type PlannedType = keyof typeof TYPE_FIELDS;
export type CheckedField = 'properties' | 'traits';

/** The plan as stored and answered: the operator's schemas as given, the modes filled in. */
export interface PlanDocument {
  events?: Record<string, { properties?: unknown }>;
  identify?: { traits?: unknown };
  group?: { traits?: unknown };
  page?: { properties?: unknown };
  screen?: { properties?: unknown };
  unplannedEvents: UnplannedMode;
  violations: ViolationMode;
}

/** A plan ready to check events: one validator per schema, built once per plan version. */
export interface CompiledPlan {
  /** Track event names → the validator of their properties (undefined: any properties). */
  events: ReadonlyMap<string, Validator | undefined> | undefined;
  types: Readonly<Partial<Record<PlannedType, Validator>>>;
  unplannedEvents: UnplannedMode;
  violations: ViolationMode;
}

export interface ParsedPlan {
  document: PlanDocument;
  compiled: CompiledPlan;
}

const TOP_KEYS = new Set(['events', 'unplannedEvents', 'violations', ...Object.keys(TYPE_FIELDS)]);

function invalid(pointer: string, message: string): { ok: false; error: IngestError } {
  return err(ingestError('invalid_plan', `${pointer}: ${message}`, pointer));
}

/** An object holding at most the one key `field`, whose value compiles as a schema. */
function section(
  value: unknown,
  field: CheckedField,
  at: string,
): Result<{ schema: unknown; validator: Validator | undefined }, IngestError> {
  if (!isJsonObject(value)) return invalid(at, `must be an object like {"${field}": {...}}`);
  const extra = Object.keys(value).find((k) => k !== field);
  if (extra !== undefined) {
    return invalid(`${at}/${pointerToken(extra)}`, `unknown key; the only key here is "${field}"`);
  }
  const schema = value[field];
  if (schema === undefined) return ok({ schema, validator: undefined });
  const compiled = compileSchema(schema);
  // The problem's pointer into the schema follows the section's: /events/X/properties/required.
  if (!compiled.ok) return invalid(`${at}/${field}${compiled.error.at}`, compiled.error.message);
  return ok({ schema, validator: compiled.value });
}

function mode<T extends string>(
  value: unknown,
  allowed: readonly T[],
  key: string,
): Result<T, IngestError> {
  if (value === undefined) return ok(allowed[0] as T);
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
    return ok(value as T);
  return invalid(`/${key}`, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
}

/**
 * The plan in `raw` (parsed JSON), checked and compiled: every schema is compiled here, so an
 * invalid plan is refused before it is saved, naming the problem and where it is (a JSON
 * pointer into the plan).
 */
export function parsePlan(raw: unknown): Result<ParsedPlan, IngestError> {
  if (!isJsonObject(raw)) return invalid('', 'a tracking plan must be a JSON object');
  const unknownKey = Object.keys(raw).find((k) => !TOP_KEYS.has(k));
  if (unknownKey !== undefined) {
    return invalid(
      `/${pointerToken(unknownKey)}`,
      `unknown key; a plan has ${[...TOP_KEYS].map((k) => `"${k}"`).join(', ')}`,
    );
  }
  const unplanned = mode(raw['unplannedEvents'], UNPLANNED_MODES, 'unplannedEvents');
  if (!unplanned.ok) return unplanned;
  const violations = mode(raw['violations'], VIOLATION_MODES, 'violations');
  if (!violations.ok) return violations;
  const compiled: CompiledPlan = {
    events: undefined,
    types: {},
    unplannedEvents: unplanned.value,
    violations: violations.value,
  };
  // Built in the format's order (events, the call types, the modes), as GET answers it.
  const document: Record<string, unknown> = {};

  const events = raw['events'];
  if (events !== undefined) {
    if (!isJsonObject(events))
      return invalid('/events', 'must map event names to {"properties": schema}');
    const docEvents: Record<string, { properties?: unknown }> = {};
    const validators = new Map<string, Validator | undefined>();
    for (const [name, entry] of Object.entries(events)) {
      if (name === '') return invalid('/events/', 'an event name must not be empty');
      const s = section(entry, 'properties', `/events/${pointerToken(name)}`);
      if (!s.ok) return s;
      docEvents[name] = s.value.schema === undefined ? {} : { properties: s.value.schema };
      validators.set(name, s.value.validator);
    }
    document['events'] = docEvents;
    compiled.events = validators;
  }
  const types: Partial<Record<PlannedType, Validator>> = {};
  for (const type of Object.keys(TYPE_FIELDS) as PlannedType[]) {
    const value = raw[type];
    if (value === undefined) continue;
    const field = TYPE_FIELDS[type];
    const s = section(value, field, `/${type}`);
    if (!s.ok) return s;
    document[type] = s.value.schema === undefined ? {} : { [field]: s.value.schema };
    if (s.value.validator !== undefined) types[type] = s.value.validator;
  }
  compiled.types = types;
  document['unplannedEvents'] = unplanned.value;
  document['violations'] = violations.value;
  return ok({ document: document as unknown as PlanDocument, compiled });
}
