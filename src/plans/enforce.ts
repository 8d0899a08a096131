// Enforcement of a tracking plan on enriched events. Pure: a compiled plan and events in,
// a verdict per event out (pass, changed, blocked), and for a request the events to queue and
// the events to archive as blocked.
//
// The modes (issue #14): an unplanned track event (its name not in `events`) is annotated
// (`unplannedEvents: allow`) or blocked (`block`); a planned event whose properties or traits
// break their schema is annotated (`violations: allow`), has the failing top-level properties
// removed (`omit`: a failure at /properties/items/0/price removes properties.items), or is
// blocked (`block`). Annotations go to `context.violations`; for a source with a plan that
// key is ours, so one sent by the client is removed.

import type { Validator } from '@cfworker/json-schema';
import type { QueuedEvent } from '../segment/ingest';
import { isEventType, isJsonObject, type EventType, type JsonObject } from '../segment/types';
import { utf8Length } from '../segment/utf8';
import { VIOLATIONS_MAX_PER_EVENT } from './limits';
import { TYPE_FIELDS, type CheckedField, type CompiledPlan } from './plan';
import { clip, faults, topLevelName, violationOf, type Fault, type Violation } from './violations';

export const BLOCK_REASONS = ['violation', 'unplanned_event'] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

export type Verdict =
  | { kind: 'pass' }
  /** Delivered as `event`: annotated, stripped of a stale annotation, or with properties omitted. */
  | { kind: 'changed'; event: JsonObject; violations: Violation[] }
  | { kind: 'blocked'; event: JsonObject; reason: BlockReason; violations: Violation[] };

const PASS: Verdict = { kind: 'pass' };

/** The key of `context` the annotation is written under. */
export const ANNOTATION_KEY = 'violations';

function hasAnnotation(event: JsonObject): boolean {
  const context = event['context'];
  return isJsonObject(context) && context[ANNOTATION_KEY] !== undefined;
}

/** The event with `violations` as its context.violations (none: the key removed). */
function annotate(event: JsonObject, violations: readonly Violation[]): JsonObject {
  const { [ANNOTATION_KEY]: _old, ...context } = isJsonObject(event['context'])
    ? event['context']
    : {};
  if (violations.length > 0)
    context[ANNOTATION_KEY] = violations.slice(0, VIOLATIONS_MAX_PER_EVENT);
  return { ...event, context };
}

function changed(event: JsonObject, violations: Violation[]): Verdict {
  return { kind: 'changed', event: annotate(event, violations), violations };
}

function blocked(event: JsonObject, reason: BlockReason, violations: Violation[]): Verdict {
  return { kind: 'blocked', event: annotate(event, violations), reason, violations };
}

/** The leaf errors of `value` against `validator`; a validator that throws is one fault. */
function check(validator: Validator, value: JsonObject): Fault[] {
  try {
    const result = validator.validate(value);
    if (result.valid) return [];
    const found = faults(result.errors);
    return found.length > 0 ? found : [{ pointer: '', message: 'does not match', keyword: '' }];
  } catch (e) {
    // A key that is not valid Unicode (a lone surrogate, which JSON allows as \ud800) cannot be
    // made into a location, and a schema recursing along a deep instance can exhaust the stack.
    const why = e instanceof Error ? e.message : String(e);
    return [{ pointer: '', message: `could not be checked: ${why}`, keyword: 'unprocessable' }];
  }
}

/** What the plan makes of one enriched event of `type`. */
export function checkEvent(plan: CompiledPlan, event: JsonObject, type: EventType): Verdict {
  let validator: Validator | undefined;
  let field: CheckedField = 'properties';
  if (type === 'track') {
    const name = event['event'];
    if (plan.events !== undefined) {
      if (typeof name !== 'string' || !plan.events.has(name)) {
        const v: Violation = {
          type: 'unplanned_event',
          path: '/event',
          message: clip(`${JSON.stringify(name)} is not in the tracking plan`),
          keyword: 'unplannedEvents',
        };
        return plan.unplannedEvents === 'block'
          ? blocked(event, 'unplanned_event', [{ ...v, action: 'blocked' }])
          : changed(event, [v]);
      }
      validator = plan.events.get(name);
    }
  } else if (type !== 'alias') {
    validator = plan.types[type];
    field = TYPE_FIELDS[type];
  }
  const fallback = (): Verdict => (hasAnnotation(event) ? changed(event, []) : PASS);
  if (validator === undefined) return fallback();
  const value = event[field];
  const object = isJsonObject(value) ? value : {};
  const found = check(validator, object);
  if (found.length === 0) return fallback();
  const base = `/${field}`;
  switch (plan.violations) {
    case 'allow':
      return changed(
        event,
        found.map((f) => violationOf(base, f)),
      );
    case 'block':
      return blocked(
        event,
        'violation',
        found.map((f) => violationOf(base, f, 'blocked')),
      );
    case 'omit':
      return omit(validator, event, field, object, found);
  }
}

/**
 * `omit`: the top-level properties (or traits) holding a failure are removed and listed as
 * omitted; what the rest still breaks (a required property missing, or now missing because it
 * was omitted) is checked again and listed without an action. The event always passes.
 */
function omit(
  validator: Validator,
  event: JsonObject,
  field: CheckedField,
  object: JsonObject,
  found: readonly Fault[],
): Verdict {
  const base = `/${field}`;
  const names = new Set<string>();
  for (const f of found) {
    const name = topLevelName(f.pointer);
    if (name !== undefined && Object.hasOwn(object, name)) names.add(name);
  }
  if (names.size === 0) {
    return changed(
      event,
      found.map((f) => violationOf(base, f)),
    );
  }
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(object)) if (!names.has(key)) kept[key] = value;
  const omitted = found
    .filter((f) => names.has(topLevelName(f.pointer) ?? ''))
    .map((f) => violationOf(base, f, 'omitted'));
  const remaining = check(validator, kept).map((f) => violationOf(base, f));
  return changed({ ...event, [field]: kept }, [...omitted, ...remaining]);
}

/**
 * An archived event checked again (a replay of blocked/): our old annotation removed, then the
 * plan now in force applied; with no plan it passes as it is, without the annotation.
 */
export function recheckEvent(plan: CompiledPlan | undefined, event: JsonObject): Verdict {
  const bare = hasAnnotation(event) ? annotate(event, []) : event;
  const type = event['type'];
  const verdict = plan !== undefined && isEventType(type) ? checkEvent(plan, bare, type) : PASS;
  return verdict.kind === 'pass' && bare !== event
    ? { kind: 'changed', event: bare, violations: [] }
    : verdict;
}

/** An event a plan kept from delivery, serialised with its annotation for the archive. */
export interface BlockedEvent {
  /** Its position among the request's events (what the debugger shows it against). */
  index: number;
  line: string;
  bytes: number;
  messageId: string;
  type: EventType;
  reason: BlockReason;
}

export interface PlanOutcome {
  /** The events to queue, in order: the ones the plan left alone are the same objects. */
  deliver: readonly QueuedEvent[];
  blocked: BlockedEvent[];
  /** Events with at least one violation (an unplanned event counts), whatever was done. */
  violated: number;
  blockedBy: Record<BlockReason, number>;
}

/** The outcome for a source without a plan: everything delivered as it is. */
export function unchecked(events: readonly QueuedEvent[]): PlanOutcome {
  return {
    deliver: events,
    blocked: [],
    violated: 0,
    blockedBy: { violation: 0, unplanned_event: 0 },
  };
}

/**
 * The plan applied to one request's events. Only events the plan changed are serialised again;
 * when it changed none, `deliver` is `events` itself.
 */
export function enforcePlan(plan: CompiledPlan, events: readonly QueuedEvent[]): PlanOutcome {
  const outcome = unchecked(events);
  let deliver: QueuedEvent[] | undefined;
  for (let i = 0; i < events.length; i++) {
    const queued = events[i] as QueuedEvent;
    const verdict = checkEvent(plan, queued.event, queued.type);
    if (verdict.kind === 'pass') {
      deliver?.push(queued);
      continue;
    }
    deliver ??= events.slice(0, i);
    if (verdict.violations.length > 0) outcome.violated += 1;
    const line = JSON.stringify(verdict.event);
    const bytes = utf8Length(line);
    if (verdict.kind === 'blocked') {
      outcome.blockedBy[verdict.reason] += 1;
      outcome.blocked.push({
        index: i,
        line,
        bytes,
        messageId: queued.messageId,
        type: queued.type,
        reason: verdict.reason,
      });
    } else {
      deliver.push({ ...queued, line, bytes, event: verdict.event });
    }
  }
  if (deliver !== undefined) outcome.deliver = deliver;
  return outcome;
}
