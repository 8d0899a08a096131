// HTTP edge of the live debugger (docs/debugger.md): the page, the list of sources, arming a
// source and the WebSocket ticket, the WebSocket itself, and the API tests and scripts read.
// Everything but the page needs ADMIN_TOKEN or DEBUGGER_TOKEN (role viewer, src/routes/roles.ts:
// Bearer; the WebSocket a ticket made with the token presented).
// Adapter: the decisions are in src/debugger/.

import type { Context } from 'hono';
import {
  armSource,
  currentGrants,
  debuggerBound,
  grantDigest,
  grantOf,
  isolateTap,
  sourceObject,
} from '../debugger/isolate';
import {
  DEBUGGER_PAGE_LEASE_SECONDS,
  DEBUGGER_PAGE_RENEW_SECONDS,
  DEBUGGER_RING_EVENTS,
} from '../debugger/limits';
import { GRANT_HEADER, VALID_GRANTS_HEADER } from '../debugger/object';
import { pageHtml, PAGE_SCRIPT, PAGE_STYLE } from '../debugger/page';
import type { StatusFilter } from '../debugger/ring';
import { armSeconds } from '../debugger/settings';
import type { DebuggerTap } from '../debugger/tap';
import { issueTicket, ticketValid, type Hmac } from '../debugger/ticket';
import { ingestError } from '../segment/errors';
import { sourceNames } from './auth';
import { pageHeaders } from './page-policy';
import type { AppDeps, AppEnv } from './deps';
import { IngestHttpError } from './error-response';
import { authorize, secretsFor, type Role } from './roles';

type Ctx = Context<AppEnv>;

const encoder = new TextEncoder();

const hmacKeys = new Map<string, Promise<CryptoKey>>();

const hmac: Hmac = async (secret, message) => {
  let key = hmacKeys.get(secret);
  if (key === undefined) {
    key = crypto.subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    hmacKeys.clear();
    hmacKeys.set(secret, key);
  }
  return new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(message)));
};

const timingSafeEqual = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);

/** GET /debugger: the page, open to anyone (it holds no data; it asks for the token). */
export async function getDebuggerPage(c: Ctx): Promise<Response> {
  const enabled = secretsFor(c.env, 'viewer').length > 0;
  return c.html(pageHtml(enabled), 200, await pageHeaders(PAGE_SCRIPT, PAGE_STYLE));
}

/** The debugger's API: ADMIN_TOKEN or DEBUGGER_TOKEN (role viewer), and the bindings. */
async function viewer(c: Ctx): Promise<Role> {
  const role = await authorize(c, 'viewer');
  if (!debuggerBound(c.env)) {
    throw new IngestHttpError(
      ingestError('not_found', 'the debugger is not bound (DEBUGGER, DEBUGGER_WATCHLIST)'),
    );
  }
  return role;
}

/** The `source` query parameter, which must name a configured source. */
async function sourceParam(c: Ctx): Promise<string> {
  const source = c.req.query('source') ?? '';
  if (source === '') {
    throw new IngestHttpError(ingestError('missing_field', 'source is required', 'source'));
  }
  if (!(await sourceNames(c.env)).includes(source)) {
    throw new IngestHttpError(
      ingestError('invalid_field', 'source names no source in WRITE_KEYS', 'source'),
    );
  }
  return source;
}

/** GET /debugger/sources: the configured sources, for the page's selector. */
export async function getDebuggerSources(c: Ctx): Promise<Response> {
  await viewer(c);
  return c.json({ sources: await sourceNames(c.env) }, 200, { 'Cache-Control': 'no-store' });
}

/**
 * POST /debugger/watch?source=: an open page arms its source for DEBUGGER_PAGE_LEASE_SECONDS
 * (renewing every renewSeconds) and gets a ticket for its WebSocket.
 */
export async function postDebuggerWatch(c: Ctx, deps: AppDeps): Promise<Response> {
  const role = await viewer(c);
  const source = await sourceParam(c);
  // Each renewal also tells the source's object which tokens are valid now.
  await Promise.all([
    armSource(deps.tap ?? isolateTap, c.env, c.req.url, source, DEBUGGER_PAGE_LEASE_SECONDS),
    currentGrants(c.env).then((grants) => sourceObject(c.env, source).report(grants)),
  ]);
  const token = (role === 'admin' ? c.env.ADMIN_TOKEN : c.env.DEBUGGER_TOKEN) ?? '';
  const ticket = await issueTicket(token, source, Date.now(), hmac);
  return c.json(
    {
      source,
      ticket,
      leaseSeconds: DEBUGGER_PAGE_LEASE_SECONDS,
      renewSeconds: DEBUGGER_PAGE_RENEW_SECONDS,
    },
    200,
    { 'Cache-Control': 'no-store' },
  );
}

/** GET /debugger/ws?source=&ticket=: the page's WebSocket, handed to the source's object. */
export async function getDebuggerSocket(c: Ctx): Promise<Response> {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new IngestHttpError(ingestError('upgrade_required', 'expected a WebSocket upgrade'));
  }
  const source = c.req.query('source') ?? '';
  const ticket = c.req.query('ticket') ?? '';
  // The token whose ticket this is: ADMIN_TOKEN's or DEBUGGER_TOKEN's.
  let token: string | undefined;
  for (const [, secret] of debuggerBound(c.env) ? secretsFor(c.env, 'viewer') : []) {
    if (await ticketValid(secret, source, ticket, Date.now(), hmac, timingSafeEqual)) {
      token = secret;
      break;
    }
  }
  if (token === undefined) {
    throw new IngestHttpError(
      ingestError('unauthorized', 'a valid ticket from POST /debugger/watch is required'),
    );
  }
  // The object keeps the token's grant with the socket and closes it once no longer valid.
  const headers = new Headers(c.req.raw.headers);
  headers.set(GRANT_HEADER, await grantOf(token, grantDigest));
  headers.set(VALID_GRANTS_HEADER, (await currentGrants(c.env)).join(','));
  return sourceObject(c.env, source).fetch(new Request(c.req.raw.url, { headers }));
}

function statusParam(value: string | undefined): StatusFilter {
  if (value === undefined || value === '' || value === 'all') return 'all';
  if (value === 'accepted' || value === 'rejected') return value;
  throw new IngestHttpError(
    ingestError('invalid_field', 'status must be accepted, rejected or all', 'status'),
  );
}

function limitParam(value: string | undefined): number {
  if (value === undefined || value === '') return DEBUGGER_RING_EVENTS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > DEBUGGER_RING_EVENTS) {
    throw new IngestHttpError(
      ingestError(
        'invalid_field',
        `limit must be an integer from 1 to ${DEBUGGER_RING_EVENTS}`,
        'limit',
      ),
    );
  }
  return n;
}

/**
 * GET /debugger/events?source=&status=&limit=: the source's last events, newest first. The read
 * arms the source for DEBUGGER_ARM_SECONDS, so a CI job reads once, sends, and reads again.
 */
export async function getDebuggerEvents(c: Ctx, deps: AppDeps): Promise<Response> {
  await viewer(c);
  const source = await sourceParam(c);
  const status = statusParam(c.req.query('status'));
  const limit = limitParam(c.req.query('limit'));
  const tap: DebuggerTap = deps.tap ?? isolateTap;
  const [answer] = await Promise.all([
    sourceObject(c.env, source).list({ status, limit }),
    armSource(tap, c.env, c.req.url, source, armSeconds(c.env.DEBUGGER_ARM_SECONDS)),
  ]);
  return c.json({ source, events: answer.events, skipped: answer.skipped }, 200, {
    'Cache-Control': 'no-store',
  });
}
