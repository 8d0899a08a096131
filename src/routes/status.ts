// HTTP edge of the status page (docs/observability.md, "Status page"): the page itself, open to
// anyone as the debugger's is (it holds no data and asks for the token), and its data,
// GET /admin/status: each source's last hour by minute, from the metrics shards. Adapter: the
// series are made by src/metrics/minutes.ts.

import type { Context } from 'hono';
import { readStatusMinutes } from '../metrics/isolate';
import { statusSeries } from '../metrics/minutes';
import { STATUS_SCRIPT, STATUS_STYLE, statusHtml } from '../status/page';
import { sourceNames } from './auth';
import type { AppEnv } from './deps';
import { pageHeaders } from './page-policy';
import { authorize, secretsFor } from './roles';

type Ctx = Context<AppEnv>;

/** GET /status: the page (it explains how to turn it on when neither token is set). */
export async function getStatusPage(c: Ctx): Promise<Response> {
  const enabled = secretsFor(c.env, 'viewer').length > 0;
  return c.html(statusHtml(enabled), 200, await pageHeaders(STATUS_SCRIPT, STATUS_STYLE));
}

/**
 * GET /admin/status: `{ minutes, sources: { <source>: { received, delivered, rejected,
 * deadLettered, lagSeconds, lagMaxSeconds } } }`, one entry per minute of the last hour, for
 * every configured source and any other that sent in that hour.
 */
export async function getAdminStatus(c: Ctx): Promise<Response> {
  // Role viewer: ADMIN_TOKEN or the read-only DEBUGGER_TOKEN (src/routes/roles.ts).
  await authorize(c, 'viewer');
  const [ring, known] = await Promise.all([readStatusMinutes(c.env), sourceNames(c.env)]);
  return c.json(statusSeries(ring, Date.now(), known), 200, { 'Cache-Control': 'no-store' });
}
