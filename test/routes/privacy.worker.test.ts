// The privacy admin API through the real routes inside workerd: policies (400 naming the field,
// save, read, delete), suppressions (≤ 5,000 ids, counts only, never an id anywhere), the audit
// record of every change, and the registry's KV layout.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseAuditEntry, type AuditEntry } from '../../src/audit/entry';
import { AUDIT_PREFIX } from '../../src/audit/limits';
import type { Env } from '../../src/env';
import { SUPPRESSION_MAX_IDS_PER_CALL } from '../../src/privacy/limits';
import { harness } from '../support/worker';

const ADMIN = { Authorization: 'Bearer test-admin-token' };
const testEnv = env as unknown as Env;

function send(method: string, body: unknown, headers: Record<string, string> = ADMIN) {
  return {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

type Json = Record<string, unknown>;

const POLICY = {
  consent: { categories: { firehose: ['analytics'] } },
  fields: [{ path: '/properties/email', action: 'hash' }],
  ip: 'truncate',
};

/** Every value in the PRIVACY namespace, as text (binary shards decoded as latin1). */
async function everythingInKv(): Promise<string> {
  const kv = testEnv.PRIVACY as KVNamespace;
  const { keys } = await kv.list();
  const values = await Promise.all(
    keys.map(async (k) => {
      const bytes = new Uint8Array((await kv.get(k.name, 'arrayBuffer')) ?? new ArrayBuffer(0));
      return `${k.name}\n${String.fromCharCode(...bytes)}`;
    }),
  );
  return values.join('\n');
}

/** The audit trail's entries (as GET /admin/audit reads them) for these sources, by time. */
async function audited(...sources: string[]): Promise<AuditEntry[]> {
  const { objects } = await testEnv.ARCHIVE.list({
    prefix: AUDIT_PREFIX,
    include: ['customMetadata'],
  });
  return objects
    .map((o) => parseAuditEntry(o.customMetadata?.['entry']))
    .filter((e): e is AuditEntry => e !== undefined && sources.includes(e.source ?? ''))
    .sort((a, b) => a.at.localeCompare(b.at));
}

/** Every audit entry, as text: what must never hold an id. */
async function auditText(): Promise<string> {
  const { objects } = await testEnv.ARCHIVE.list({ prefix: AUDIT_PREFIX });
  const bodies = await Promise.all(
    objects.map(async (o) => (await testEnv.ARCHIVE.get(o.key))?.text() ?? ''),
  );
  return bodies.join('\n');
}

describe('admin API for privacy policies', () => {
  it('refuses without the admin token', async () => {
    const h = harness();
    expect((await h.fetch('/admin/privacy/web', send('PUT', POLICY, {}))).status).toBe(401);
    expect((await h.fetch('/admin/privacy/web')).status).toBe(401);
    expect((await h.fetch('/admin/suppressions', send('POST', {}, {}))).status).toBe(401);
    expect((await h.fetch('/admin/suppressions')).status).toBe(401);
    expect(await audited('web')).toEqual([]);
  });

  it('saves, answers and deletes a policy with every default filled in', async () => {
    const h = harness();
    const saved = await h.fetch('/admin/privacy/pol-crud', send('PUT', POLICY));
    expect(saved.status).toBe(200);
    const { version } = await saved.json<{ version: string }>();
    const got = await h.fetch('/admin/privacy/pol-crud', { headers: ADMIN });
    expect(await got.json()).toEqual({
      success: true,
      source: 'pol-crud',
      version,
      policy: {
        consent: { categories: { firehose: ['analytics'] }, missing: 'allow' },
        gpc: 'ignore',
        fields: [{ path: '/properties/email', action: 'hash' }],
        ip: 'truncate',
        location: 'full',
      },
    });
    const listed = await (await h.fetch('/admin/privacy', { headers: ADMIN })).json<Json>();
    expect((listed['policies'] as Json)['pol-crud']).toBe(version);
    const deleted = await h.fetch('/admin/privacy/pol-crud', { method: 'DELETE', headers: ADMIN });
    expect(await deleted.json()).toEqual({ success: true, source: 'pol-crud', deleted: version });
    expect((await h.fetch('/admin/privacy/pol-crud', { headers: ADMIN })).status).toBe(404);
    expect(
      (await h.fetch('/admin/privacy/pol-crud', { method: 'DELETE', headers: ADMIN })).status,
    ).toBe(404);
    const trail = await audited('pol-crud');
    expect(trail.map((e) => [e.action, e.role, e.changed['version']])).toEqual([
      ['privacy_policy.put', 'admin', version],
      ['privacy_policy.delete', 'admin', version],
    ]);
  });

  it('refuses a bad policy with a 400 naming the field, and saves nothing', async () => {
    const h = harness();
    const bad = await h.fetch(
      '/admin/privacy/pol-bad',
      send('PUT', { fields: [{ path: '/properties/email', action: 'mask' }] }),
    );
    expect(bad.status).toBe(400);
    const body = await bad.json<{ error: Json }>();
    expect(body.error['code']).toBe('invalid_policy');
    expect(body.error['field']).toBe('/fields/0/action');
    expect((await h.fetch('/admin/privacy/pol-bad', send('PUT', 'not json'))).status).toBe(400);
    expect((await h.fetch('/admin/privacy/pol-bad', { headers: ADMIN })).status).toBe(404);
    expect(await audited('pol-bad')).toEqual([]);
  });

  it('refuses a hash rule while PRIVACY_HASH_KEY is unset', async () => {
    const h = harness();
    const res = await h.fetch('/admin/privacy/pol-nokey', send('PUT', POLICY), {
      PRIVACY_HASH_KEY: '',
    });
    expect(res.status).toBe(400);
    const body = await res.json<{ error: Json }>();
    expect(body.error['field']).toBe('/fields/0/action');
    expect(String(body.error['message'])).toContain('PRIVACY_HASH_KEY');
  });

  it('refuses a source name that is not one', async () => {
    const h = harness();
    expect((await h.fetch('/admin/privacy/*', send('PUT', {}))).status).toBe(400);
  });

  it('answers 404 when privacy is not bound', async () => {
    const h = harness();
    const res = await h.fetch('/admin/privacy/web', send('PUT', {}), { PRIVACY: undefined });
    expect(res.status).toBe(404);
  });
});

describe('admin API for suppressions', () => {
  it('adds and removes ids, answering counts only; no id anywhere', async () => {
    const h = harness();
    const ids = { userIds: ['u-secret-1', 'u-secret-2'], anonymousIds: ['a-secret-1'] };
    const added = await h.fetch('/admin/suppressions', send('POST', { source: 'sup-web', ...ids }));
    expect(added.status).toBe(200);
    const addedText = await added.text();
    expect(JSON.parse(addedText)).toEqual({
      success: true,
      source: 'sup-web',
      added: 3,
      suppressed: { userIds: 2, anonymousIds: 1 },
    });
    // Again: nothing new.
    const again = await h.fetch('/admin/suppressions', send('POST', { source: 'sup-web', ...ids }));
    expect((await again.json<Json>())['added']).toBe(0);
    const listed = await h.fetch('/admin/suppressions?source=sup-web', { headers: ADMIN });
    const listedText = await listed.text();
    expect(JSON.parse(listedText)).toEqual({
      success: true,
      suppressions: { 'sup-web': { userIds: 2, anonymousIds: 1 } },
    });
    const removed = await h.fetch(
      '/admin/suppressions/remove',
      send('POST', { source: 'sup-web', userIds: ['u-secret-2'] }),
    );
    expect(await removed.json()).toEqual({
      success: true,
      source: 'sup-web',
      removed: 1,
      suppressed: { userIds: 1, anonymousIds: 1 },
    });
    const kv = await everythingInKv();
    const trailText = await auditText();
    for (const id of [...ids.userIds, ...ids.anonymousIds]) {
      expect(addedText).not.toContain(id);
      expect(listedText).not.toContain(id);
      expect(kv).not.toContain(id);
      expect(trailText).not.toContain(id);
    }
    expect(kv).toContain('suppressions:sup-web:0:0:');
    const trail = await audited('sup-web');
    // Entries made in the same millisecond have no order between them: compared as a set.
    expect(trail.map((e) => [e.action, e.role, e.changed['ids'], e.changed['changed']])).toEqual(
      expect.arrayContaining([
        ['suppressions.add', 'admin', 3, 3],
        ['suppressions.add', 'admin', 3, 0],
        ['suppressions.remove', 'admin', 1, 1],
      ]),
    );
    expect(trail).toHaveLength(3);
  });

  it('takes "*" for every source and lists every source without ?source', async () => {
    const h = harness();
    await h.fetch('/admin/suppressions', send('POST', { source: '*', userIds: ['u-everywhere'] }));
    const all = await (await h.fetch('/admin/suppressions', { headers: ADMIN })).json<Json>();
    expect((all['suppressions'] as Json)['*']).toEqual({ userIds: 1, anonymousIds: 0 });
    await h.fetch(
      '/admin/suppressions/remove',
      send('POST', { source: '*', userIds: ['u-everywhere'] }),
    );
  });

  it(`refuses more than ${SUPPRESSION_MAX_IDS_PER_CALL} ids a call, and bad ids, naming the field`, async () => {
    const h = harness();
    const many = {
      source: 'sup-many',
      userIds: Array.from({ length: SUPPRESSION_MAX_IDS_PER_CALL }, (_v, i) => `u${i}`),
      anonymousIds: ['one-too-many'],
    };
    const res = await h.fetch('/admin/suppressions', send('POST', many));
    expect(res.status).toBe(400);
    expect((await res.json<{ error: Json }>()).error['field']).toBe('.userIds');
    for (const [body, field] of [
      [{ source: 'sup-bad', userIds: ['ok', ''] }, '.userIds[1]'],
      [{ source: 'sup-bad', anonymousIds: 'a' }, '.anonymousIds'],
      [{ source: 'sup bad', userIds: ['u'] }, '.source'],
      [{ source: 'sup-bad' }, '.userIds'],
    ] as const) {
      const r = await h.fetch('/admin/suppressions', send('POST', body));
      expect(r.status).toBe(400);
      expect((await r.json<{ error: Json }>()).error['field']).toBe(field);
    }
    expect(await audited('sup-many', 'sup-bad', 'sup bad')).toEqual([]);
  });

  it('takes exactly 5,000 ids in one call', async () => {
    const h = harness();
    const body = {
      source: 'sup-5000',
      userIds: Array.from({ length: SUPPRESSION_MAX_IDS_PER_CALL }, (_v, i) => `user-${i}`),
    };
    const res = await h.fetch('/admin/suppressions', send('POST', body));
    expect(await res.json()).toMatchObject({ added: 5000, suppressed: { userIds: 5000 } });
  });

  it('refuses suppressions while PRIVACY_HASH_KEY is unset: ids are never kept raw', async () => {
    const h = harness();
    const res = await h.fetch(
      '/admin/suppressions',
      send('POST', { source: 'sup-nokey', userIds: ['u1'] }),
      { PRIVACY_HASH_KEY: '' },
    );
    expect(res.status).toBe(503);
    expect((await res.json<{ error: Json }>()).error['code']).toBe('privacy_unavailable');
  });
});
