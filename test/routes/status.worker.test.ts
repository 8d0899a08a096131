// The status page and GET /admin/status inside workerd: the page is self-contained (inline
// script and style by hash, the debugger's sign-in), the data needs ADMIN_TOKEN or the read-only
// DEBUGGER_TOKEN, and events posted through the real Worker are counted for their source
// (received, rejected) and, once the real queue consumer delivered them to the local Firehose,
// delivered with their lag.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SESSION_SCRIPT } from '../../src/debugger/session';
import { STATUS_MINUTES, type StatusSeries } from '../../src/metrics/minutes';
import { STATUS_SCRIPT, STATUS_STYLE } from '../../src/status/page';
import { VALID_CALLS } from '../fixtures/calls';
import { eventually } from '../support/firehose';
import { basic, harness } from '../support/worker';

const ADMIN = { Authorization: 'Bearer test-admin-token' };

async function status(): Promise<StatusSeries> {
  const res = await exports.default.fetch('https://collector.test/admin/status', {
    headers: ADMIN,
  });
  expect(res.status).toBe(200);
  return res.json<StatusSeries>();
}

const total = (values: ReadonlyArray<number | null> | undefined): number =>
  (values ?? []).reduce<number>((a, b) => a + (b ?? 0), 0);

describe('GET /admin/status', () => {
  it('answers 401 without the admin token, or with another', async () => {
    const h = harness();
    expect((await h.fetch('/admin/status')).status).toBe(401);
    const wrong = await h.fetch('/admin/status', { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await h.fetch('/admin/status', {}, { ADMIN_TOKEN: '' })).status).toBe(401);
  });

  it('opens to the read-only DEBUGGER_TOKEN too, as the debugger does', async () => {
    const h = harness();
    const viewer = { headers: { Authorization: 'Bearer test-debugger-token' } };
    expect((await h.fetch('/admin/status', viewer)).status).toBe(200);
    expect((await h.fetch('/admin/status', viewer, { ADMIN_TOKEN: '' })).status).toBe(200);
    expect((await h.fetch('/admin/audit', viewer)).status).toBe(403);
    const page = await (await h.fetch('/status', {}, { ADMIN_TOKEN: '' })).text();
    expect(page).toContain('data-enabled="true"');
  });

  it('gives the last hour by minute for every configured source', async () => {
    const body = await status();
    expect(body.minutes).toHaveLength(STATUS_MINUTES);
    expect(Date.parse(body.minutes.at(-1) ?? '')).toBeLessThanOrEqual(Date.now());
    expect(Date.now() - Date.parse(body.minutes.at(-1) ?? '')).toBeLessThan(60_000);
    expect(Object.keys(body.sources)).toEqual(
      expect.arrayContaining(['web', 'metrics-src', 'ndc-demo']),
    );
    for (const field of ['received', 'delivered', 'rejected', 'deadLettered', 'lagSeconds'])
      expect(body.sources['web']).toHaveProperty(field, expect.any(Array));
  });

  it('counts posted events for their source: received, rejected, then delivered with a lag', async () => {
    const source = 'status-src';
    const before = (await status()).sources[source];
    const batch = [VALID_CALLS.track, VALID_CALLS.page, { type: 'track' }];
    const res = await exports.default.fetch('https://collector.test/v1/batch', {
      method: 'POST',
      headers: { Authorization: basic('test-key-status') },
      body: JSON.stringify({ batch }),
    });
    expect(res.status).toBe(200);
    const after = await eventually(async () => {
      const now = (await status()).sources[source];
      const landed =
        total(now?.received) === total(before?.received) + 2 &&
        total(now?.rejected) === total(before?.rejected) + 1 &&
        total(now?.delivered) === total(before?.delivered) + 2;
      return landed ? now : undefined;
    }, 20_000);
    const minute = after?.delivered.findLastIndex((d, i) => d > (before?.delivered[i] ?? 0)) ?? -1;
    expect(after?.lagSeconds[minute]).toEqual(expect.any(Number));
    expect(after?.lagMaxSeconds[minute]).toBeGreaterThanOrEqual(0);
  });
});

describe('GET /status', () => {
  it("is self-contained: inline script and style by hash, with the debugger's sign-in", async () => {
    const res = await harness().fetch('/status');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    const hash = async (text: string): Promise<string> => {
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
      return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
    };
    expect(csp).toContain(`script-src ${await hash(STATUS_SCRIPT)}`);
    expect(csp).toContain(`style-src ${await hash(STATUS_STYLE)}`);
    expect(csp).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain(`<script>${STATUS_SCRIPT}</script>`);
    expect(html).toContain('data-enabled="true"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(STATUS_SCRIPT.startsWith(SESSION_SCRIPT)).toBe(true);
    expect(STATUS_SCRIPT).toContain("'status-chart'");
    expect(STATUS_SCRIPT).not.toContain('localStorage');
  });

  it('explains how to turn it on while neither token is set', async () => {
    const res = await harness().fetch('/status', {}, { ADMIN_TOKEN: '', DEBUGGER_TOKEN: '' });
    const html = await res.text();
    expect(html).toContain('data-enabled="false"');
    expect(html).toContain('npx wrangler secret put ADMIN_TOKEN');
  });
});
