// GET /admin/audit?limit=&cursor=: the audit trail, newest first (Bearer ADMIN_TOKEN), and the
// one helper the admin routes call after each change. Adapter: the trail is in src/audit/.

import type { Context } from 'hono';
import type { AuditAction, AuditValue } from '../audit/entry';
import { AUDIT_LIST_DEFAULT, AUDIT_LIST_MAX } from '../audit/limits';
import { readAudit, recordAudit } from '../audit/store';
import { ingestError } from '../segment/errors';
import type { AppDeps, AppEnv } from './deps';
import { IngestHttpError } from './error-response';
import { authorize } from './roles';

type Ctx = Context<AppEnv>;

/**
 * Records one admin change in the audit trail, with the role the request was granted: the one
 * call each admin action makes once its change is done (src/audit/store.ts).
 */
export async function audit(
  c: Ctx,
  deps: Pick<AppDeps, 'now' | 'newId'>,
  action: AuditAction,
  source: string | null,
  changed: Record<string, AuditValue>,
): Promise<void> {
  const role = c.get('role') ?? (await authorize(c, 'admin'));
  await recordAudit(c.env.ARCHIVE, { action, source, role, changed }, deps);
}

function limitParam(value: string | undefined): number {
  if (value === undefined || value === '') return AUDIT_LIST_DEFAULT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > AUDIT_LIST_MAX) {
    throw new IngestHttpError(
      ingestError('invalid_field', `limit must be an integer from 1 to ${AUDIT_LIST_MAX}`, 'limit'),
    );
  }
  return n;
}

export async function getAudit(c: Ctx): Promise<Response> {
  await authorize(c, 'admin');
  const cursor = c.req.query('cursor');
  const page = await readAudit(
    c.env.ARCHIVE,
    limitParam(c.req.query('limit')),
    cursor === undefined || cursor === '' ? undefined : cursor,
  );
  return c.json({ success: true, ...page }, 200, { 'Cache-Control': 'no-store' });
}
