// GET /v1/projects/:writeKey/settings through the Worker: settings that name the host the
// browser came to (or PUBLIC_HOST) as the only place analytics.js talks to.
import { SELF } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { harness } from '../support/worker';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GET /v1/projects/:writeKey/settings on the host the browser used', () => {
  interface Settings {
    integrations: Record<string, { apiHost: string; deliveryStrategy?: unknown }>;
  }
  // Where the settings send: the Segment.io integration without its delivery strategy (tested
  // in http.worker.test.ts and analytics-js/settings.unit.test.ts).
  const segmentIo = async (res: Response): Promise<unknown> =>
    Object.fromEntries(
      Object.entries((await res.json<Settings>()).integrations).map(([name, s]) => {
        const { deliveryStrategy: _strategy, ...where } = s;
        return [name, where];
      }),
    );

  it('names the request host, port and scheme as the only destination', async () => {
    const res = await SELF.fetch('https://collect.shop.example/v1/projects/test-key-1/settings');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      integrations: {
        'Segment.io': {
          apiKey: 'test-key-1',
          apiHost: 'collect.shop.example/v1',
          protocol: 'https',
          deliveryStrategy: { strategy: 'batching', config: { size: 10, timeout: 5000 } },
        },
      },
      plan: { track: { __default: { enabled: true } }, identify: { __default: { enabled: true } } },
      metrics: { sampleRate: 0 },
      enabledMiddleware: {},
      middlewareSettings: { routingRules: [] },
      remotePlugins: [],
      legacyVideoPluginsEnabled: false,
    });
    const local = await SELF.fetch('http://127.0.0.1:8787/v1/projects/test-key-1/settings');
    expect(await segmentIo(local)).toEqual({
      'Segment.io': { apiKey: 'test-key-1', apiHost: '127.0.0.1:8787/v1', protocol: 'http' },
    });
  });

  it('names PUBLIC_HOST instead when set: a bare host keeps the request scheme', async () => {
    const res = await harness().fetch('/v1/projects/test-key-1/settings', undefined, {
      PUBLIC_HOST: 'collect.shop.example',
    });
    expect(await segmentIo(res)).toEqual({
      'Segment.io': { apiKey: 'test-key-1', apiHost: 'collect.shop.example/v1', protocol: 'https' },
    });
  });

  it('takes the scheme from PUBLIC_HOST when it is a URL', async () => {
    const res = await harness().fetch('/v1/projects/test-key-1/settings', undefined, {
      PUBLIC_HOST: 'http://localhost:8787',
    });
    expect(await segmentIo(res)).toEqual({
      'Segment.io': { apiKey: 'test-key-1', apiHost: 'localhost:8787/v1', protocol: 'http' },
    });
  });

  it('answers 500 and logs why when PUBLIC_HOST is not a host', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await harness().fetch('/v1/projects/test-key-1/settings', undefined, {
      PUBLIC_HOST: 'https://collect.shop.example/v1',
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      success: false,
      error: { code: 'internal_error', message: 'internal error' },
    });
    expect(logged.mock.calls.join(' ')).toMatch(/^PUBLIC_HOST must be a scheme and host only/);
  });
});
