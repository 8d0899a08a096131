// The one call ingest makes into tracking plans: the source's plan (from the isolate's cache)
// applied to one request's accepted events. Adapter over cache.ts and the pure enforce.ts.

import type { PlansEnv } from '../env';
import { ingestError, type IngestError } from '../segment/errors';
import type { QueuedEvent } from '../segment/ingest';
import { err, ok, type Result } from '../segment/types';
import type { PlanCache, WaitUntil } from './cache';
import { enforcePlan, unchecked, type PlanOutcome } from './enforce';

/**
 * The events to queue and the ones to archive as blocked. A source without a plan costs a Map
 * read. When the plan cannot be known (a new isolate that cannot read KV) the request is
 * refused with a 503, so the client retries rather than events going unchecked.
 */
export async function applyTrackingPlan(
  env: PlansEnv,
  cache: PlanCache,
  source: string,
  events: readonly QueuedEvent[],
  waitUntil: WaitUntil,
): Promise<Result<PlanOutcome, IngestError>> {
  let plan;
  try {
    plan = await cache.planFor(env, source, waitUntil);
  } catch (e) {
    console.error('tracking plan unavailable', e instanceof Error ? e.message : String(e));
    return err(
      ingestError(
        'tracking_plan_unavailable',
        "the source's tracking plan cannot be read; retry later",
      ),
    );
  }
  return ok(plan === undefined ? unchecked(events) : enforcePlan(plan, events));
}
