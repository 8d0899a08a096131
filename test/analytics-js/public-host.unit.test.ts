import { describe, expect, it } from 'vitest';
import { parsePublicHost, publicOrigin } from '../../src/analytics-js/public-host';

describe('parsePublicHost', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    ['collect.example.com', { host: 'collect.example.com' }],
    [' Collect.Example.COM ', { host: 'collect.example.com' }],
    ['collect.example.com:8443', { host: 'collect.example.com:8443' }],
    ['localhost:8787', { host: 'localhost:8787' }],
    ['127.0.0.1:8787', { host: '127.0.0.1:8787' }],
    ['[::1]:8787', { host: '[::1]:8787' }],
    ['https://collect.example.com', { host: 'collect.example.com', protocol: 'https' }],
    ['https://collect.example.com/', { host: 'collect.example.com', protocol: 'https' }],
    ['http://localhost:8787', { host: 'localhost:8787', protocol: 'http' }],
    // The URL form drops a scheme's default port, as browsers do.
    ['https://collect.example.com:443', { host: 'collect.example.com', protocol: 'https' }],
  ])('reads %j as %j', (value, expected) => {
    expect(parsePublicHost(value)).toEqual({ ok: true, value: expected });
  });

  it.each([
    'collect.example.com/v1',
    'collect.example.com:port',
    '-collect.example.com',
    'collect example.com',
    'https://collect.example.com/v1',
    'https://collect.example.com?x=1',
    'https://collect.example.com#top',
    'https://user:secret@collect.example.com',
    'ftp://collect.example.com',
    'https://',
  ])('rejects %j', (value) => {
    const parsed = parsePublicHost(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.reason).toBe('invalid_public_host');
  });

  it('never echoes credentials in its message', () => {
    const parsed = parsePublicHost('https://user:secret@collect.example.com');
    expect(JSON.stringify(parsed)).not.toContain('secret');
  });
});

describe('publicOrigin', () => {
  it.each([
    ['https://collector.test/v1/projects/k/settings', undefined, 'collector.test', 'https'],
    ['http://127.0.0.1:8787/v1/projects/k/settings', undefined, '127.0.0.1:8787', 'http'],
    ['http://127.0.0.1:8787/x', { host: 'collect.example.com' }, 'collect.example.com', 'http'],
    ['https://w.example/x', { host: 'collect.example.com' }, 'collect.example.com', 'https'],
    [
      'http://127.0.0.1:8787/x',
      { host: 'collect.example.com', protocol: 'https' as const },
      'collect.example.com',
      'https',
    ],
  ])('for %s with %j is %s over %s', (url, configured, host, protocol) => {
    expect(publicOrigin(url, configured)).toEqual({ host, protocol });
  });
});
