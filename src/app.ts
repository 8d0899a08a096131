// The Hono app: metrics middleware, CORS on the browser routes, every route mounted, one
// onError, one notFound.

import { Hono } from 'hono';
import { recordRejected, recordRequest, routeLabel } from './metrics/record';
import { listBlocked, listDeadLetters, replayDeadLetters } from './routes/admin';
import { getAnalyticsJs } from './routes/analytics-js';
import { getAudit } from './routes/audit';
import { cors, preflight } from './routes/cors';
import {
  getDebuggerEvents,
  getDebuggerPage,
  getDebuggerSocket,
  getDebuggerSources,
  postDebuggerWatch,
} from './routes/debugger';
import { runtimeDeps, type AppDeps, type AppEnv } from './routes/deps';
import { errorResponse, IngestHttpError } from './routes/error-response';
import { getPixel, getSingle, postBatch, postSingle } from './routes/ingest';
import { getHealth, getMetrics } from './routes/observability';
import {
  deletePrivacyPolicy,
  getPrivacyPolicy,
  getSuppressions,
  listPrivacyPolicies,
  postSuppressions,
  putPrivacyPolicy,
  removeSuppressions,
} from './routes/privacy';
import { getSettings } from './routes/settings';
import { getAdminStatus, getStatusPage } from './routes/status';
import {
  deleteTrackingPlan,
  getTrackingPlan,
  listTrackingPlans,
  putTrackingPlan,
} from './routes/tracking-plans';
import { ingestError } from './segment/errors';
import { EVENT_TYPES, PATH_TYPES, type EventType } from './segment/types';
import { NAME, VERSION } from './version';

// Hono splices a param pattern into its route regex as-is, so an alternation must be grouped:
// an ungrouped `track|t|p` also matched /v1/projects/… .
const SINGLE_PATHS = `(?:${Object.keys(PATH_TYPES).join('|')})`;
const PIXEL_TYPES = `(?:${EVENT_TYPES.join('|')})`;
const BATCH_PATHS = ['/v1/batch', '/v1/import', '/v1/b'];

function pathType(name: string | undefined): EventType {
  const type = name === undefined ? undefined : PATH_TYPES[name];
  // The route patterns admit only names in PATH_TYPES.
  if (type === undefined) throw new IngestHttpError(ingestError('not_found', 'no such route'));
  return type;
}

function methodNotAllowed(allow: string) {
  return (): Response =>
    errorResponse(ingestError('method_not_allowed', `this route accepts ${allow}`), {
      Allow: allow,
    });
}

export function createApp(deps: AppDeps = runtimeDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Outermost: every answer (errors and CORS refusals included) is counted, and the request
  // ends by arming the metrics flush; neither delays the response.
  app.use('*', async (c, next) => {
    await next();
    recordRequest(deps.metrics, routeLabel(c.req.path), c.res.status);
    deps.afterRequest(c.env, c.executionCtx);
  });

  // CORS only where browsers send events and load analytics.js (`browser`, before the path's
  // handlers): every other route (/metrics, /health, /admin/*, /debugger/*) answers no origin
  // but its own, so no other page can read it (docs/security.md).
  const browser = (path: string): void => {
    app.use(path, cors());
  };
  // Each path: its handlers, then OPTIONS (on a browser path the CORS preflight, advertising
  // exactly `allow`; elsewhere a plain `Allow`), then a 405 naming `allow` for any other method.
  const accepts = (path: string, allow: string): void => {
    app.options(path, preflight(allow));
    app.all(path, methodNotAllowed(allow));
  };

  app.get('/', (c) => c.json({ name: NAME, version: VERSION }));
  accepts('/', 'GET, OPTIONS');
  app.get('/metrics', getMetrics);
  accepts('/metrics', 'GET, OPTIONS');
  app.get('/health', getHealth);
  accepts('/health', 'GET, OPTIONS');

  const routes: Routes = { app, deps, accepts, browser };
  ingestRoutes(routes);
  adminRoutes(routes);
  viewerRoutes(routes);

  app.notFound(() => errorResponse(ingestError('not_found', 'no such route')));
  app.onError((e) => {
    if (e instanceof IngestHttpError) {
      recordRejected(deps.metrics, e.error.reason);
      return errorResponse(e.error);
    }
    // Anything else is a bug: log its message (never the request) and leak nothing.
    console.error('unhandled error', e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    recordRejected(deps.metrics, 'internal_error');
    return errorResponse(ingestError('internal_error', 'internal error'));
  });
  return app;
}

/** What the route tables below add their routes with (createApp's helpers). */
interface Routes {
  app: Hono<AppEnv>;
  deps: AppDeps;
  /** A path's OPTIONS and 405 for any method but `allow`. */
  accepts: (path: string, allow: string) => void;
  /** CORS on a path browsers send events to or load analytics.js from. */
  browser: (path: string) => void;
}

/** The Segment routes browsers and SDKs send to, and analytics.js with its settings. */
function ingestRoutes({ app, deps, accepts, browser }: Routes): void {
  for (const path of BATCH_PATHS) {
    browser(path);
    app.post(path, (c) => postBatch(c, deps));
    accepts(path, 'POST, OPTIONS');
  }
  browser(`/v1/pixel/:type{${PIXEL_TYPES}}`);
  app.get(`/v1/pixel/:type{${PIXEL_TYPES}}`, (c) =>
    getPixel(c, deps, pathType(c.req.param('type'))),
  );
  accepts(`/v1/pixel/:type{${PIXEL_TYPES}}`, 'GET, OPTIONS');
  browser(`/v1/:type{${SINGLE_PATHS}}`);
  app.post(`/v1/:type{${SINGLE_PATHS}}`, (c) => postSingle(c, deps, pathType(c.req.param('type'))));
  app.get(`/v1/:type{${SINGLE_PATHS}}`, (c) => getSingle(c, deps, pathType(c.req.param('type'))));
  accepts(`/v1/:type{${SINGLE_PATHS}}`, 'GET, POST, OPTIONS');
  browser('/v1/projects/:writeKey/settings');
  app.get('/v1/projects/:writeKey/settings', getSettings);
  accepts('/v1/projects/:writeKey/settings', 'GET, OPTIONS');
  // analytics.js itself; its chunks (/analytics-next/bundles/*) are static assets.
  browser('/analytics.js/v1/:writeKey/analytics.min.js');
  app.get('/analytics.js/v1/:writeKey/analytics.min.js', getAnalyticsJs);
  accepts('/analytics.js/v1/:writeKey/analytics.min.js', 'GET, OPTIONS');
}

/** Operator routes of the admin role: the archive, replay, the audit trail, plans, privacy. */
function adminRoutes({ app, deps, accepts }: Routes): void {
  app.get('/admin/dead-letters', listDeadLetters);
  accepts('/admin/dead-letters', 'GET, OPTIONS');
  app.get('/admin/blocked', listBlocked);
  accepts('/admin/blocked', 'GET, OPTIONS');
  app.post('/admin/replay', (c) => replayDeadLetters(c, deps));
  accepts('/admin/replay', 'POST, OPTIONS');
  app.get('/admin/audit', getAudit);
  accepts('/admin/audit', 'GET, OPTIONS');
  app.get('/admin/tracking-plans', listTrackingPlans);
  accepts('/admin/tracking-plans', 'GET, OPTIONS');
  app.put('/admin/tracking-plans/:source', (c) => putTrackingPlan(c, deps));
  app.get('/admin/tracking-plans/:source', getTrackingPlan);
  app.delete('/admin/tracking-plans/:source', (c) => deleteTrackingPlan(c, deps));
  accepts('/admin/tracking-plans/:source', 'GET, PUT, DELETE, OPTIONS');
  // Privacy (docs/privacy.md).
  app.get('/admin/privacy', listPrivacyPolicies);
  accepts('/admin/privacy', 'GET, OPTIONS');
  app.put('/admin/privacy/:source', (c) => putPrivacyPolicy(c, deps));
  app.get('/admin/privacy/:source', getPrivacyPolicy);
  app.delete('/admin/privacy/:source', (c) => deletePrivacyPolicy(c, deps));
  accepts('/admin/privacy/:source', 'GET, PUT, DELETE, OPTIONS');
  app.post('/admin/suppressions', (c) => postSuppressions(c, deps));
  app.get('/admin/suppressions', getSuppressions);
  accepts('/admin/suppressions', 'GET, POST, OPTIONS');
  app.post('/admin/suppressions/remove', (c) => removeSuppressions(c, deps));
  accepts('/admin/suppressions/remove', 'POST, OPTIONS');
}

/** Routes a viewer (DEBUGGER_TOKEN) may open too: the live debugger and the status page. */
function viewerRoutes({ app, deps, accepts }: Routes): void {
  // The live debugger (docs/debugger.md).
  app.get('/debugger', getDebuggerPage);
  accepts('/debugger', 'GET, OPTIONS');
  app.get('/debugger/sources', getDebuggerSources);
  accepts('/debugger/sources', 'GET, OPTIONS');
  app.post('/debugger/watch', (c) => postDebuggerWatch(c, deps));
  accepts('/debugger/watch', 'POST, OPTIONS');
  app.get('/debugger/ws', getDebuggerSocket);
  accepts('/debugger/ws', 'GET, OPTIONS');
  app.get('/debugger/events', (c) => getDebuggerEvents(c, deps));
  accepts('/debugger/events', 'GET, OPTIONS');

  // The status page (docs/observability.md, "Status page").
  app.get('/status', getStatusPage);
  accepts('/status', 'GET, OPTIONS');
  app.get('/admin/status', getAdminStatus);
  accepts('/admin/status', 'GET, OPTIONS');
}
