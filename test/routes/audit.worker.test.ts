// The audit trail through the real routes: a plan change and a replay appear in GET /admin/audit,
// newest first, with the role that made them and no token; pages; who may read it.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/entry';
import { AUDIT_PREFIX } from '../../src/audit/limits';
import type { Env } from '../../src/env';
import { encodeDeadLetter } from '../../src/archive/format';
import { archiveBatch } from '../../src/archive/writer';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { captureErrors } from '../support/console';
import { fixedDeps, harness } from '../support/worker';

const testEnv = env as unknown as Env;
const ADMIN_TOKEN = 'test-admin-token'; // vitest.config.ts
const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };

// Far in the future, so this file's entries are the newest in the shared bucket.
let clock = Date.parse('2200-01-01T00:00:00.000Z');
function auditHarness() {
  const deps = { ...fixedDeps(), now: () => (clock += 1000), newId: () => crypto.randomUUID() };
  return harness({ deps });
}

interface AuditAnswer {
  success: boolean;
  entries: AuditEntry[];
  truncated: boolean;
  cursor?: string;
}

async function newest(h: ReturnType<typeof harness>, limit: number): Promise<AuditAnswer> {
  const res = await h.fetch(`/admin/audit?limit=${limit}`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return res.json<AuditAnswer>();
}

/** A dead-letter object in the archive, as the DLQ consumer writes it; returns its key. */
async function deadLetterObject(source: string): Promise<string> {
  const at = Date.parse('2026-11-29T10:00:00.000Z');
  const [m] = packMessages(
    [{ line: JSON.stringify({ type: 'track', messageId: 'm1' }), messageId: 'm1' }],
    { source, receivedAt: at },
  );
  const decoded = decodeMessage(m?.body);
  if (decoded === undefined) throw new Error('pack');
  const body = encodeDeadLetter(decoded, { reason: 'X', attempts: 1, at }, 'tok');
  const batch = createMessageBatch<unknown>('ndc-segment-dlq', [
    { id: 'd0', timestamp: new Date(at), attempts: 1, body },
  ]);
  const report = await archiveBatch(batch, testEnv, {
    now: () => at,
    random: () => 0.5,
    newId: () => crypto.randomUUID(),
  });
  await getQueueResult(batch, createExecutionContext());
  if (report.key === undefined) throw new Error('not archived');
  return report.key;
}

describe('audit trail', () => {
  it('records a plan put, a plan delete and a replay, newest first, with the role and no token', async () => {
    const h = auditHarness();
    const plan = { events: { 'Order Completed': {} }, violations: 'block' };
    const put = await h.fetch('/admin/tracking-plans/audited', {
      method: 'PUT',
      headers: ADMIN,
      body: JSON.stringify(plan),
    });
    expect(put.status).toBe(200);
    const { version } = await put.json<{ version: string }>();
    const del = await h.fetch('/admin/tracking-plans/audited', {
      method: 'DELETE',
      headers: ADMIN,
    });
    expect(del.status).toBe(200);
    const key = await deadLetterObject('audited');
    const replay = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    expect(replay.status).toBe(200);
    expect(h.queue.calls.length).toBeGreaterThan(0);

    const answer = await newest(h, 3);
    expect(answer.entries.map((e) => [e.action, e.source, e.role])).toEqual([
      ['replay', null, 'admin'],
      ['tracking_plan.delete', 'audited', 'admin'],
      ['tracking_plan.put', 'audited', 'admin'],
    ]);
    const [replayed, deleted, saved] = answer.entries;
    expect(replayed?.changed).toMatchObject({ objects: 1, events: 1, busy: 0, failed: false });
    expect(deleted?.changed).toEqual({ version });
    expect(saved?.changed).toMatchObject({
      version,
      bytes: JSON.stringify(plan).length,
      events: 1,
      violations: 'block',
    });
    expect(Date.parse(replayed?.at ?? '')).toBeGreaterThan(Date.parse(saved?.at ?? ''));
    // Neither the answer nor what is stored holds the token.
    expect(JSON.stringify(answer)).not.toContain(ADMIN_TOKEN);
    const stored = await testEnv.ARCHIVE.list({ prefix: AUDIT_PREFIX, limit: 3 });
    for (const object of stored.objects) {
      const text = await (await testEnv.ARCHIVE.get(object.key))?.text();
      expect(text).not.toContain(ADMIN_TOKEN);
    }
  });

  it('pages with limit and cursor, and checks limit', async () => {
    const h = auditHarness();
    for (const source of ['p1', 'p2', 'p3']) {
      await h.fetch(`/admin/tracking-plans/${source}`, {
        method: 'PUT',
        headers: ADMIN,
        body: '{}',
      });
    }
    const first = await newest(h, 2);
    expect(first.entries.map((e) => e.source)).toEqual(['p3', 'p2']);
    expect(first.truncated).toBe(true);
    const next = await h.fetch(
      `/admin/audit?limit=1&cursor=${encodeURIComponent(first.cursor ?? '')}`,
      { headers: ADMIN },
    );
    expect((await next.json<AuditAnswer>()).entries.map((e) => e.source)).toEqual(['p1']);
    for (const limit of ['0', '1001', 'x']) {
      const bad = await h.fetch(`/admin/audit?limit=${limit}`, { headers: ADMIN });
      expect(bad.status).toBe(400);
    }
  });

  it('answers 401 without ADMIN_TOKEN and 403 to DEBUGGER_TOKEN', async () => {
    const h = auditHarness();
    expect((await h.fetch('/admin/audit')).status).toBe(401);
    const viewer = await h.fetch('/admin/audit', {
      headers: { Authorization: 'Bearer test-debugger-token' },
    });
    expect(viewer.status).toBe(403);
  });

  it('records a replay that failed midway, with what it had done', async () => {
    const h = harness({ deps: { ...fixedDeps(), now: () => (clock += 1000) }, failQueue: true });
    const errors = captureErrors();
    const key = await deadLetterObject('audit-fail');
    const res = await h.fetch('/admin/replay', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ prefix: key }),
    });
    expect(res.status).toBe(503);
    expect(errors).toHaveBeenCalledWith('replay enqueue failed', expect.any(String));
    const [entry] = (await newest(h, 1)).entries;
    expect(entry).toMatchObject({ action: 'replay', role: 'admin' });
    expect(entry?.changed).toMatchObject({ objects: 0, events: 0, failed: true });
  });

  it('keeps the change and logs the entry when R2 refuses it', async () => {
    const h = auditHarness();
    const errors = captureErrors();
    const refusing = new Proxy(testEnv.ARCHIVE, {
      get(target, prop) {
        if (prop === 'put') return () => Promise.reject(new Error('R2 down'));
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const res = await h.fetch(
      '/admin/tracking-plans/audit-r2-down',
      { method: 'PUT', headers: ADMIN, body: '{}' },
      { ARCHIVE: refusing },
    );
    expect(res.status).toBe(200);
    expect(errors).toHaveBeenCalledWith(
      'audit entry not stored',
      'R2 down',
      expect.stringContaining('"action":"tracking_plan.put"'),
    );
  });
});
