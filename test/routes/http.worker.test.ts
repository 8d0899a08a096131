// The HTTP surface besides ingest bodies: CORS, pixels, settings, 404 and 405.
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { VALID_CALLS } from '../fixtures/calls';
import { basic, BASE_URL, harness, jsonPost } from '../support/worker';
import { captureErrors } from '../support/console';

const ORIGIN = 'https://shop.example';

function b64(value: unknown): string {
  return btoa(JSON.stringify(value));
}

describe('CORS', () => {
  it('answers a preflight from any origin by default', async () => {
    const h = harness();
    const res = await h.fetch('/v1/t', {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    expect(res.headers.get('Access-Control-Allow-Methods')).toContain('POST');
    expect(res.headers.get('Access-Control-Allow-Headers')).toBe('authorization,content-type');
    expect(res.headers.get('Access-Control-Max-Age')).toBe('86400');
  });

  it.each([
    ['/v1/batch', 'POST, OPTIONS'],
    ['/v1/b', 'POST, OPTIONS'],
    ['/v1/import', 'POST, OPTIONS'],
    ['/v1/t', 'GET, POST, OPTIONS'],
    ['/v1/track', 'GET, POST, OPTIONS'],
    ['/v1/pixel/track', 'GET, OPTIONS'],
    ['/v1/projects/k/settings', 'GET, OPTIONS'],
    ['/analytics.js/v1/k/analytics.min.js', 'GET, OPTIONS'],
  ])('advertises on %s exactly the methods it accepts (%s)', async (path, allow) => {
    const h = harness();
    const res = await h.fetch(path, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Methods')).toBe(allow);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    expect(res.headers.get('Vary')).toBe('Access-Control-Request-Headers, Origin');
    const plain = await h.fetch(path, { method: 'OPTIONS' });
    expect(plain.status).toBe(204);
    expect(plain.headers.get('Allow')).toBe(allow);
    // What a preflight advertises is never answered 405.
    for (const method of allow.split(', ').filter((m) => m !== 'OPTIONS')) {
      const actual = await h.fetch(path, { method, headers: { Origin: ORIGIN } });
      expect(actual.status, `${method} ${path}`).not.toBe(405);
    }
  });

  // Every route that is not ingest, the settings or analytics.js, each with the methods it takes.
  const OPERATOR_ROUTES: [string, string][] = [
    ['/', 'GET, OPTIONS'],
    ['/metrics', 'GET, OPTIONS'],
    ['/health', 'GET, OPTIONS'],
    ['/admin/dead-letters', 'GET, OPTIONS'],
    ['/admin/blocked', 'GET, OPTIONS'],
    ['/admin/replay', 'POST, OPTIONS'],
    ['/admin/audit', 'GET, OPTIONS'],
    ['/admin/tracking-plans', 'GET, OPTIONS'],
    ['/admin/tracking-plans/web', 'GET, PUT, DELETE, OPTIONS'],
    ['/debugger', 'GET, OPTIONS'],
    ['/debugger/sources', 'GET, OPTIONS'],
    ['/debugger/watch', 'POST, OPTIONS'],
    ['/debugger/ws', 'GET, OPTIONS'],
    ['/debugger/events', 'GET, OPTIONS'],
  ];

  it.each(OPERATOR_ROUTES)(
    'sends no Access-Control-Allow-Origin on the operator route %s for any origin',
    async (path, allow) => {
      const h = harness();
      const other = 'https://elsewhere.example';
      // Even an origin ALLOWED_ORIGINS names, and answers that succeed (the admin token sent).
      for (const overrides of [{}, { ALLOWED_ORIGINS: `${other}, *` }]) {
        const preflight = await h.fetch(
          path,
          {
            method: 'OPTIONS',
            headers: { Origin: other, 'Access-Control-Request-Method': 'GET' },
          },
          overrides,
        );
        expect(preflight.status).toBe(204);
        expect(preflight.headers.get('Allow')).toBe(allow);
        expect(preflight.headers.get('Access-Control-Allow-Origin')).toBeNull();
        expect(preflight.headers.get('Access-Control-Allow-Methods')).toBeNull();
        for (const method of allow.split(', ').filter((m) => m !== 'OPTIONS')) {
          const res = await h.fetch(
            path,
            {
              method,
              headers: { Origin: other, Authorization: 'Bearer test-admin-token' },
              ...(method === 'PUT' ? { body: '{}' } : {}),
            },
            overrides,
          );
          await res.arrayBuffer();
          expect(res.headers.get('Access-Control-Allow-Origin'), `${method} ${path}`).toBeNull();
        }
      }
    },
  );

  it.each(['/v2/track', '/v1/nope', '/favicon.ico'])(
    'answers OPTIONS on the unknown path %s with the JSON 404, not a preflight',
    async (path) => {
      const h = harness();
      const preflight: Record<string, string> = {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
      };
      for (const headers of [{}, preflight]) {
        const res = await h.fetch(path, { method: 'OPTIONS', headers });
        expect(res.status).toBe(404);
        expect(res.headers.get('Access-Control-Allow-Methods')).toBeNull();
        expect(await res.json()).toEqual({
          success: false,
          error: { code: 'not_found', message: 'no such route' },
        });
      }
    },
  );

  it('allows the origin on actual responses, errors included', async () => {
    const h = harness();
    const ok = await h.fetch(
      '/v1/t',
      jsonPost(VALID_CALLS.track, { Origin: ORIGIN, Authorization: basic('test-key-1') }),
    );
    expect(ok.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    const bad = await h.fetch('/v1/t', jsonPost('{', { Origin: ORIGIN }));
    expect(bad.status).toBe(400);
    expect(bad.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
  });

  it("leaves the collector's own origin alone, outside ALLOWED_ORIGINS too (the debugger page)", async () => {
    const h = harness();
    const res = await h.fetch(
      '/v1/t',
      jsonPost(VALID_CALLS.track, { Origin: BASE_URL, Authorization: basic('test-key-1') }),
      { ALLOWED_ORIGINS: 'https://a.example' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('admits only ALLOWED_ORIGINS when set, exact or by subdomain wildcard', async () => {
    const h = harness();
    const allowed = { ALLOWED_ORIGINS: 'https://a.example, https://*.b.example' };
    const preflight = (origin: string): Promise<Response> =>
      h.fetch('/v1/t', { method: 'OPTIONS', headers: { Origin: origin } }, allowed);
    expect((await preflight('https://a.example')).status).toBe(204);
    expect((await preflight('https://www.b.example')).status).toBe(204);
    const denied = await preflight('https://evil.example');
    expect(denied.status).toBe(403);
    expect((await denied.json<{ error: { code: string } }>()).error.code).toBe(
      'origin_not_allowed',
    );
    expect((await preflight('https://b.example.evil')).status).toBe(403);
    const post = await h.fetch(
      '/v1/t',
      jsonPost(
        { ...VALID_CALLS.track, writeKey: 'test-key-1' },
        { Origin: 'https://evil.example' },
      ),
      allowed,
    );
    expect(post.status).toBe(403);
    expect(h.queue.calls).toHaveLength(0);
    const server = await h.fetch(
      '/v1/t',
      jsonPost({ ...VALID_CALLS.track, writeKey: 'test-key-1' }),
      allowed,
    );
    expect(server.status).toBe(200);
  });
});

describe('GET forms of single calls', () => {
  it('accepts GET /v1/{type}?data=<base64 JSON> with the writeKey inside', async () => {
    const h = harness();
    const res = await h.fetch(
      `/v1/track?data=${encodeURIComponent(b64({ ...VALID_CALLS.track, writeKey: 'test-key-1' }))}`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    expect(h.queue.events()[0]?.['event']).toBe('NDC');
  });

  it('accepts URL-safe base64 and a + that arrived as a space', async () => {
    const h = harness();
    const call = { ...VALID_CALLS.page, writeKey: 'test-key-1', properties: { q: '>>>???' } };
    const standard = b64(call);
    expect(standard).toMatch(/[+/]/);
    const urlSafe = standard.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect((await h.fetch(`/v1/p?data=${urlSafe}`)).status).toBe(200);
    expect((await h.fetch(`/v1/p?data=${standard.replace(/\//g, '%2F')}`)).status).toBe(200);
    expect(h.queue.events()).toHaveLength(2);
  });

  it('answers a call without a key naming where this route takes one', async () => {
    const h = harness();
    const res = await h.fetch(`/v1/track?data=${encodeURIComponent(b64(VALID_CALLS.track))}`);
    expect(res.status).toBe(401);
    const { error } = await res.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('missing_write_key');
    expect(error.message).toBe(
      'a write key is required: HTTP Basic (writeKey:) or writeKey inside the data JSON',
    );
  });

  it.each([
    ['no data', '/v1/track', 'missing_data'],
    ['bad base64', '/v1/track?data=%25%25%25', 'invalid_encoding'],
    ['base64 of non-JSON', `/v1/track?data=${btoa('nope')}`, 'invalid_json'],
  ])('answers %s with 400 %s', async (_n, path, reason) => {
    const h = harness();
    const res = await h.fetch(path);
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe(reason);
  });

  it('answers 413 when the decoded call is over 32 KiB', async () => {
    const h = harness();
    const big = {
      ...VALID_CALLS.track,
      writeKey: 'test-key-1',
      properties: { pad: 'z'.repeat(33_000) },
    };
    const res = await h.fetch(`/v1/track?data=${b64(big)}`);
    expect(res.status).toBe(413);
  });
});

describe('pixel API', () => {
  it('queues the call and answers a 1×1 GIF', async () => {
    const h = harness();
    const res = await h.fetch(
      `/v1/pixel/track?data=${b64({ ...VALID_CALLS.track, writeKey: 'test-key-1' })}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/gif');
    const gif = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(gif.slice(0, 6))).toBe('GIF89a');
    expect([gif[6], gif[8]]).toEqual([1, 1]);
    expect(res.headers.get('X-Ndc-Segment-Error')).toBeNull();
    expect(h.queue.events()).toHaveLength(1);
  });

  it.each([
    ['no data', '/v1/pixel/page', 'missing_data'],
    [
      'an unknown key',
      `/v1/pixel/page?data=${b64({ ...VALID_CALLS.page, writeKey: 'zzz' })}`,
      'invalid_write_key',
    ],
    [
      'an invalid call',
      `/v1/pixel/track?data=${b64({ writeKey: 'test-key-1', userId: 'u' })}`,
      'missing_field',
    ],
  ])('still answers the GIF on %s, naming the error', async (_n, path, reason) => {
    const h = harness();
    const res = await h.fetch(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/gif');
    expect(res.headers.get('X-Ndc-Segment-Error')).toBe(reason);
    expect(h.queue.calls).toHaveLength(0);
  });

  it('still answers the GIF when the queue is down', async () => {
    const errors = captureErrors();
    const h = harness({ failQueue: true });
    const res = await h.fetch(
      `/v1/pixel/track?data=${b64({ ...VALID_CALLS.track, writeKey: 'test-key-1' })}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Ndc-Segment-Error')).toBe('queue_unavailable');
    expect(errors).toHaveBeenCalledWith('queue send failed', expect.stringContaining('outage'));
  });
});

describe('GET /v1/projects/:writeKey/settings', () => {
  it('serves settings that make this Worker the only destination, with a cache header', async () => {
    const h = harness();
    const res = await h.fetch('/v1/projects/test-key-1/settings');
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=300');
    const json = await res.json<{ integrations: Record<string, unknown>; metrics: unknown }>();
    expect(json.integrations).toEqual({
      'Segment.io': {
        apiKey: 'test-key-1',
        apiHost: 'collector.test/v1',
        protocol: 'https',
        deliveryStrategy: { strategy: 'batching', config: { size: 10, timeout: 5000 } },
      },
    });
    expect(json.metrics).toEqual({ sampleRate: 0 });
  });

  type Served = { integrations: { 'Segment.io': { deliveryStrategy: unknown } } };
  const strategy = async (overrides: Partial<Env>): Promise<unknown> => {
    const res = await harness().fetch('/v1/projects/test-key-1/settings', {}, overrides);
    expect(res.status).toBe(200);
    return (await res.json<Served>()).integrations['Segment.io'].deliveryStrategy;
  };

  it('tells analytics.js to batch as BROWSER_BATCH_SIZE and BROWSER_BATCH_TIMEOUT_MS say', async () => {
    expect(await strategy({ BROWSER_BATCH_SIZE: '25', BROWSER_BATCH_TIMEOUT_MS: '2000' })).toEqual({
      strategy: 'batching',
      config: { size: 25, timeout: 2000 },
    });
    // Unset: the defaults, batching on.
    expect(
      await strategy({ BROWSER_BATCH_SIZE: undefined, BROWSER_BATCH_TIMEOUT_MS: undefined }),
    ).toEqual({ strategy: 'batching', config: { size: 10, timeout: 5000 } });
  });

  it('leaves analytics.js unbatched with BROWSER_BATCH_SIZE=1', async () => {
    expect(await strategy({ BROWSER_BATCH_SIZE: '1' })).toEqual({ strategy: 'standard' });
  });

  it('answers 404 for an unknown write key', async () => {
    const h = harness();
    const res = await h.fetch('/v1/projects/unknown/settings');
    expect(res.status).toBe(404);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('not_found');
  });
});

describe('routing', () => {
  it('answers an unknown path with 404 JSON', async () => {
    const h = harness();
    const res = await h.fetch('/v2/track', { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      success: false,
      error: { code: 'not_found', message: 'no such route' },
    });
  });

  it.each([
    ['GET', '/v1/batch', 'POST, OPTIONS'],
    ['PUT', '/v1/track', 'GET, POST, OPTIONS'],
    ['DELETE', '/v1/t', 'GET, POST, OPTIONS'],
    ['POST', '/v1/pixel/track', 'GET, OPTIONS'],
    ['POST', '/v1/projects/k/settings', 'GET, OPTIONS'],
    ['POST', '/metrics', 'GET, OPTIONS'],
    ['DELETE', '/', 'GET, OPTIONS'],
    ['GET', '/admin/replay', 'POST, OPTIONS'],
  ])('answers %s %s with 405 and Allow', async (method, path, allow) => {
    const h = harness();
    const res = await h.fetch(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe(allow);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('method_not_allowed');
  });
});
