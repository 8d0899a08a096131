// What the audit trail records of one admin change, and where it is kept. Pure.
//
// An entry says when, what (the action), which source it concerns, the role that did it and
// what changed as sizes, counts, versions and modes: never an event, a payload, a user id or a
// token. `auditEntry` enforces the shape (numbers, booleans and short strings only), so a caller
// cannot put a document or a list into the trail by mistake.
//
// Keys are `audit/<13 digits: AUDIT_KEY_EPOCH_MS − time in ms>-<id>.json`. R2 lists keys in
// ascending UTF-8 order (R2 `list()` reference), so the newest change comes first in a listing
// and GET /admin/audit reads one page of the newest with a single list call, the entry being in
// the object's custom metadata too.

import type { Role } from './role';
import {
  AUDIT_CHANGED_MAX_KEYS,
  AUDIT_KEY_EPOCH_MS,
  AUDIT_PREFIX,
  AUDIT_VALUE_MAX_CHARS,
} from './limits';

/**
 * Every action the trail knows. Features that add admin changes add theirs here and call
 * `recordAudit` (src/audit/store.ts) once per change.
 */
export type AuditAction =
  | 'tracking_plan.put'
  | 'tracking_plan.delete'
  | 'replay'
  | 'privacy_policy.put'
  | 'privacy_policy.delete'
  | 'suppressions.add'
  | 'suppressions.remove';

export type AuditValue = number | boolean | string | null;

export interface AuditInput {
  action: AuditAction;
  /** The source the change concerns; null for one that spans sources. */
  source: string | null;
  /** The role whose token made the change (src/routes/roles.ts). */
  role: Role;
  /** What changed: sizes, counts, versions, modes. */
  changed: Readonly<Record<string, AuditValue>>;
}

export interface AuditEntry extends AuditInput {
  id: string;
  /** ISO 8601, the server's clock. */
  at: string;
}

function bounded(value: AuditValue): AuditValue {
  if (typeof value === 'string' && value.length > AUDIT_VALUE_MAX_CHARS) {
    return `${value.slice(0, AUDIT_VALUE_MAX_CHARS - 1)}…`;
  }
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/** The entry for a change made at `now` (ms), its values bounded. */
export function auditEntry(input: AuditInput, now: number, id: string): AuditEntry {
  const changed: Record<string, AuditValue> = {};
  for (const [key, value] of Object.entries(input.changed).slice(0, AUDIT_CHANGED_MAX_KEYS)) {
    changed[key.slice(0, AUDIT_VALUE_MAX_CHARS)] = bounded(value);
  }
  return {
    id,
    at: new Date(now).toISOString(),
    action: input.action,
    source: input.source === null ? null : bounded(input.source),
    role: input.role,
    changed,
  } as AuditEntry;
}

/** Where an entry is kept: newer entries sort first. */
export function auditKey(entry: Pick<AuditEntry, 'at' | 'id'>): string {
  const inverted = AUDIT_KEY_EPOCH_MS - Date.parse(entry.at);
  return `${AUDIT_PREFIX}${String(Math.max(0, inverted)).padStart(13, '0')}-${entry.id}.json`;
}

const ROLES: ReadonlySet<string> = new Set(['admin', 'viewer']);

/** An entry read back (from custom metadata or the body); undefined when not one. */
export function parseAuditEntry(text: string | undefined): AuditEntry | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<AuditEntry> | null;
    if (
      v === null ||
      typeof v !== 'object' ||
      typeof v.id !== 'string' ||
      typeof v.at !== 'string' ||
      typeof v.action !== 'string' ||
      typeof v.role !== 'string' ||
      !ROLES.has(v.role) ||
      typeof v.changed !== 'object' ||
      v.changed === null
    ) {
      return undefined;
    }
    return v as AuditEntry;
  } catch {
    return undefined;
  }
}
