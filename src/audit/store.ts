// The audit trail in the archive bucket: `recordAudit`, the one call every admin change makes,
// and the newest-first read behind GET /admin/audit. Adapter: the entry's rules and key are in
// src/audit/entry.ts.
//
// An entry is written after the change succeeded. If R2 refuses it the change stands (it was
// made) and the entry goes to the Worker's log instead (`audit entry not stored`, with the
// entry: it holds no personal data), so it is never silently lost.

import { auditEntry, auditKey, parseAuditEntry, type AuditEntry, type AuditInput } from './entry';
import { AUDIT_PREFIX } from './limits';

export interface AuditClock {
  now: () => number;
  newId: () => string;
}

/** Records one admin change; never throws. */
export async function recordAudit(
  bucket: R2Bucket,
  input: AuditInput,
  clock: AuditClock,
): Promise<AuditEntry> {
  const entry = auditEntry(input, clock.now(), clock.newId());
  const text = JSON.stringify(entry);
  try {
    await bucket.put(auditKey(entry), text, {
      httpMetadata: { contentType: 'application/json' },
      customMetadata: { entry: text },
    });
  } catch (e) {
    console.error('audit entry not stored', e instanceof Error ? e.message : String(e), text);
  }
  return entry;
}

export interface AuditPage {
  entries: AuditEntry[];
  truncated: boolean;
  cursor?: string;
}

/** The newest `limit` entries (after `cursor`, a previous page's), newest first. */
export async function readAudit(
  bucket: R2Bucket,
  limit: number,
  cursor: string | undefined,
): Promise<AuditPage> {
  const listing = await bucket.list({
    prefix: AUDIT_PREFIX,
    limit,
    include: ['customMetadata'],
    ...(cursor === undefined ? {} : { cursor }),
  });
  const entries: AuditEntry[] = [];
  for (const object of listing.objects) {
    // The body is the same entry: read only when the metadata is missing or damaged.
    let entry = parseAuditEntry(object.customMetadata?.['entry']);
    if (entry === undefined) {
      const body = await bucket.get(object.key);
      entry = parseAuditEntry(
        body === null ? undefined : new TextDecoder().decode(await body.arrayBuffer()),
      );
    }
    if (entry !== undefined) entries.push(entry);
  }
  return {
    entries,
    truncated: listing.truncated,
    ...(listing.truncated ? { cursor: listing.cursor } : {}),
  };
}
