// Where browsers reach this collector: PUBLIC_HOST when set, else the host a request came to.
// Pure: strings in, a host and scheme (or the reason PUBLIC_HOST is unusable) out.

import { err, ok, type Result } from '../segment/types';

export type Scheme = 'http' | 'https';

/** The origin analytics.js is told to send to: `host` is a hostname with an optional port. */
export interface PublicOrigin {
  host: string;
  protocol: Scheme;
}

/** PUBLIC_HOST parsed: a bare host keeps the request's scheme, a URL fixes its own. */
export interface PublicHost {
  host: string;
  protocol?: Scheme;
}

export interface PublicHostError {
  reason: 'invalid_public_host';
  message: string;
}

// A DNS name or IPv4 address, or an IPv6 literal in brackets, then an optional port
// (RFC 3986 section 3.2.2 host, 3.2.3 port).
const BARE_HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

const invalid = (message: string): { ok: false; error: PublicHostError } =>
  err({ reason: 'invalid_public_host', message });

/**
 * Parses PUBLIC_HOST: `events.example.com`, `events.example.com:8443` or
 * `https://events.example.com` (an http or https URL with no path, query, fragment or
 * credentials). Empty or unset is `undefined`: use the request's own host.
 */
export function parsePublicHost(
  value: string | undefined,
): Result<PublicHost | undefined, PublicHostError> {
  const text = (value ?? '').trim();
  if (text === '') return ok(undefined);
  if (!text.includes('://')) {
    if (!BARE_HOST.test(text)) return invalid(`is not a host[:port]: ${JSON.stringify(text)}`);
    return ok({ host: text.toLowerCase() });
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid(`is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return invalid(`must be http or https, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '') {
    return invalid('must be a scheme and host only, with no path, query or credentials');
  }
  if (url.hash !== '') return invalid('must not have a fragment');
  return ok({ host: url.host, protocol: url.protocol === 'https:' ? 'https' : 'http' });
}

/** The origin to name in the settings for a request to `requestUrl`. */
export function publicOrigin(requestUrl: string, configured: PublicHost | undefined): PublicOrigin {
  const url = new URL(requestUrl);
  const requestScheme: Scheme = url.protocol === 'http:' ? 'http' : 'https';
  if (configured === undefined) return { host: url.host, protocol: requestScheme };
  return { host: configured.host, protocol: configured.protocol ?? requestScheme };
}
