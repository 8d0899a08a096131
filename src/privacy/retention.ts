// Archive retention (issue #25): which archive objects a run deletes. Pure: the var, the cutoff,
// and the choice within one listed page.
//
// Every prefix of the ARCHIVE bucket is covered (dead-letters/, blocked/, replayed/,
// forward-dead-letters/, forward-replayed/, replay-claims/, and any added later) but the audit
// trail (audit/: kept as long as the operator chooses, docs/security.md) and retention's own
// state: a run
// walks the bucket in key order, at most RETENTION_MAX_PAGES_PER_RUN pages of R2_LIST_MAX_KEYS,
// and the next run goes on after the last key it saw, starting over once it reached the end. An
// object's age is its upload time, as an R2 lifecycle rule counts it.

import { AUDIT_PREFIX } from '../audit/limits';
import { ARCHIVE_RETENTION_DAYS_DEFAULT } from './limits';

/** Where a run records how far it got, in the bucket itself; never deleted by retention. */
export const RETENTION_STATE_KEY = 'retention/state.json';
const RETENTION_PREFIX = 'retention/';

const DAY_MS = 86_400_000;

/** ARCHIVE_RETENTION_DAYS: a whole number of days ≥ 0 (0: keep forever), else the default. */
export function retentionDays(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isInteger(n) && n >= 0
    ? n
    : ARCHIVE_RETENTION_DAYS_DEFAULT;
}

/** Objects uploaded before this time (ms) are deleted by a run at `now`. */
export function retentionCutoff(now: number, days: number): number {
  return now - days * DAY_MS;
}

export interface ListedObject {
  key: string;
  uploaded: Date;
}

/** Prefixes retention never deletes: its own state, and the audit trail. */
const KEPT_PREFIXES = [RETENTION_PREFIX, AUDIT_PREFIX];

/** The keys of a listed page to delete: older than the cutoff, the kept prefixes aside. */
export function expiredKeys(objects: readonly ListedObject[], cutoff: number): string[] {
  return objects
    .filter((o) => !KEPT_PREFIXES.some((p) => o.key.startsWith(p)) && o.uploaded.getTime() < cutoff)
    .map((o) => o.key);
}

/** The state a run leaves: the last key it saw, or none when it walked to the bucket's end. */
export interface RetentionState {
  after?: string;
}

export function parseRetentionState(text: string | undefined): RetentionState {
  if (text === undefined) return {};
  try {
    const value: unknown = JSON.parse(text);
    const after =
      typeof value === 'object' && value !== null
        ? (value as { after?: unknown }).after
        : undefined;
    return typeof after === 'string' && after !== '' ? { after } : {};
  } catch {
    return {};
  }
}
