// RATE_LIMIT_KEY: which key a request's calls are counted against.
import { describe, expect, it } from 'vitest';
import { clientOf, rateLimitKey, rateLimitKeyMode } from '../../src/segment/rate-limit';

describe('rateLimitKeyMode', () => {
  it.each([
    [undefined, 'source'],
    ['', 'source'],
    ['source', 'source'],
    [' IP ', 'ip'],
    ['source+ip', 'source+ip'],
    ['ip+source', 'source'],
  ])('reads %j as %s', (value, mode) => {
    expect(rateLimitKeyMode(value)).toBe(mode);
  });
});

describe('rateLimitKey', () => {
  it('keys by source, by client, or by both', () => {
    expect(rateLimitKey('source', 'web', '192.0.2.1')).toBe('web');
    expect(rateLimitKey('ip', 'web', '192.0.2.1')).toBe('ip:192.0.2.1');
    expect(rateLimitKey('source+ip', 'web', '192.0.2.1')).toBe('web|ip:192.0.2.1');
  });

  it('counts an IPv6 client by its /64, and a request without an address as one client', () => {
    expect(clientOf('2001:db8:1:2:aaaa::1')).toBe('ip:2001:db8:1:2::/64');
    expect(clientOf('2001:DB8:1:2::ffff')).toBe('ip:2001:db8:1:2::/64');
    expect(clientOf(undefined)).toBe('ip:unknown');
    expect(clientOf('')).toBe('ip:unknown');
  });
});
