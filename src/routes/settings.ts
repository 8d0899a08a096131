// GET /v1/projects/:writeKey/settings: the settings analytics.js fetches at boot (from its
// `cdn`), naming this collector as the only host it talks to (src/analytics-js/settings.ts).

import type { Context } from 'hono';
import { deliveryStrategy } from '../analytics-js/delivery';
import { parsePublicHost, publicOrigin } from '../analytics-js/public-host';
import { settingsFor } from '../analytics-js/settings';
import { ingestError } from '../segment/errors';
import { sourceForKey } from './auth';
import type { AppEnv } from './deps';
import { IngestHttpError } from './error-response';

// Ours: analytics.js fetches settings on every page load; five minutes of browser and edge
// caching spares the Worker without delaying a change of WRITE_KEYS for long.
export const SETTINGS_CACHE_SECONDS = 300;

export async function getSettings(c: Context<AppEnv>): Promise<Response> {
  const writeKey = c.req.param('writeKey') ?? '';
  if ((await sourceForKey(c.env, writeKey)) === undefined) {
    throw new IngestHttpError(ingestError('not_found', 'no project has this write key'));
  }
  const configured = parsePublicHost(c.env.PUBLIC_HOST);
  if (!configured.ok) {
    // An operator's mistake: say so in the log, and nothing to the browser.
    console.error(`PUBLIC_HOST ${configured.error.message}`);
    throw new IngestHttpError(ingestError('internal_error', 'internal error'));
  }
  const delivery = deliveryStrategy(c.env.BROWSER_BATCH_SIZE, c.env.BROWSER_BATCH_TIMEOUT_MS);
  const origin = publicOrigin(c.req.url, configured.value);
  return c.json(settingsFor(writeKey, origin, delivery), 200, {
    'Cache-Control': `public, max-age=${SETTINGS_CACHE_SECONDS}`,
  });
}
