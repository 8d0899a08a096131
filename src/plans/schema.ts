// Compiling one JSON Schema of a tracking plan into a validator. Pure.
//
// @cfworker/json-schema validates without generating code (Workers forbid eval and
// new Function), but it does not check a schema against its meta-schema: a misspelt type or a
// broken pattern would only fail, or throw, on some later event. So a schema is checked here
// first, keyword by keyword, for the shapes the validator relies on (JSON Schema 2020-12
// "Validation" and draft-07 "Validation", the keywords @cfworker/json-schema implements), then
// dereferenced, and every $ref must resolve inside the schema (remote ones are never fetched).

import { dereference, Validator, type Schema, type SchemaDraft } from '@cfworker/json-schema';
import { err, isJsonObject, ok, type Result } from '../segment/types';
import { schemaExpansion } from './expansion';
import { SCHEMA_MAX_DEPTH, SCHEMA_MAX_EXPANSION } from './limits';

/** The drafts a plan may use (issue #14): 2020-12 unless the schema's `$schema` says draft-07. */
export type PlanDraft = Extract<SchemaDraft, '7' | '2020-12'>;

// JSON Schema draft-07 and 2020-12 meta-schema URIs, with and without the empty fragment.
const DRAFTS: Readonly<Record<string, PlanDraft>> = {
  'http://json-schema.org/draft-07/schema': '7',
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
};

const TYPES = new Set(['array', 'boolean', 'integer', 'null', 'number', 'object', 'string']);

// Keywords whose value is a schema, an array of schemas, or a map of names to schemas.
export const SCHEMA_KEYWORDS = [
  'additionalItems',
  'unevaluatedItems',
  'contains',
  'additionalProperties',
  'unevaluatedProperties',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
] as const;
export const SCHEMA_ARRAY_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
export const SCHEMA_MAP_KEYWORDS = [
  '$defs',
  'definitions',
  'properties',
  'patternProperties',
  'dependentSchemas',
] as const;
const COUNT_KEYWORDS = [
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minContains',
  'maxContains',
] as const;
const NUMBER_KEYWORDS = ['minimum', 'maximum'] as const;
// 2020-12 drafts use $dynamicRef, which @cfworker/json-schema does not implement: refuse it
// rather than let it pass every instance.
const UNSUPPORTED_KEYWORDS = ['$dynamicRef', '$dynamicAnchor'] as const;

/** A JSON pointer token (RFC 6901): `~` and `/` escaped. */
export function pointerToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function compiles(pattern: string): boolean {
  try {
    // @cfworker/json-schema builds every pattern with the `u` flag.
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');

/** What is wrong with a schema, and where: a JSON pointer into it (`''` for its root). */
export interface SchemaProblem {
  at: string;
  message: string;
}

const problem = (at: string, message: string): SchemaProblem => ({ at, message });

/** The first problem with a schema's shape; undefined when sound. */
function shapeProblem(
  schema: unknown,
  at: string,
  draft: PlanDraft,
  depth = 0,
): SchemaProblem | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (depth > SCHEMA_MAX_DEPTH) return problem(at, `schemas nest at most ${SCHEMA_MAX_DEPTH} deep`);
  if (!isJsonObject(schema)) return problem(at, `a schema must be an object or a boolean`);
  const here = (keyword: string): string => `${at}/${pointerToken(keyword)}`;
  for (const keyword of UNSUPPORTED_KEYWORDS) {
    if (schema[keyword] !== undefined) return problem(here(keyword), `${keyword} is not supported`);
  }
  const type = schema['type'];
  if (type !== undefined) {
    const list = Array.isArray(type) ? type : [type];
    if (list.length === 0 || list.some((t) => typeof t !== 'string' || !TYPES.has(t))) {
      return problem(
        here('type'),
        `type must be one of ${[...TYPES].join(', ')}, or a list of them`,
      );
    }
  }
  if (schema['required'] !== undefined && !isStringArray(schema['required'])) {
    return problem(here('required'), `required must be an array of property names`);
  }
  if (schema['enum'] !== undefined && !Array.isArray(schema['enum'])) {
    return problem(here('enum'), `enum must be an array`);
  }
  for (const keyword of ['$ref', '$id', '$anchor', 'format'] as const) {
    if (schema[keyword] !== undefined && typeof schema[keyword] !== 'string') {
      return problem(here(keyword), `${keyword} must be a string`);
    }
  }
  if (schema['pattern'] !== undefined) {
    const pattern = schema['pattern'];
    if (typeof pattern !== 'string' || !compiles(pattern)) {
      return problem(here('pattern'), `pattern must be a valid regular expression`);
    }
  }
  for (const keyword of COUNT_KEYWORDS) {
    if (schema[keyword] !== undefined && !isCount(schema[keyword])) {
      return problem(here(keyword), `${keyword} must be a non-negative integer`);
    }
  }
  for (const keyword of NUMBER_KEYWORDS) {
    if (schema[keyword] !== undefined && typeof schema[keyword] !== 'number') {
      return problem(here(keyword), `${keyword} must be a number`);
    }
  }
  for (const keyword of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
    const value = schema[keyword];
    // draft-04 used booleans here; draft-07 and 2020-12 take the bound itself.
    if (value !== undefined && typeof value !== 'number') {
      return problem(here(keyword), `${keyword} must be a number`);
    }
  }
  const multipleOf = schema['multipleOf'];
  if (multipleOf !== undefined && !(typeof multipleOf === 'number' && multipleOf > 0)) {
    return problem(here('multipleOf'), `multipleOf must be a number above 0`);
  }
  if (schema['uniqueItems'] !== undefined && typeof schema['uniqueItems'] !== 'boolean') {
    return problem(here('uniqueItems'), `uniqueItems must be a boolean`);
  }
  const dependentRequired = schema['dependentRequired'];
  if (dependentRequired !== undefined) {
    if (!isJsonObject(dependentRequired) || !Object.values(dependentRequired).every(isStringArray))
      return problem(
        here('dependentRequired'),
        `dependentRequired must map names to arrays of names`,
      );
  }
  for (const keyword of SCHEMA_KEYWORDS) {
    if (schema[keyword] === undefined) continue;
    const inner = shapeProblem(schema[keyword], here(keyword), draft, depth + 1);
    if (inner !== undefined) return inner;
  }
  for (const keyword of SCHEMA_ARRAY_KEYWORDS) {
    const list = schema[keyword];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0)
      return problem(here(keyword), `${keyword} must be a non-empty array of schemas`);
    for (let i = 0; i < list.length; i++) {
      const inner = shapeProblem(list[i], `${here(keyword)}/${i}`, draft, depth + 1);
      if (inner !== undefined) return inner;
    }
  }
  const items = schema['items'];
  if (items !== undefined) {
    if (Array.isArray(items)) {
      // draft-07 "items" as a list is the tuple form; 2020-12 moved it to "prefixItems".
      if (draft !== '7') return problem(here('items'), `items must be a schema (use prefixItems)`);
      for (let i = 0; i < items.length; i++) {
        const inner = shapeProblem(items[i], `${here('items')}/${i}`, draft, depth + 1);
        if (inner !== undefined) return inner;
      }
    } else {
      const inner = shapeProblem(items, here('items'), draft, depth + 1);
      if (inner !== undefined) return inner;
    }
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = schema[keyword];
    if (map === undefined) continue;
    if (!isJsonObject(map))
      return problem(here(keyword), `${keyword} must be an object of schemas`);
    for (const [name, sub] of Object.entries(map)) {
      if (keyword === 'patternProperties' && !compiles(name)) {
        return problem(`${here(keyword)}/${pointerToken(name)}`, `not a valid regular expression`);
      }
      const inner = shapeProblem(sub, `${here(keyword)}/${pointerToken(name)}`, draft, depth + 1);
      if (inner !== undefined) return inner;
    }
  }
  const dependencies = schema['dependencies'];
  if (dependencies !== undefined) {
    if (!isJsonObject(dependencies)) return problem(here('dependencies'), `must be an object`);
    for (const [name, dep] of Object.entries(dependencies)) {
      if (isStringArray(dep)) continue;
      const inner = shapeProblem(
        dep,
        `${here('dependencies')}/${pointerToken(name)}`,
        draft,
        depth + 1,
      );
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

// Keywords whose values are data, not schemas: a `$ref` inside them is just a value.
const VALUE_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);

interface RefHolder {
  $ref?: unknown;
  __absolute_ref__?: string;
}

/** Every object in a dereferenced schema that holds a $ref. */
function refHolders(value: unknown, out: RefHolder[] = [], depth = 0): RefHolder[] {
  // shapeProblem bounded the nesting of schemas; values (enum, const) may nest deeper and hold
  // no schema that matters here.
  if (depth > SCHEMA_MAX_DEPTH * 2 || typeof value !== 'object' || value === null) return out;
  if (Array.isArray(value)) {
    for (const item of value) refHolders(item, out, depth + 1);
    return out;
  }
  const holder = value as RefHolder & Record<string, unknown>;
  if (typeof holder.$ref === 'string') out.push(holder);
  for (const key of Object.keys(holder)) {
    if (!VALUE_KEYWORDS.has(key)) refHolders(holder[key], out, depth + 1);
  }
  return out;
}

/** The draft a schema declares with `$schema`, 2020-12 when it declares none. */
export function schemaDraft(schema: unknown): Result<PlanDraft, SchemaProblem> {
  if (!isJsonObject(schema) || schema['$schema'] === undefined) return ok('2020-12');
  const declared = schema['$schema'];
  const draft = typeof declared === 'string' ? DRAFTS[declared.replace(/#$/, '')] : undefined;
  return draft === undefined
    ? err(
        problem(
          '/$schema',
          'only draft-07 (http://json-schema.org/draft-07/schema#) and 2020-12 ' +
            '(https://json-schema.org/draft/2020-12/schema) are supported',
        ),
      )
    : ok(draft);
}

/**
 * A validator for `raw` reporting every error (not only the first), or the problem that keeps
 * it from compiling. `raw` is never modified.
 */
export function compileSchema(raw: unknown): Result<Validator, SchemaProblem> {
  const draft = schemaDraft(raw);
  if (!draft.ok) return draft;
  const found = shapeProblem(raw, '', draft.value);
  if (found !== undefined) return err(found);
  // dereference marks the schema it walks: work on a copy, so the plan as stored stays clean.
  const schema = structuredClone(raw) as Schema | boolean;
  try {
    const lookup = dereference(schema) as Record<string, unknown>;
    for (const holder of refHolders(schema)) {
      const uri = holder.__absolute_ref__ ?? String(holder.$ref);
      if (lookup[uri] === undefined) {
        return err(
          problem('', `$ref ${JSON.stringify(holder.$ref)} does not resolve within the schema`),
        );
      }
    }
    // Before the walk below, which a schema that multiplies its checks would make endless.
    const widest = schemaExpansion(schema, lookup, SCHEMA_MAX_EXPANSION);
    if (widest > SCHEMA_MAX_EXPANSION) {
      return err(
        problem(
          '',
          `checks one value against more than ${SCHEMA_MAX_EXPANSION} schemas ($ref used ` +
            'within allOf, anyOf or oneOf multiplies them)',
        ),
      );
    }
    const validator = new Validator(schema, draft.value, false);
    // Walk it once: anything left that throws (a $ref into a non-schema) throws here, not later.
    validator.validate({});
    return ok(validator);
  } catch (e) {
    const why = e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
    return err(problem('', `cannot be compiled: ${why}`));
  }
}
