// What the rate limiter counts a request against (RATE_LIMIT_KEY). Pure.
//
//   source      (default) every client of a source shares one budget: one abusive client pushes
//               the whole source into 429s
//   ip          each client address has its own budget, across sources: clients behind one
//               address (a company's or a carrier's NAT) share it, and a source is not bounded
//   source+ip   each client address per source: the NAT caveat, per source
//
// An IPv6 client is counted by its /64 (a host picks any address in its /64, RFC 4291 §2.5.1
// interface identifiers), an IPv4 client by its address. Without an address (no
// CF-Connecting-IP: local runs) every client shares the key `ip:unknown`.

import { ipv6Hextets } from './ip';

export const RATE_LIMIT_KEYS = ['source', 'ip', 'source+ip'] as const;
export type RateLimitKey = (typeof RATE_LIMIT_KEYS)[number];

/** RATE_LIMIT_KEY as set; anything else (or unset) is `source`, today's behaviour. */
export function rateLimitKeyMode(value: string | undefined): RateLimitKey {
  const v = value?.trim().toLowerCase();
  return (RATE_LIMIT_KEYS as readonly string[]).includes(v ?? '') ? (v as RateLimitKey) : 'source';
}

/** The client part of a key: the IPv4 address, or the /64 of an IPv6 one. */
export function clientOf(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'ip:unknown';
  if (!ip.includes(':')) return `ip:${ip}`;
  const h = ipv6Hextets(ip);
  return h === undefined
    ? `ip:${ip}`
    : `ip:${h
        .slice(0, 4)
        .map((x) => x.toString(16))
        .join(':')}::/64`;
}

/** The key a request's calls are counted against. */
export function rateLimitKey(mode: RateLimitKey, source: string, ip: string | undefined): string {
  switch (mode) {
    case 'source':
      return source;
    case 'ip':
      return clientOf(ip);
    case 'source+ip':
      return `${source}|${clientOf(ip)}`;
  }
}

/** How a 429 words what ran out. */
export function rateLimitSubject(mode: RateLimitKey): string {
  switch (mode) {
    case 'source':
      return 'this source';
    case 'ip':
      return 'this client address';
    case 'source+ip':
      return 'this source from this client address';
  }
}
