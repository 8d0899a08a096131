// The debugger's routes through the Worker's app in workerd, with the real Durable Objects and
// Cache API: token checks, the page, the API read back of accepted and rejected events, arming,
// the WebSocket, what is never captured, and what a request costs with and without a watcher.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { registryReads, registryWrites, sourceObject } from '../../src/debugger/isolate';
import {
  DEBUGGER_PAGE_LEASE_SECONDS,
  DEBUGGER_REVOKED_CLOSE_CODE,
  DEBUGGER_SAMPLE_EVENTS_PER_SECOND,
} from '../../src/debugger/limits';
import type { SocketMessage } from '../../src/debugger/object';
import { PAGE_SCRIPT, PAGE_STYLE } from '../../src/debugger/page';
import type { RingEvent } from '../../src/debugger/ring';
import { DebuggerTap } from '../../src/debugger/tap';
import type { Env } from '../../src/env';
import { SEED_TRACK, VALID_CALLS } from '../fixtures/calls';
import { captureErrors } from '../support/console';
import { basic, BASE_URL, fixedDeps, harness, jsonPost, type Harness } from '../support/worker';

const TOKEN = 'test-admin-token'; // vitest.config.ts
const VIEWER = 'test-debugger-token'; // vitest.config.ts: DEBUGGER_TOKEN
// Sources of this file's own, so armings made by one test (they last minutes, in the shared
// registry) cannot make another test's source watched.
const KEYS = {
  api: 'dbg-key-api-0000001',
  quiet: 'dbg-key-quiet-000002',
  secret: 'dbg-key-secret-00003',
  socket: 'dbg-key-socket-00004',
  cost: 'dbg-key-cost-0000005',
  other: 'dbg-key-other-000006',
} as const;
const WRITE_KEYS = Object.entries(KEYS)
  .map(([source, key]) => `${key}=dbg-${source}`)
  .join(',');
const overrides: Partial<Env> = { WRITE_KEYS };

// An events queue in an outage: every send refused.
const DOWN_QUEUE = {
  send: () => Promise.reject(new Error('simulated outage')),
  sendBatch: () => Promise.reject(new Error('simulated outage')),
  metrics: async () => ({ backlogCount: 0, backlogBytes: 0 }),
} as unknown as Queue<string>;

const bearer = (token = TOKEN): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** A harness whose ingest requests go through a tap of its own (the isolate's is not used). */
function debuggerHarness(): Harness & { tap: DebuggerTap; get(path: string): Promise<Response> } {
  const tap = new DebuggerTap(() => Date.now());
  const h = harness({ deps: { ...fixedDeps(), tap } });
  const fetch = (path: string, init?: RequestInit<CfProperties>, more: Partial<Env> = {}) =>
    h.fetch(path, init, { ...overrides, ...more });
  return {
    queue: h.queue,
    tap,
    fetch,
    get: (path: string) => fetch(path, { headers: bearer() }),
  };
}

interface EventsAnswer {
  source: string;
  events: RingEvent[];
  skipped: number;
}

async function readEvents(h: { get(path: string): Promise<Response> }, query: string) {
  const res = await h.get(`/debugger/events?${query}`);
  expect(res.status).toBe(200);
  return res.json<EventsAnswer>();
}

/** Polls the API until `ids` are all there (captures reach the object within a second). */
async function eventsWith(
  h: { get(path: string): Promise<Response> },
  source: string,
  ids: readonly string[],
): Promise<RingEvent[]> {
  for (let i = 0; i < 100; i++) {
    const { events } = await readEvents(h, `source=${source}`);
    const mine = events.filter((e) => ids.includes(String(e.messageId)));
    if (mine.length >= ids.length) return mine;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`events ${ids.join(', ')} never reached ${source}`);
}

describe('debugger access', () => {
  it('serves the page, which explains how to turn the debugger on when no token is set', async () => {
    const h = debuggerHarness();
    const off = await h.fetch('/debugger', {}, { ADMIN_TOKEN: '', DEBUGGER_TOKEN: '' });
    expect(off.status).toBe(200);
    const html = await off.text();
    expect(html).toContain('data-enabled="false"');
    expect(html).toContain('wrangler secret put ADMIN_TOKEN');
    const on = await h.fetch('/debugger');
    expect(await on.text()).toContain('data-enabled="true"');
  });

  it('answers 401 everywhere but the page when neither token is set', async () => {
    const h = debuggerHarness();
    for (const [method, path] of [
      ['GET', '/debugger/sources'],
      ['POST', '/debugger/watch?source=dbg-api'],
      ['GET', '/debugger/events?source=dbg-api'],
    ] as const) {
      const off = { ADMIN_TOKEN: '', DEBUGGER_TOKEN: '' };
      const res = await h.fetch(path, { method, headers: bearer() }, off);
      expect(res.status, path).toBe(401);
      const body = await res.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.message).toContain('disabled until ADMIN_TOKEN or DEBUGGER_TOKEN is set');
    }
  });

  it('opens the debugger to DEBUGGER_TOKEN alone, without ADMIN_TOKEN set', async () => {
    const h = debuggerHarness();
    const page = await h.fetch('/debugger', {}, { ADMIN_TOKEN: '' });
    expect(await page.text()).toContain('data-enabled="true"');
    const res = await h.fetch(
      '/debugger/sources',
      { headers: bearer(VIEWER) },
      { ADMIN_TOKEN: '' },
    );
    expect(res.status).toBe(200);
  });

  it('answers 401 to a wrong or missing token', async () => {
    const h = debuggerHarness();
    for (const headers of [bearer('wrong-token'), {}, { Authorization: `Basic ${btoa(TOKEN)}` }]) {
      for (const [method, path] of [
        ['GET', '/debugger/sources'],
        ['POST', '/debugger/watch?source=dbg-api'],
        ['GET', '/debugger/events?source=dbg-api'],
      ] as const) {
        const res = await h.fetch(path, { method, headers });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
  });

  it('opens a WebSocket only with a fresh ticket for that source', async () => {
    const h = debuggerHarness();
    const upgrade = { headers: { Upgrade: 'websocket' } };
    const watch = await h.fetch('/debugger/watch?source=dbg-socket', {
      method: 'POST',
      headers: bearer(),
    });
    const { ticket } = await watch.json<{ ticket: string }>();
    for (const query of [
      'source=dbg-socket', // no ticket
      `source=dbg-socket&ticket=${ticket.slice(0, -2)}xx`, // altered
      `source=dbg-other&ticket=${ticket}`, // another source's
      `source=dbg-socket&ticket=${TOKEN}`, // the token itself is no ticket
    ]) {
      const res = await h.fetch(`/debugger/ws?${query}`, upgrade);
      expect(res.status, query).toBe(401);
    }
    // A ticket made with another ADMIN_TOKEN (rotated since) is refused.
    const rotated = await h.fetch(`/debugger/ws?source=dbg-socket&ticket=${ticket}`, upgrade, {
      ADMIN_TOKEN: 'rotated-token',
    });
    expect(rotated.status).toBe(401);
    const plain = await h.fetch(`/debugger/ws?source=dbg-socket&ticket=${ticket}`);
    expect(plain.status).toBe(426);
  });

  it('lists the configured sources, and refuses a source that is not one', async () => {
    const h = debuggerHarness();
    const res = await h.get('/debugger/sources');
    expect(await res.json()).toEqual({
      sources: Object.keys(KEYS)
        .map((s) => `dbg-${s}`)
        .sort(),
    });
    expect((await h.get('/debugger/events?source=nope')).status).toBe(400);
    expect((await h.get('/debugger/events')).status).toBe(400);
    expect((await h.get('/debugger/events?source=dbg-api&status=maybe')).status).toBe(400);
    expect((await h.get('/debugger/events?source=dbg-api&limit=501')).status).toBe(400);
  });
});

describe('debugger page', () => {
  it('is self-contained: inline style and script allowed by hash, nothing from another host', async () => {
    const h = debuggerHarness();
    const res = await h.fetch('/debugger');
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    const hash = async (text: string): Promise<string> => {
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
      return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
    };
    expect(csp).toContain(`script-src ${await hash(PAGE_SCRIPT)}`);
    expect(csp).toContain(`style-src ${await hash(PAGE_STYLE)}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toContain(`<script>${PAGE_SCRIPT}</script>`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(PAGE_SCRIPT).toContain("'debugger-event'");
    // The token lives in sessionStorage and headers only: never in a URL or localStorage.
    expect(PAGE_SCRIPT).toContain('sessionStorage');
    expect(PAGE_SCRIPT).not.toContain('localStorage');
    expect(PAGE_SCRIPT).not.toMatch(/searchParams\.set\('token'/);
  });
});

describe('debugger API', () => {
  it('reads back posted events newest first, accepted as enriched and rejected with their error', async () => {
    const h = debuggerHarness();
    // The first read arms the source.
    expect((await readEvents(h, 'source=dbg-api')).source).toBe('dbg-api');
    const auth = {
      Authorization: basic(KEYS.api),
      'CF-Connecting-IP': '203.0.113.9',
      'User-Agent': 'debugger-test/1.0',
    };
    await h.fetch('/v1/track', jsonPost({ ...VALID_CALLS.track, messageId: 'api-1' }, auth));
    await h.fetch('/v1/track', jsonPost({ anonymousId: 'a', messageId: 'api-2' }, auth));
    await h.fetch(
      '/v1/batch',
      jsonPost(
        {
          batch: [
            { ...VALID_CALLS.identify, messageId: 'api-3' },
            { type: 'group', userId: 'u', messageId: 'api-4' },
          ],
        },
        auth,
      ),
    );
    const events = await eventsWith(h, 'dbg-api', ['api-1', 'api-2', 'api-3', 'api-4']);
    expect(events.map((e) => [e.messageId, e.status, e.type, e.error?.code ?? null])).toEqual([
      ['api-4', 'rejected', 'group', 'missing_field'],
      ['api-3', 'accepted', 'identify', null],
      ['api-2', 'rejected', 'track', 'missing_field'],
      ['api-1', 'accepted', 'track', null],
    ]);
    const [rejected] = events.filter((e) => e.messageId === 'api-2');
    expect(rejected).toMatchObject({
      source: 'dbg-api',
      event: null,
      error: { code: 'missing_field', field: '.event' },
      payload: { anonymousId: 'a', messageId: 'api-2' },
    });
    const [accepted] = events.filter((e) => e.messageId === 'api-1');
    expect(accepted).toMatchObject({
      receivedAt: '2026-11-29T10:00:00.000Z',
      event: 'NDC',
      error: null,
      payload: {
        event: 'NDC',
        source: 'dbg-api',
        messageId: 'api-1',
        receivedAt: '2026-11-29T10:00:00.000Z',
        context: { ip: '203.0.113.9', userAgent: 'debugger-test/1.0' },
      },
    });
    // Filters.
    const onlyRejected = await readEvents(h, 'source=dbg-api&status=rejected');
    expect(onlyRejected.events.every((e) => e.status === 'rejected')).toBe(true);
    expect((await readEvents(h, 'source=dbg-api&limit=1')).events).toHaveLength(1);
  });

  it('captures a request refused as a whole once its source is known', async () => {
    const errors = captureErrors();
    const h = debuggerHarness();
    await readEvents(h, 'source=dbg-api');
    const res = await h.fetch(
      '/v1/batch',
      jsonPost(
        { batch: [{ ...VALID_CALLS.track, messageId: 'queue-down' }] },
        {
          Authorization: basic(KEYS.api),
        },
      ),
      {
        EVENTS: DOWN_QUEUE,
      },
    );
    expect(res.status).toBe(503);
    const [e] = await eventsWith(h, 'dbg-api', ['queue-down']);
    expect(e).toMatchObject({ status: 'rejected', error: { code: 'queue_unavailable' } });
    expect(errors).toHaveBeenCalledWith('queue send failed', 'simulated outage');
  });

  it('never captures the write key, wherever it was sent', async () => {
    const h = debuggerHarness();
    await readEvents(h, 'source=dbg-secret');
    const key = KEYS.secret;
    const leaky = { properties: { note: `pasted ${key}` } };
    await h.fetch(
      '/v1/track',
      jsonPost({ ...VALID_CALLS.track, ...leaky, messageId: 'k-1' }, { Authorization: basic(key) }),
    );
    await h.fetch('/v1/track', jsonPost({ ...SEED_TRACK, writeKey: key, messageId: 'k-2' }));
    await h.fetch('/v1/track', jsonPost({ writeKey: key, messageId: 'k-3', ...leaky }));
    await h.fetch(
      '/v1/batch',
      jsonPost({
        writeKey: key,
        batch: [
          { ...VALID_CALLS.page, writeKey: key, messageId: 'k-4' },
          { type: 'page', writeKey: key, messageId: 'k-5', properties: 7 },
        ],
      }),
    );
    const events = await eventsWith(h, 'dbg-secret', ['k-1', 'k-2', 'k-3', 'k-4', 'k-5']);
    expect(events.map((e) => e.status).sort()).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'rejected',
      'rejected',
    ]);
    const everything = JSON.stringify(await readEvents(h, 'source=dbg-secret'));
    expect(everything).not.toContain(key);
    expect(everything).not.toContain(btoa(`${key}:`)); // nor the Authorization header
    expect(everything).toContain('[write key]');
  });

  it('captures nothing of an unwatched source, nor of a request with a bad write key', async () => {
    const h = debuggerHarness();
    await readEvents(h, 'source=dbg-other'); // another source is watched
    await h.fetch(
      '/v1/track',
      jsonPost(
        { ...VALID_CALLS.track, messageId: 'quiet-1' },
        { Authorization: basic(KEYS.quiet) },
      ),
    );
    const bad = await h.fetch(
      '/v1/track',
      jsonPost({ ...VALID_CALLS.track, messageId: 'bad-key' }, { Authorization: basic('nope') }),
    );
    expect(bad.status).toBe(401);
    await h.fetch(
      '/v1/track',
      jsonPost(
        { ...VALID_CALLS.track, messageId: 'other-1' },
        { Authorization: basic(KEYS.other) },
      ),
    );
    await eventsWith(h, 'dbg-other', ['other-1']);
    expect(h.tap.watch.isWatched('dbg-quiet', Date.now())).toBe(false);
    // Read without arming: straight from the object.
    const quiet = await sourceObject(env as unknown as Env, 'dbg-quiet').list({
      status: 'all',
      limit: 500,
    });
    expect(quiet.events).toEqual([]);
    const other = await readEvents(h, 'source=dbg-other');
    expect(other.events.map((e) => e.messageId)).toEqual(['other-1']);
  });
});

describe('debugger arming', () => {
  it('writes the registry once for a burst of API reads, and again for a page renewing its lease', async () => {
    const h = debuggerHarness();
    const before = registryWrites.count;
    for (let i = 0; i < 5; i++) await readEvents(h, 'source=dbg-other');
    expect(registryWrites.count - before).toBe(1);
    expect(h.tap.watch.isWatched('dbg-other', Date.now())).toBe(true);
    // A page's lease is shorter than the API's arming: nothing to write while that lasts longer.
    await h.fetch('/debugger/watch?source=dbg-other', { method: 'POST', headers: bearer() });
    expect(registryWrites.count - before).toBe(1);
    // A page on a source nobody watched yet writes at each renewal (the lease must reach the
    // other isolates).
    const page = debuggerHarness();
    const renew = (): Promise<Response> =>
      page.fetch('/debugger/watch?source=dbg-socket', { method: 'POST', headers: bearer() });
    const w0 = registryWrites.count;
    await renew();
    expect(registryWrites.count - w0).toBe(1);
  });
});

describe('debugger roles', () => {
  it('DEBUGGER_TOKEN reads the debugger, and gets 403 on replay, plans, privacy and the archive', async () => {
    const h = debuggerHarness();
    const viewer = bearer(VIEWER);
    expect((await h.fetch('/debugger/sources', { headers: viewer })).status).toBe(200);
    const events = await h.fetch('/debugger/events?source=dbg-api', { headers: viewer });
    expect(events.status).toBe(200);
    const watch = await h.fetch('/debugger/watch?source=dbg-api', {
      method: 'POST',
      headers: viewer,
    });
    expect(watch.status).toBe(200);
    const { ticket } = await watch.json<{ ticket: string }>();
    const ws = await h.fetch(`/debugger/ws?source=dbg-api&ticket=${ticket}`, {
      headers: { Upgrade: 'websocket' },
    });
    expect(ws.status).toBe(101);
    ws.webSocket?.accept();
    ws.webSocket?.close(1000, 'done');

    for (const [method, path, body] of [
      ['POST', '/admin/replay', '{"prefix":"dead-letters/"}'],
      ['GET', '/admin/dead-letters', undefined],
      ['GET', '/admin/blocked', undefined],
      ['GET', '/admin/audit', undefined],
      ['GET', '/admin/tracking-plans', undefined],
      ['GET', '/admin/tracking-plans/dbg-api', undefined],
      ['PUT', '/admin/tracking-plans/dbg-api', '{}'],
      ['DELETE', '/admin/tracking-plans/dbg-api', undefined],
      ['GET', '/admin/privacy', undefined],
      ['GET', '/admin/privacy/dbg-api', undefined],
      ['PUT', '/admin/privacy/dbg-api', '{}'],
      ['DELETE', '/admin/privacy/dbg-api', undefined],
      ['GET', '/admin/suppressions', undefined],
      ['POST', '/admin/suppressions', '{"source":"dbg-api","userIds":["u"]}'],
      ['POST', '/admin/suppressions/remove', '{"source":"dbg-api","userIds":["u"]}'],
    ] as const) {
      const res = await h.fetch(path, { method, headers: viewer, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
      const answer = await res.json<{ error: { code: string; message: string } }>();
      expect(answer.error.code).toBe('forbidden');
      expect(answer.error.message).toContain('ADMIN_TOKEN');
      expect(answer.error.message).not.toContain(VIEWER);
    }
    // Nothing was saved by the refused PUT.
    const plan = await h.fetch('/admin/tracking-plans/dbg-api', { headers: bearer() });
    expect(plan.status).not.toBe(200);
  });

  /** A page's socket on `source`, opened with a ticket of `token`; records its close code. */
  async function pageSocket(h: ReturnType<typeof debuggerHarness>, token: string, source: string) {
    const watch = await h.fetch(`/debugger/watch?source=${source}`, {
      method: 'POST',
      headers: bearer(token),
    });
    const { ticket } = await watch.json<{ ticket: string }>();
    const res = await h.fetch(`/debugger/ws?source=${source}&ticket=${ticket}`, {
      headers: { Upgrade: 'websocket' },
    });
    expect(res.status).toBe(101);
    const ws = res.webSocket;
    if (ws === null) throw new Error('no WebSocket');
    const closes: number[] = [];
    ws.addEventListener('close', (e) => {
      closes.push(e.code);
    });
    ws.accept();
    return { ws, closes };
  }

  async function closedWith(closes: number[]): Promise<number | undefined> {
    for (let i = 0; i < 200 && closes.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return closes[0];
  }

  it.each([
    ['rotated', 'a-new-debugger-token'],
    ['removed', ''],
  ])('closes an open socket once its token is %s, and leaves the others open', async (_w, next) => {
    const h = debuggerHarness();
    const viewer = await pageSocket(h, VIEWER, 'dbg-socket');
    const admin = await pageSocket(h, TOKEN, 'dbg-socket');
    // The Worker now runs with the new secret: the next call it makes to the source's object
    // (a page renewing its lease here; captured events or a new page do the same) says so.
    const renew = await h.fetch(
      '/debugger/watch?source=dbg-socket',
      { method: 'POST', headers: bearer() },
      { DEBUGGER_TOKEN: next },
    );
    expect(renew.status).toBe(200);
    expect(await closedWith(viewer.closes)).toBe(DEBUGGER_REVOKED_CLOSE_CODE);
    await new Promise((r) => setTimeout(r, 50));
    expect(admin.closes).toEqual([]);
    admin.ws.close(1000, 'done');
  });
});

describe('debugger WebSocket', () => {
  it('shows a page the ring, then each accepted and rejected event as it arrives', async () => {
    const h = debuggerHarness();
    const watch = await h.fetch('/debugger/watch?source=dbg-socket', {
      method: 'POST',
      headers: bearer(),
    });
    expect(watch.status).toBe(200);
    const armed = await watch.json<{
      ticket: string;
      leaseSeconds: number;
      renewSeconds: number;
    }>();
    expect(armed.leaseSeconds).toBe(DEBUGGER_PAGE_LEASE_SECONDS);
    expect(armed.renewSeconds).toBeLessThan(armed.leaseSeconds / 2);
    const res = await h.fetch(`/debugger/ws?source=dbg-socket&ticket=${armed.ticket}`, {
      headers: { Upgrade: 'websocket' },
    });
    expect(res.status).toBe(101);
    const ws = res.webSocket;
    if (ws === null) throw new Error('no WebSocket');
    const messages: SocketMessage[] = [];
    ws.addEventListener('message', (m) => {
      if (m.data !== 'pong') messages.push(JSON.parse(String(m.data)) as SocketMessage);
    });
    ws.accept();
    const auth = { Authorization: basic(KEYS.socket) };
    await h.fetch('/v1/track', jsonPost({ ...VALID_CALLS.track, messageId: 'ws-ok' }, auth));
    await h.fetch('/v1/track', jsonPost({ anonymousId: 'x', messageId: 'ws-bad' }, auth));
    const seen = (): RingEvent[] => messages.flatMap((m) => (m.kind === 'events' ? m.events : []));
    for (let i = 0; i < 100 && seen().length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(messages[0]?.kind).toBe('snapshot');
    expect(seen().map((e) => [e.messageId, e.status, e.error?.code ?? null])).toEqual([
      ['ws-ok', 'accepted', null],
      ['ws-bad', 'rejected', 'missing_field'],
    ]);
    ws.close(1000, 'done');
  });
});

// Stands in for the events queue: the sends are not what is measured.
const NO_QUEUE = {
  send: async () => ({}),
  sendBatch: async () => ({}),
} as unknown as Queue<string>;

describe('debugger cost per request', () => {
  /** `n` track calls within about a second, each its own invocation, settled together. */
  async function burst(tap: DebuggerTap, key: string, n: number, prefix: string): Promise<void> {
    const app = createApp({ ...fixedDeps(), tap });
    const contexts: ExecutionContext[] = [];
    const base = { ...(env as unknown as Env), ...overrides };
    for (let i = 0; i < n; i++) {
      const ctx = createExecutionContext();
      contexts.push(ctx);
      const body = { ...VALID_CALLS.track, messageId: `${prefix}-${i}` };
      const res = await app.fetch(
        new Request(`${BASE_URL}/v1/track`, jsonPost(body, { Authorization: basic(key) })),
        { ...base, EVENTS: NO_QUEUE },
        ctx,
      );
      expect(res.status).toBe(200);
    }
    await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
  }

  it('makes no Durable Object call for an unwatched source, and batches a watched one', async () => {
    const n = 300;
    // Nobody watches: one watch-list lookup for the whole burst (a cache read, or one registry
    // read when the data centre's copy is stale), no call to the source's object.
    const idle = new DebuggerTap(() => Date.now());
    const readsBefore = registryReads.count;
    await burst(idle, KEYS.cost, n, 'idle');
    const idleCalls = registryReads.count - readsBefore + idle.outbox.sends;
    expect(idle.outbox.sends).toBe(0);
    expect(idle.lookups).toBe(1);
    expect(idleCalls).toBeLessThanOrEqual(1);

    // Watched (armed by an API read): calls to the object at most one per second.
    const watched = new DebuggerTap(() => Date.now());
    const h = debuggerHarness();
    const started = Date.now();
    await h.fetch('/debugger/events?source=dbg-cost', { headers: bearer() });
    watched.arm('dbg-cost', Date.now() + 60_000);
    await burst(watched, KEYS.cost, n, 'watched');
    const seconds = (Date.now() - started) / 1000;
    expect(watched.outbox.sends).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    const captured = await readEvents(h, 'source=dbg-cost&limit=500');
    const mine = captured.events.filter((e) => String(e.messageId).startsWith('watched-'));
    expect(mine.length).toBeLessThanOrEqual(
      Math.ceil(seconds + 1) * DEBUGGER_SAMPLE_EVENTS_PER_SECOND,
    );
    expect(mine.length + captured.skipped).toBeGreaterThanOrEqual(n);
  });
});
