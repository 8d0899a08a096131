// CORS for browsers (analytics.js posts text/plain with Basic auth, so a preflight comes
// first). Any origin by default; only those in ALLOWED_ORIGINS when it is set. Requests
// without an Origin header (servers, SDKs, curl) are not affected.

import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './deps';
import { ingestError } from '../segment/errors';
import { IngestHttpError } from './error-response';

// Fetch standard, "CORS protocol": browsers cap preflight caching (Chromium at 2 hours);
// one day is the common upper bound and costs nothing when capped lower.
export const CORS_MAX_AGE_SECONDS = 86_400;

const ALLOW_METHODS = 'GET, POST, OPTIONS';
// What the Segment SDKs send: analytics.js sets Content-Type and Authorization; analytics-node
// adds X-Retry-Count on retries; gzip bodies carry Content-Encoding.
const DEFAULT_ALLOW_HEADERS = 'Content-Type, Authorization, Content-Encoding, X-Retry-Count';

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

export function cors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin === undefined) {
      if (c.req.method === 'OPTIONS') return c.body(null, 204, { Allow: ALLOW_METHODS });
      await next();
      return;
    }
    if (!originAllowed(c.env.ALLOWED_ORIGINS, origin)) {
      throw new IngestHttpError(
        ingestError('origin_not_allowed', 'this origin is not in ALLOWED_ORIGINS'),
      );
    }
    if (c.req.method === 'OPTIONS') {
      return c.body(null, 204, {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': ALLOW_METHODS,
        'Access-Control-Allow-Headers':
          c.req.header('access-control-request-headers') ?? DEFAULT_ALLOW_HEADERS,
        'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
        Vary: 'Origin, Access-Control-Request-Headers',
      });
    }
    await next();
    c.res.headers.set('Access-Control-Allow-Origin', origin);
    c.res.headers.append('Vary', 'Origin');
    return undefined;
  };
}
