// How many schemas a plan can check one value against. Pure.
//
// The validator checks a value against a schema, and against every schema that applies to the
// same value: allOf, anyOf, oneOf, not, if/then/else, dependentSchemas (and draft-07
// dependencies), and what a $ref points to. Without $ref a schema is a tree and that count is
// bounded by its size; with $ref, definitions that each use the one before twice
// (`a1: {allOf: [{$ref: a0}, {$ref: a0}]}`, `a2` of `a1`, …) double it at every step, so a
// 1 KB plan can make every value cost 2^30 checks. `schemaExpansion` counts, for every schema in
// the plan, the schemas that apply to the same value through it (a $ref followed, each
// definition counted once per use), and stops counting past the cap.

import { isJsonObject } from '../segment/types';

const SAME_VALUE_ONE = ['not', 'if', 'then', 'else'] as const;
const SAME_VALUE_LIST = ['allOf', 'anyOf', 'oneOf'] as const;
const SAME_VALUE_MAP = ['dependentSchemas', 'dependencies'] as const;
// Schemas that apply to the value's members, or hold definitions: walked, not counted here.
const MEMBER_ONE = [
  'items',
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'additionalProperties',
  'unevaluatedProperties',
  'propertyNames',
] as const;
const MEMBER_LIST = ['items', 'prefixItems'] as const;
const MEMBER_MAP = ['properties', 'patternProperties', '$defs', 'definitions'] as const;

interface RefHolder {
  $ref?: unknown;
  __absolute_ref__?: string;
}

type Lookup = Readonly<Record<string, unknown>>;

function each(value: unknown, out: unknown[]): void {
  if (Array.isArray(value)) out.push(...(value as unknown[]));
  else if (isJsonObject(value)) out.push(...Object.values(value));
}

/** The schemas that apply to the same value as `schema` does. */
function sameValue(schema: Record<string, unknown>, root: unknown, lookup: Lookup): unknown[] {
  const out: unknown[] = [];
  for (const k of SAME_VALUE_ONE) if (schema[k] !== undefined) out.push(schema[k]);
  for (const k of SAME_VALUE_LIST) each(schema[k], out);
  for (const k of SAME_VALUE_MAP) {
    // draft-07 dependencies also maps names to arrays of names: those are no schemas.
    const map = schema[k];
    if (isJsonObject(map)) out.push(...Object.values(map).filter((v) => !Array.isArray(v)));
  }
  const holder = schema as RefHolder;
  if (typeof holder.$ref === 'string') {
    out.push(lookup[holder.__absolute_ref__ ?? holder.$ref]);
  }
  if (schema['$recursiveRef'] !== undefined) out.push(root);
  return out;
}

/** The schemas that apply to the value's members (or are definitions). */
function members(schema: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const k of MEMBER_ONE) if (isJsonObject(schema[k])) out.push(schema[k]);
  for (const k of MEMBER_LIST) if (Array.isArray(schema[k])) each(schema[k], out);
  for (const k of MEMBER_MAP) each(schema[k], out);
  return out;
}

/**
 * The most schemas any one value is checked against under `root` (a dereferenced schema and its
 * lookup), or `cap + 1` once it is past `cap` (a $ref cycle on the same value counts as past).
 */
export function schemaExpansion(root: unknown, lookup: Lookup, cap: number): number {
  const counted = new Map<object, number>();
  const open = new Set<object>();
  const count = (schema: unknown): number => {
    if (!isJsonObject(schema)) return 1;
    const known = counted.get(schema);
    if (known !== undefined) return known;
    if (open.has(schema)) return cap + 1;
    open.add(schema);
    let total = 1;
    for (const sub of sameValue(schema, root, lookup)) {
      total += count(sub);
      if (total > cap) break;
    }
    open.delete(schema);
    const capped = Math.min(total, cap + 1);
    counted.set(schema, capped);
    return capped;
  };
  let widest = 0;
  const seen = new Set<object>();
  const walk = (schema: unknown): void => {
    if (!isJsonObject(schema) || seen.has(schema) || widest > cap) return;
    seen.add(schema);
    widest = Math.max(widest, count(schema));
    for (const sub of [...sameValue(schema, root, lookup), ...members(schema)]) walk(sub);
  };
  walk(root);
  return widest;
}
