// CORS for browsers (analytics.js posts text/plain with Basic auth, so a preflight comes
// first), on the routes browsers use only: ingest, the settings and analytics.js (src/app.ts
// mounts it there; operator routes send no Access-Control-Allow-Origin for any origin). Any
// origin by default; only those in ALLOWED_ORIGINS when it is set. Requests
// without an Origin header (servers, SDKs, curl), or from the collector's own origin (the
// debugger page), are not affected. The middleware admits or refuses the origin; each route
// answers its own preflight (`preflight`), so a preflight advertises exactly the methods that
// route accepts and an unknown path stays a 404.

import type { Handler, MiddlewareHandler } from 'hono';
import type { AppEnv } from './deps';
import { ingestError } from '../segment/errors';
import { IngestHttpError } from './error-response';

// Fetch standard, "CORS protocol": browsers cap preflight caching (Chromium at 2 hours);
// one day is the common upper bound and costs nothing when capped lower.
export const CORS_MAX_AGE_SECONDS = 86_400;

// What the Segment SDKs send: analytics.js sets Content-Type, and since analytics-next 1.84
// Authorization (Basic) on every request and X-Retry-Count on retries (fetch-dispatcher.ts,
// batched-dispatcher.ts); analytics-node sends X-Retry-Count too; gzip bodies carry
// Content-Encoding. A preflight that names headers gets them back (the route checks the request
// itself); this list answers one that names none.
const DEFAULT_ALLOW_HEADERS = 'Content-Type, Authorization, Content-Encoding, X-Retry-Count';

// Fetch standard, "CORS-safelisted response-header name": a cross-origin script can read only
// those unless exposed, and analytics.js reads a 429's wait from these (error-response.ts
// `rateLimitHeaders`); without them it would retry at once.
const EXPOSE_HEADERS = 'Retry-After, X-RateLimit-Reset';

const parsed = new Map<string, string[]>();

function allowList(spec: string | undefined): string[] {
  const key = spec ?? '';
  let list = parsed.get(key);
  if (list === undefined) {
    list = key
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, '').toLowerCase())
      .filter((o) => o !== '');
    parsed.set(key, list);
  }
  return list;
}

/** Exact origins, `*`, or a subdomain wildcard such as `https://*.example.com`. */
export function originAllowed(spec: string | undefined, origin: string): boolean {
  const list = allowList(spec);
  if (list.length === 0) return true;
  const o = origin.toLowerCase();
  return list.some((allowed) => {
    if (allowed === '*' || allowed === o) return true;
    const star = allowed.indexOf('://*.');
    if (star === -1) return false;
    const scheme = allowed.slice(0, star + 3);
    const suffix = allowed.slice(star + 4);
    return o.startsWith(scheme) && o.endsWith(suffix) && o.length > scheme.length + suffix.length;
  });
}

/** Refuses an origin outside ALLOWED_ORIGINS; lets every answer to an admitted one be read. */
export function cors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    // Fetch standard: a browser sends Origin on same-origin POSTs and WebSocket handshakes too
    // (the debugger page's); those are not cross-origin, so CORS and ALLOWED_ORIGINS leave them
    // be. Nor are they answered with CORS headers (a WebSocket's 101 has immutable headers).
    if (origin === undefined || origin === new URL(c.req.url).origin) {
      await next();
      return;
    }
    if (!originAllowed(c.env.ALLOWED_ORIGINS, origin)) {
      throw new IngestHttpError(
        ingestError('origin_not_allowed', 'this origin is not in ALLOWED_ORIGINS'),
      );
    }
    c.set('corsAdmitted', true);
    await next();
    c.res.headers.set('Access-Control-Allow-Origin', origin);
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    c.res.headers.append('Vary', 'Origin');
    return undefined;
  };
}

/**
 * OPTIONS on a route that accepts `allow` (e.g. `POST, OPTIONS`): the CORS preflight when the
 * request has an Origin (already admitted by `cors`), else a plain answer with `Allow`.
 */
export function preflight(allow: string): Handler<AppEnv> {
  return (c) => {
    // Only a browser route's preflight: `cors` ran and admitted the origin (elsewhere no
    // Access-Control-Allow-Origin follows, so advertising methods would only mislead).
    if (c.req.header('origin') === undefined || !c.get('corsAdmitted')) {
      return c.body(null, 204, { Allow: allow });
    }
    return c.body(null, 204, {
      Allow: allow,
      'Access-Control-Allow-Methods': allow,
      'Access-Control-Allow-Headers':
        c.req.header('access-control-request-headers') ?? DEFAULT_ALLOW_HEADERS,
      'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
      // `cors` adds Origin after the handler.
      Vary: 'Access-Control-Request-Headers',
    });
  };
}
