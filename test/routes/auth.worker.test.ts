// Write-key authentication: HTTP Basic and the body's writeKey, missing, unknown and garbled
// keys, the rate limiter, and that the key never reaches the queue.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { VALID_CALLS } from '../fixtures/calls';
import { basic, harness, jsonPost } from '../support/worker';

describe('write keys', () => {
  it('accepts the key from HTTP Basic (writeKey:) as analytics-node sends it', async () => {
    const h = harness();
    const res = await h.fetch(
      '/v1/identify',
      jsonPost(VALID_CALLS.identify, { Authorization: basic('test-key-1') }),
    );
    expect(res.status).toBe(200);
    expect(h.queue.events()[0]?.['source']).toBe('web');
  });

  it("accepts the key from the body's writeKey and removes it from the event", async () => {
    const h = harness();
    const res = await h.fetch(
      '/v1/identify',
      jsonPost({ ...VALID_CALLS.identify, writeKey: 'test-key-2' }),
    );
    expect(res.status).toBe(200);
    const body = h.queue.calls.flat().join('');
    expect(body).not.toContain('test-key-2');
    // Unnamed key: src_ + 12 hex digits of its SHA-256.
    expect(h.queue.events()[0]?.['source']).toMatch(/^src_[0-9a-f]{12}$/);
  });

  it('answers 401 missing_write_key when there is no key', async () => {
    const h = harness();
    const res = await h.fetch('/v1/track', jsonPost(VALID_CALLS.track));
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('Basic');
    expect(await res.json()).toEqual({
      success: false,
      error: {
        code: 'missing_write_key',
        message: "a write key is required: HTTP Basic (writeKey:) or the body's writeKey",
      },
    });
  });

  it.each([
    ['an unknown Basic key', { Authorization: basic('nope') }, {}, 'invalid_write_key'],
    ['an unknown body key', {}, { writeKey: 'nope' }, 'invalid_write_key'],
    ['a garbled Authorization header', { Authorization: 'Basic %%%' }, {}, 'invalid_authorization'],
    ['a Bearer token', { Authorization: 'Bearer test-key-1' }, {}, 'invalid_authorization'],
    [
      'an oversized Authorization header',
      { Authorization: `Basic ${'Q'.repeat(5000)}` },
      {},
      'invalid_authorization',
    ],
  ])('answers 401 for %s, queuing nothing', async (_n, headers, extra, reason) => {
    const h = harness();
    const res = await h.fetch('/v1/track', jsonPost({ ...VALID_CALLS.track, ...extra }, headers));
    expect(res.status).toBe(401);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe(reason);
    expect(h.queue.calls).toHaveLength(0);
  });

  it('takes the batch writeKey and answers 401 for an unknown one', async () => {
    const h = harness();
    expect(
      (await h.fetch('/v1/batch', jsonPost({ batch: [VALID_CALLS.track], writeKey: 'test-key-1' })))
        .status,
    ).toBe(200);
    expect(
      (await h.fetch('/v1/batch', jsonPost({ batch: [VALID_CALLS.track], writeKey: 'x' }))).status,
    ).toBe(401);
  });

  it('refuses everything when WRITE_KEYS is unset', async () => {
    const h = harness();
    const res = await h.fetch(
      '/v1/track',
      jsonPost(VALID_CALLS.track, { Authorization: basic('test-key-1') }),
      {
        WRITE_KEYS: undefined,
      },
    );
    expect(res.status).toBe(401);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once the source is over its limit, per write key', async () => {
    const h = harness();
    const limiter = (env as unknown as { RATE_LIMITER_TEST: RateLimit }).RATE_LIMITER_TEST;
    const overrides: Partial<Env> = { RATE_LIMITER: limiter };
    const send = (key: string): Promise<Response> =>
      h.fetch('/v1/track', jsonPost(VALID_CALLS.track, { Authorization: basic(key) }), overrides);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send('test-key-rl')).status);
    // The test binding allows 3 per 60 s.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await send('test-key-rl');
    // The test binding's period, as RATE_LIMIT_PERIOD_SECONDS says it (default 60).
    expect(limited.headers.get('Retry-After')).toBe('60');
    expect((await limited.json<{ error: { code: string } }>()).error.code).toBe('rate_limited');
    // Another source is not affected.
    expect((await send('test-key-2')).status).toBe(200);
  });

  it('counts a batch as its events: 25 events spend what 3 single calls do', async () => {
    const h = harness();
    const limiter = (env as unknown as { RATE_LIMITER_TEST: RateLimit }).RATE_LIMITER_TEST;
    const overrides: Partial<Env> = { RATE_LIMITER: limiter, RATE_LIMIT_PERIOD_SECONDS: '10' };
    const auth = { Authorization: basic('test-key-rl-batch') };
    const batch = await h.fetch(
      '/v1/batch',
      jsonPost({ batch: new Array(25).fill(VALID_CALLS.track) }, auth),
      overrides,
    );
    expect(batch.status).toBe(200);
    // 25 events are 3 units of 10 (the test binding allows 3 per period): nothing is left.
    const single = await h.fetch('/v1/track', jsonPost(VALID_CALLS.track, auth), overrides);
    expect(single.status).toBe(429);
    expect(single.headers.get('Retry-After')).toBe('10');
  });

  // Addresses of this run's own, so the shared test limiter's earlier counts do not matter.
  const run = Math.floor(Math.random() * 250) + 1;
  const sendFrom = (h: ReturnType<typeof harness>, key: string, ip: string, mode: string) =>
    h.fetch(
      '/v1/track',
      jsonPost(VALID_CALLS.track, { Authorization: basic(key), 'CF-Connecting-IP': ip }),
      {
        RATE_LIMITER: (env as unknown as { RATE_LIMITER_TEST: RateLimit }).RATE_LIMITER_TEST,
        RATE_LIMIT_KEY: mode,
      },
    );

  it('RATE_LIMIT_KEY=ip: one budget per client address, whatever the source', async () => {
    const h = harness();
    const a = `203.0.113.${run}`;
    const statuses: number[] = [];
    for (const key of ['test-key-1', 'test-key-2', 'test-key-1', 'test-key-2']) {
      statuses.push((await sendFrom(h, key, a, 'ip')).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await sendFrom(h, 'test-key-1', a, 'ip');
    expect((await limited.json<{ error: { message: string } }>()).error.message).toContain(
      'this client address',
    );
    // Another client of the same source still gets in.
    expect((await sendFrom(h, 'test-key-1', `198.51.100.${run}`, 'ip')).status).toBe(200);
  });

  it('RATE_LIMIT_KEY=source+ip: one budget per client per source; an IPv6 client by its /64', async () => {
    const h = harness();
    const hex = run.toString(16);
    const statuses: number[] = [];
    // Two addresses of one /64 are one client.
    for (const ip of [`2001:db8:${hex}:1::1`, `2001:db8:${hex}:1::2`, `2001:db8:${hex}:1:ff::9`]) {
      statuses.push((await sendFrom(h, 'test-key-1', ip, 'source+ip')).status);
    }
    statuses.push((await sendFrom(h, 'test-key-1', `2001:db8:${hex}:1::3`, 'source+ip')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // The same client on another source, and another /64 on the same source, are not limited.
    expect((await sendFrom(h, 'test-key-2', `2001:db8:${hex}:1::1`, 'source+ip')).status).toBe(200);
    expect((await sendFrom(h, 'test-key-1', `2001:db8:${hex}:2::1`, 'source+ip')).status).toBe(200);
  });

  it('does not limit without the binding', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) {
      const res = await h.fetch(
        '/v1/track',
        jsonPost(VALID_CALLS.track, { Authorization: basic('test-key-rl') }),
      );
      expect(res.status).toBe(200);
    }
  });
});

// The wait each analytics.js computes from a 429, as its dispatchers parse it (analytics-next,
// packages/browser/src/plugins/segmentio/): 1.73 to 1.83 `parseInt(x-ratelimit-reset) * 1000`
// (fetch-dispatcher.ts, batched-dispatcher.ts), 5000 ms without it; 1.84+ `shared-dispatcher.ts`
// `parseRetryAfter`: `parseInt(Retry-After)` capped at maxRetryInterval (300 s) times 1000, no
// header no rate-limit wait (null). A header a cross-origin script cannot read is `null` to it.
function readable(res: Response, name: string): string | null {
  const exposed = (res.headers.get('Access-Control-Expose-Headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase());
  return exposed.includes(name.toLowerCase()) ? res.headers.get(name) : null;
}
function waitMsBefore184(res: Response): number {
  const secs = readable(res, 'x-ratelimit-reset');
  return secs ? parseInt(secs) * 1000 : 5000;
}
function waitMsSince184(res: Response): number | null {
  const raw = readable(res, 'Retry-After');
  if (!raw) return null;
  const parsed = parseInt(raw, 10);
  if (Number.isNaN(parsed)) return null;
  return Math.max(0, Math.min(parsed, 300)) * 1000;
}

describe('429 as analytics.js reads it', () => {
  it('makes a browser on 1.73-1.83 and one on 1.84+ both wait one limiter period', async () => {
    const h = harness();
    const limiter = (env as unknown as { RATE_LIMITER_TEST: RateLimit }).RATE_LIMITER_TEST;
    const overrides: Partial<Env> = {
      RATE_LIMITER: limiter,
      RATE_LIMIT_PERIOD_SECONDS: '10',
      RATE_LIMIT_KEY: 'ip',
    };
    // An address of this run's own, so the shared test limiter's earlier counts do not matter.
    const ip = `192.0.2.${Math.floor(Math.random() * 250) + 1}`;
    const send = (): Promise<Response> =>
      h.fetch(
        '/v1/b',
        {
          method: 'POST',
          headers: {
            'Content-Type': 'text/plain',
            Authorization: basic('test-key-1'),
            'CF-Connecting-IP': ip,
            Origin: 'https://shop.example',
          },
          body: JSON.stringify({ batch: [VALID_CALLS.track], sentAt: new Date().toISOString() }),
        },
        overrides,
      );
    let limited: Response | undefined;
    for (let i = 0; i < 5 && limited === undefined; i++) {
      const res = await send();
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(200);
    }
    if (limited === undefined) throw new Error('the test limiter never answered 429');
    expect(limited.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example');
    expect(waitMsBefore184(limited)).toBe(10_000);
    expect(waitMsSince184(limited)).toBe(10_000);
  });

  it('lets the preflight of analytics.js 1.84+ send Authorization and X-Retry-Count', async () => {
    const h = harness();
    for (const path of ['/v1/b', '/v1/t', '/v1/batch']) {
      const res = await h.fetch(path, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://shop.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-retry-count',
        },
      });
      expect(res.status).toBe(204);
      const allowed = (res.headers.get('Access-Control-Allow-Headers') ?? '').toLowerCase();
      expect(allowed).toContain('authorization');
      expect(allowed).toContain('x-retry-count');
      // Without a request list, the default names both too.
      const bare = await h.fetch(path, {
        method: 'OPTIONS',
        headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST' },
      });
      const defaults = (bare.headers.get('Access-Control-Allow-Headers') ?? '').toLowerCase();
      expect(defaults).toContain('authorization');
      expect(defaults).toContain('x-retry-count');
    }
  });
});
