// Operator endpoints for tracking plans, behind ADMIN_TOKEN: PUT, GET and DELETE
// /admin/tracking-plans/:source, and GET /admin/tracking-plans (every source's version).
// Adapter: the plan rules are in src/plans/plan.ts, the KV layout in src/plans/store.ts.

import type { Context } from 'hono';
import type { Env } from '../env';
import { PLAN_MAX_BYTES } from '../plans/limits';
import { makeVersion } from '../plans/layout';
import { checkPlanPatterns } from '../plans/patterns';
import { parsePlan } from '../plans/plan';
import { recheckRegex } from '../plans/redos';
import { deletePlan, listVersions, readPlan, savePlan } from '../plans/store';
import { ingestError } from '../segment/errors';
import { SOURCE_NAME } from '../segment/write-keys';
import { authorize } from './roles';
import { parseJson, readBody } from './body';
import { audit } from './audit';
import type { AppDeps, AppEnv } from './deps';
import { IngestHttpError, unwrap } from './error-response';

type Ctx = Context<AppEnv>;

async function authorised(c: Ctx): Promise<void> {
  await authorize(c, 'admin');
}

/** The :source parameter, a source name as WRITE_KEYS names them (src/segment/write-keys.ts). */
function sourceParam(c: Ctx): string {
  const source = c.req.param('source') ?? '';
  if (!SOURCE_NAME.test(source)) {
    throw new IngestHttpError(
      ingestError('invalid_field', 'a source name is letters, digits, ".", "_" and "-"', 'source'),
    );
  }
  return source;
}

function namespace(env: Env): KVNamespace {
  const kv = env.TRACKING_PLANS;
  if (kv === undefined) {
    throw new IngestHttpError(
      ingestError('not_found', 'tracking plans are off: no TRACKING_PLANS namespace is bound'),
    );
  }
  return kv;
}

/** Runs a write to the plans' namespace; a refusal (KV down, a key written too often) is a 503. */
async function writing<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    console.error(`tracking plan ${what} failed`, e instanceof Error ? e.message : String(e));
    throw new IngestHttpError(
      ingestError(
        'tracking_plan_unavailable',
        `the tracking plans namespace refused the ${what}; retry later`,
      ),
    );
  }
}

function noPlan(source: string): IngestHttpError {
  return new IngestHttpError(ingestError('not_found', `source ${source} has no tracking plan`));
}

/** PUT: checks and compiles every schema, refuses super-linear expressions, saves the plan under a new version, applies it here. */
export async function putTrackingPlan(c: Ctx, deps: AppDeps): Promise<Response> {
  await authorised(c);
  const source = sourceParam(c);
  const kv = namespace(c.env);
  const body = unwrap(await readBody(c.req.raw, PLAN_MAX_BYTES));
  const parsed = unwrap(parsePlan(unwrap(parseJson(body.text))));
  // Only here, never when an isolate loads a plan: the checker is for saving (src/plans/redos.ts).
  const checked = unwrap(await checkPlanPatterns(parsed.document, recheckRegex));
  const version = makeVersion(deps.now(), deps.newId());
  await writing('save', () => savePlan(kv, source, version, parsed.document));
  deps.plans.install(source, version, parsed.compiled);
  await audit(c, deps, 'tracking_plan.put', source, {
    version,
    bytes: body.bytes,
    events: parsed.compiled.events?.size ?? null,
    types: Object.keys(parsed.compiled.types).length,
    expressions: checked.regexes,
    unplannedEvents: parsed.document.unplannedEvents,
    violations: parsed.document.violations,
  });
  return c.json({ success: true, source, version });
}

export async function getTrackingPlan(c: Ctx): Promise<Response> {
  await authorised(c);
  const source = sourceParam(c);
  const stored = await readPlan(namespace(c.env), source);
  if (stored === undefined) throw noPlan(source);
  return c.json({ success: true, source, version: stored.version, plan: stored.document });
}

export async function deleteTrackingPlan(c: Ctx, deps: AppDeps): Promise<Response> {
  await authorised(c);
  const source = sourceParam(c);
  const version = await writing('delete', () => deletePlan(namespace(c.env), source));
  if (version === undefined) throw noPlan(source);
  deps.plans.forget(source);
  await audit(c, deps, 'tracking_plan.delete', source, { version });
  return c.json({ success: true, source, deleted: version });
}

export async function listTrackingPlans(c: Ctx): Promise<Response> {
  await authorised(c);
  const versions = await listVersions(namespace(c.env));
  return c.json({ success: true, plans: Object.fromEntries([...versions].sort()) });
}
