// GET /analytics.js/v1/:writeKey/analytics.min.js: the entry file of analytics.js, the
// standalone build of the pinned @segment/analytics-next, from the Worker's static assets,
// for known write keys only. Its chunks are static assets served without the Worker
// (src/analytics-js/assets.ts).

import type { Context } from 'hono';
import { ENTRY_ASSET_PATH, ENTRY_CACHE_CONTROL } from '../analytics-js/assets';
import { ingestError } from '../segment/errors';
import { sourceForKey } from './auth';
import type { AppEnv } from './deps';
import { IngestHttpError } from './error-response';

export async function getAnalyticsJs(c: Context<AppEnv>): Promise<Response> {
  const writeKey = c.req.param('writeKey') ?? '';
  // As Segment's CDN does for an unknown key; analytics.js then never boots (a booted one that
  // fails to load settings reports the error to api.segment.io, src/browser/standalone.ts).
  if ((await sourceForKey(c.env, writeKey)) === undefined) {
    throw new IngestHttpError(ingestError('not_found', 'no project has this write key'));
  }
  // The browser's conditional headers go along, so a revalidation can end in a 304.
  const asset = await c.env.ASSETS.fetch(new URL(ENTRY_ASSET_PATH, c.req.url), {
    method: c.req.method,
    headers: c.req.raw.headers,
  });
  if (asset.status !== 200 && asset.status !== 304) {
    // The assets were not built into this deploy (wrangler.toml [build]).
    console.error(`analytics.js entry asset answered ${asset.status}`);
    await asset.body?.cancel();
    throw new IngestHttpError(ingestError('internal_error', 'internal error'));
  }
  const res = new Response(asset.body, asset);
  res.headers.set('Cache-Control', ENTRY_CACHE_CONTROL);
  return res;
}
