// GET /v1/projects/:writeKey/settings: the settings analytics.js fetches at boot (from its
// `cdn`), naming this Worker as the only destination so no event goes to Segment's servers.

import type { Context } from 'hono';
import type { AppEnv } from './deps';
import { ingestError } from '../segment/errors';
import { sourceForKey } from './auth';
import { IngestHttpError } from './error-response';

// Ours: analytics.js fetches settings on every page load; five minutes of browser and edge
// caching spares the Worker without delaying a change of WRITE_KEYS for long.
export const SETTINGS_CACHE_SECONDS = 300;

/**
 * The settings document. analytics-next reads `integrations["Segment.io"]` for `apiKey`,
 * `apiHost` (host + path, no scheme) and `protocol`; `metrics.sampleRate: 0` stops it posting
 * its own telemetry to api.segment.io.
 */
export function settingsFor(writeKey: string, requestUrl: string): Record<string, unknown> {
  const url = new URL(requestUrl);
  return {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost: `${url.host}/v1`,
        protocol: url.protocol.replace(':', ''),
      },
    },
    plan: { track: { __default: { enabled: true } }, identify: { __default: { enabled: true } } },
    metrics: { sampleRate: 0 },
    enabledMiddleware: {},
    middlewareSettings: {},
    remotePlugins: [],
  };
}

export async function getSettings(c: Context<AppEnv>): Promise<Response> {
  const writeKey = c.req.param('writeKey') ?? '';
  if ((await sourceForKey(c.env, writeKey)) === undefined) {
    throw new IngestHttpError(ingestError('not_found', 'no project has this write key'));
  }
  return c.json(settingsFor(writeKey, c.req.url), 200, {
    'Cache-Control': `public, max-age=${SETTINGS_CACHE_SECONDS}`,
  });
}
