// What a failed validation says, reduced to the violations a person can act on. Pure.
//
// @cfworker/json-schema reports a tree flattened in order: a keyword that applies subschemas
// (properties, items, allOf, $ref, if, …) reports "does not match" and is followed at once by
// the errors of the subschema that failed. Only the leaves name a fault; a `false` subschema's
// leaf says only "False boolean schema.", so it takes its parent's keyword and message. For
// anyOf, oneOf, contains and propertyNames the parent is the fault ("matches none of"), and its branches'
// errors are dropped. Locations come as URI fragments (`#/a%20b/0`) of RFC 6901 pointers.

import type { OutputUnit } from '@cfworker/json-schema';
import { VIOLATION_TEXT_MAX_CHARS } from './limits';

export type ViolationType = 'violation' | 'unplanned_event';

/** One entry of `context.violations`. */
export interface Violation {
  type: ViolationType;
  /** JSON pointer (RFC 6901) into the event, e.g. `/properties/total`. */
  path: string;
  message: string;
  /** The JSON Schema keyword that failed, or `unplannedEvents`. */
  keyword: string;
  action?: 'omitted' | 'blocked';
}

/** A leaf error: its pointer relative to the validated object (`''` for the object itself). */
export interface Fault {
  pointer: string;
  message: string;
  keyword: string;
}

// Keywords that report the failure of a whole set of branches: the branches' own errors are
// noise ("not a string", "not a number" for anyOf [string, number]).
const COLLAPSED = new Set(['anyOf', 'oneOf', 'propertyNames', 'contains']);

/** `#/a%20b/c~1d` → `/a b/c~1d` (still RFC 6901-escaped), or undefined if undecodable. */
export function fragmentToPointer(location: string): string | undefined {
  const fragment = location.startsWith('#') ? location.slice(1) : location;
  try {
    return decodeURIComponent(fragment);
  } catch {
    return undefined;
  }
}

/** The first token of a pointer, unescaped: the top-level property it is under. */
export function topLevelName(pointer: string): string | undefined {
  if (!pointer.startsWith('/')) return undefined;
  const end = pointer.indexOf('/', 1);
  const token = end === -1 ? pointer.slice(1) : pointer.slice(1, end);
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The leaf errors of a validation, in the validator's order. */
export function faults(errors: readonly OutputUnit[]): Fault[] {
  const out: Fault[] = [];
  let collapsedUnder: string | undefined;
  for (let i = 0; i < errors.length; i++) {
    const e = errors[i] as OutputUnit;
    if (collapsedUnder !== undefined && e.keywordLocation.startsWith(`${collapsedUnder}/`))
      continue;
    collapsedUnder = undefined;
    const next = errors[i + 1];
    if (e.keyword === 'false') {
      // The parent (the error before) says what was refused: "Property "x" does not match…".
      const parent = i > 0 ? errors[i - 1] : undefined;
      out.push({
        pointer: fragmentToPointer(e.instanceLocation) ?? '',
        message: parent?.error ?? e.error,
        keyword: parent?.keyword ?? 'false',
      });
      continue;
    }
    if (COLLAPSED.has(e.keyword)) {
      collapsedUnder = e.keywordLocation;
      // propertyNames reports on the object; its first branch error is at the offending name.
      const at = e.keyword === 'propertyNames' && next ? next.instanceLocation : e.instanceLocation;
      out.push({ pointer: fragmentToPointer(at) ?? '', message: e.error, keyword: e.keyword });
      continue;
    }
    const parentOfNext =
      next !== undefined &&
      (e.keyword === 'if' ||
        e.keyword === '$ref' ||
        e.keyword === '$recursiveRef' ||
        next.keyword === 'false' ||
        next.keywordLocation.startsWith(`${e.keywordLocation}/`));
    if (parentOfNext) continue;
    out.push({
      pointer: fragmentToPointer(e.instanceLocation) ?? '',
      message: e.error,
      keyword: e.keyword,
    });
  }
  return out;
}

/** Cuts text to VIOLATION_TEXT_MAX_CHARS, marking the cut. */
export function clip(text: string): string {
  return text.length <= VIOLATION_TEXT_MAX_CHARS
    ? text
    : `${text.slice(0, VIOLATION_TEXT_MAX_CHARS - 1)}…`;
}

/** A fault of the object at `base` (`/properties`, `/traits`) as a violation of the event. */
export function violationOf(base: string, fault: Fault, action?: Violation['action']): Violation {
  const v: Violation = {
    type: 'violation',
    path: clip(base + fault.pointer),
    message: clip(fault.message),
    keyword: fault.keyword,
  };
  if (action !== undefined) v.action = action;
  return v;
}
