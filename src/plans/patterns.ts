// Every regular expression a tracking plan runs on event data, with its JSON pointer into the
// plan, and the check that refuses a plan whose expressions are not linear. Pure: the verdict on
// one expression is injected (src/plans/redos.ts runs recheck).
//
// A plan runs an expression in two places (@cfworker/json-schema 4.1.6, validate.js): `pattern`
// on each string it checks (`new RegExp(pattern, 'u').test(string)`, unanchored) and each
// `patternProperties` name on each property name; and `format` runs the library's own
// expressions, one of which (`url`) backtracks exponentially.

import { ingestError, type IngestError } from '../segment/errors';
import { err, isJsonObject, ok, type Result } from '../segment/types';
import { TYPE_FIELDS, type PlanDocument, type PlannedType } from './plan';
import { SCHEMA_MAX_DEPTH } from './limits';
import {
  pointerToken,
  SCHEMA_ARRAY_KEYWORDS,
  SCHEMA_KEYWORDS,
  SCHEMA_MAP_KEYWORDS,
} from './schema';

/** One expression of a plan: `pattern` or a `patternProperties` name, and where it is. */
export interface PlanRegex {
  at: string;
  source: string;
}

/** What a checker says of one expression: linear in the string, or why it is not. */
export type RegexVerdict = { linear: true } | { linear: false; why: string };

export type RegexCheck = (source: string) => Promise<RegexVerdict>;

// @cfworker/json-schema 4.1.6 format.js: `url` is `(?:[a-z…0-9]+-?)*[a-z…0-9]+`, a starred group
// whose body can match the same letters two ways: recheck finds it exponential, and
// "http://" + 22 letters + "!" takes 65 ms (Node 20), each letter more doubling it. `uri`, the
// standard format, runs a linear expression.
export const SUPER_LINEAR_FORMATS: Readonly<Record<string, string>> = {
  url: 'format "url" backtracks exponentially in @cfworker/json-schema; use "uri"',
};

/** A format the plan may not use, and where; undefined when there is none. */
export interface PlanFormat {
  at: string;
  why: string;
}

interface Found {
  regexes: PlanRegex[];
  formats: PlanFormat[];
}

/** Walks one schema (already shape-checked by compileSchema) the way the validator does. */
function walk(schema: unknown, at: string, found: Found, depth: number): void {
  if (!isJsonObject(schema) || depth > SCHEMA_MAX_DEPTH) return;
  const here = (keyword: string): string => `${at}/${pointerToken(keyword)}`;
  if (typeof schema['pattern'] === 'string') {
    found.regexes.push({ at: here('pattern'), source: schema['pattern'] });
  }
  const format = schema['format'];
  if (typeof format === 'string' && SUPER_LINEAR_FORMATS[format] !== undefined) {
    found.formats.push({ at: here('format'), why: SUPER_LINEAR_FORMATS[format] });
  }
  for (const keyword of SCHEMA_KEYWORDS) walk(schema[keyword], here(keyword), found, depth + 1);
  for (const keyword of [...SCHEMA_ARRAY_KEYWORDS, 'items']) {
    const list = schema[keyword];
    if (!Array.isArray(list)) {
      if (keyword === 'items') walk(list, here(keyword), found, depth + 1);
      continue;
    }
    list.forEach((sub, i) => walk(sub, `${here(keyword)}/${i}`, found, depth + 1));
  }
  for (const keyword of [...SCHEMA_MAP_KEYWORDS, 'dependencies']) {
    const map = schema[keyword];
    if (!isJsonObject(map)) continue;
    for (const [name, sub] of Object.entries(map)) {
      const pointer = `${here(keyword)}/${pointerToken(name)}`;
      if (keyword === 'patternProperties') found.regexes.push({ at: pointer, source: name });
      walk(sub, pointer, found, depth + 1);
    }
  }
}

/** Every expression and refused format in a plan's schemas, in the plan's order. */
export function planPatterns(plan: PlanDocument): Found {
  const found: Found = { regexes: [], formats: [] };
  for (const [name, entry] of Object.entries(plan.events ?? {})) {
    walk(entry.properties, `/events/${pointerToken(name)}/properties`, found, 0);
  }
  for (const type of Object.keys(TYPE_FIELDS) as PlannedType[]) {
    const field = TYPE_FIELDS[type];
    const section = plan[type] as Record<string, unknown> | undefined;
    walk(section?.[field], `/${type}/${field}`, found, 0);
  }
  return found;
}

/**
 * Refuses a plan (400 invalid_plan, naming the JSON pointer) that uses a refused format or an
 * expression the checker does not find linear. Each distinct expression is checked once.
 */
export async function checkPlanPatterns(
  plan: PlanDocument,
  check: RegexCheck,
): Promise<Result<{ regexes: number }, IngestError>> {
  const found = planPatterns(plan);
  const [format] = found.formats;
  if (format !== undefined) {
    return err(ingestError('invalid_plan', `${format.at}: ${format.why}`, format.at));
  }
  const verdicts = new Map<string, RegexVerdict>();
  for (const regex of found.regexes) {
    let verdict = verdicts.get(regex.source);
    if (verdict === undefined) {
      verdict = await check(regex.source);
      verdicts.set(regex.source, verdict);
    }
    if (!verdict.linear) {
      const message = `${regex.at}: ${JSON.stringify(regex.source)} ${verdict.why}`;
      return err(ingestError('invalid_plan', message, regex.at));
    }
  }
  return ok({ regexes: verdicts.size });
}
