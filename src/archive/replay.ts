// Replay: archived objects back onto a queue, for POST /admin/replay. Adapter over R2, the
// queues and the tracking plans; the format is parse.ts's, the claims claims.ts's.
//
// Replay is safe to run twice at once or after a crash: each object is claimed first (an R2
// marker created only if absent, taken over only once stale, with compare-and-swap), its groups
// are queued in order with the claim recording how many are done, and the object moves from
// dead-letters/ to replayed/ (forward-dead-letters/ to forward-replayed/) only after all of
// them. A second replay skips a claimed object; a replay resumed after a crash skips the groups
// already queued. Replayed events keep their messageId, receivedAt and the dedupe token of
// their first delivery.
//
// Blocked events (blocked/<source>/…) are checked again against the plan now in force (read
// afresh from KV) before the claim is taken: those that pass go back on the queue (annotated or
// omitted as that plan says), and those that still fail stay archived at the same key, annotated
// afresh, while the object as it was moves to replayed/blocked/…; the answer counts them as
// `stillBlocked`. A replay resumed after a crash checks every group again, so an event queued
// before the crash that a plan changed since would now block is archived again too (once more
// in the archive, never twice on the queue).

import type { Env } from '../env';
import type { CompiledPlan } from '../plans/plan';
import { recheckArchive, type Rechecked } from '../plans/replay';
import { enqueueEvents, eventsQueues, pickQueue } from '../queue/producer';
import { ingestError, type IngestError } from '../segment/errors';
import { err, ok, type JsonObject, type Result } from '../segment/types';
import { takeClaim, updateClaim, type Claimed } from './claims';
import { BLOCKED_PREFIX, claimKey, replayRoute } from './keys';
import { eventMessageId, parseArchive, type ParsedArchive } from './parse';

export interface ReplayDeps {
  now: () => number;
  random: () => number;
  newId: () => string;
  /** The source's tracking plan in force now, read afresh (throws when it cannot be read). */
  currentPlan: (source: string) => Promise<CompiledPlan | undefined>;
  /** Counts events put back on a queue. */
  replayed: (events: number) => void;
}

export interface ReplayRequest {
  prefix: string;
  limit: number;
  cursor?: string;
}

export interface ReplayAnswer {
  objects: number;
  events: number;
  skipped: number;
  /** Blocked events a plan still refuses (only for blocked/ prefixes). */
  stillBlocked?: number;
  replayed: string[];
  busy: string[];
  truncated: boolean;
  cursor?: string;
}

type ObjectOutcome =
  | { kind: 'replayed'; events: number; skipped: number; stillBlocked: number }
  | { kind: 'busy' }
  | { kind: 'gone' }
  | { kind: 'failed'; error: IngestError };

const QUEUE_REFUSED = ingestError(
  'queue_unavailable',
  'the event queue refused the replay; retry later',
);
const PLANS_UNAVAILABLE = ingestError(
  'tracking_plan_unavailable',
  'the tracking plans cannot be read; retry later',
);

/** Each source's plan in force now, for a replay of blocked events; undefined when unreadable. */
async function plansInForce(
  deps: ReplayDeps,
  archive: ParsedArchive,
): Promise<Map<string, CompiledPlan | undefined> | undefined> {
  const plans = new Map<string, CompiledPlan | undefined>();
  for (const source of new Set(archive.groups.map((g) => g.source))) {
    try {
      plans.set(source, await deps.currentPlan(source));
    } catch (e) {
      console.error('tracking plan unavailable', e instanceof Error ? e.message : String(e));
      return undefined;
    }
  }
  return plans;
}

/**
 * Once every group is back on the queue: the object as it was is copied to replayed/ (or
 * forward-replayed/), and removed, or (blocked events the plan still refuses) rewritten with
 * those alone; the claim goes.
 */
async function finishReplay(
  bucket: R2Bucket,
  key: string,
  stored: { text: string; etag: string; customMetadata?: Record<string, string> },
  rechecked: Rechecked | undefined,
  replayedAt: string,
): Promise<void> {
  const moved = replayRoute(key, stored.etag)?.replayedKey ?? key;
  const stillBlocked = rechecked?.stillEvents ?? 0;
  await bucket.put(moved, stored.text, {
    httpMetadata: { contentType: 'application/x-ndjson' },
    customMetadata: {
      ...(stored.customMetadata ?? {}),
      replayedAt,
      ...(rechecked === undefined ? {} : { stillBlocked: String(stillBlocked) }),
    },
  });
  if (rechecked === undefined || stillBlocked === 0) {
    await bucket.delete([key, claimKey(key)]);
    return;
  }
  await bucket.put(key, rechecked.still, {
    httpMetadata: { contentType: 'application/x-ndjson' },
    customMetadata: { events: String(stillBlocked), recheckedAt: replayedAt },
  });
  await bucket.delete(claimKey(key));
}

/** The queue an object's events go back to; undefined when it is not bound. */
function targetQueue(env: Env, key: string, deps: ReplayDeps): Queue<string> | undefined {
  if (replayRoute(key)?.queue === 'forward') return env.FORWARD;
  return pickQueue(eventsQueues(env), deps.random)?.queue;
}

/** Queues the object's groups from the claim's progress on; the events queued, or why not. */
async function queueGroups(
  env: Env,
  key: string,
  archive: ParsedArchive,
  deliver: ReadonlyArray<readonly JsonObject[]> | undefined,
  start: { held: Claimed; deps: ReplayDeps },
): Promise<{ events: number; held: Claimed | undefined; error?: IngestError }> {
  const { deps } = start;
  let held: Claimed | undefined = start.held;
  const target = targetQueue(env, key, deps);
  const forward = replayRoute(key)?.queue === 'forward';
  let events = 0;
  for (let g = held.claim.done; g < archive.groups.length && held !== undefined; g++) {
    const group = archive.groups[g];
    if (group === undefined) continue;
    const queued = deliver?.[g] ?? group.events;
    try {
      if (target === undefined) throw new Error('no queue is bound to replay onto');
      if (queued.length > 0) {
        const lines = queued.map((e, i) => ({
          line: JSON.stringify(e),
          messageId: eventMessageId(e, `${key}:${g}:${i}`),
        }));
        // The dedupe token makes an events replay its first delivery's retry; copies for
        // forwarding are not deduplicated and carry none.
        const token = group.token && !forward ? { token: group.token } : {};
        await enqueueEvents(target, lines, {
          source: group.source,
          receivedAt: group.receivedAt,
          ...token,
          ...(group.sinks === undefined ? {} : { sinks: group.sinks }),
        });
      }
    } catch (e) {
      console.error('replay enqueue failed', e instanceof Error ? e.message : String(e));
      // Left claimable at once, with its progress, so a retry resumes where this stopped.
      await updateClaim(env.ARCHIVE, key, held, { ...held.claim, at: 0 });
      return { events, held, error: QUEUE_REFUSED };
    }
    events += queued.length;
    held = await updateClaim(env.ARCHIVE, key, held, {
      ...held.claim,
      at: deps.now(),
      done: g + 1,
    });
  }
  return { events, held };
}

async function replayObject(
  env: Env,
  deps: ReplayDeps,
  key: string,
  replayId: string,
): Promise<ObjectOutcome> {
  const stored = await env.ARCHIVE.get(key);
  if (stored === null) return { kind: 'gone' };
  // Archive objects are stored as application/x-ndjson, which workerd does not count as text:
  // R2ObjectBody.text() would log a warning per object, so the bytes are decoded here.
  const text = new TextDecoder().decode(await stored.arrayBuffer());
  const archive = parseArchive(text);
  // Before the claim: a plan that cannot be read leaves the object as it was.
  let rechecked: Rechecked | undefined;
  if (key.startsWith(BLOCKED_PREFIX)) {
    const plans = await plansInForce(deps, archive);
    if (plans === undefined) return { kind: 'failed', error: PLANS_UNAVAILABLE };
    rechecked = recheckArchive(archive, plans, deps.now());
  }
  const held = await takeClaim(env.ARCHIVE, key, replayId, deps.now());
  if (held === undefined) return { kind: 'busy' };
  const queued = await queueGroups(env, key, archive, rechecked?.deliver, { held, deps });
  deps.replayed(queued.events);
  if (queued.error !== undefined) return { kind: 'failed', error: queued.error };
  if (queued.held === undefined) return { kind: 'busy' };
  // Moved only once every event is back on the queue; a failure above leaves it for a retry.
  const { etag, customMetadata } = stored;
  const replayedAt = new Date(deps.now()).toISOString();
  await finishReplay(
    env.ARCHIVE,
    key,
    { text, etag, ...(customMetadata ? { customMetadata } : {}) },
    rechecked,
    replayedAt,
  );
  return {
    kind: 'replayed',
    events: queued.events,
    skipped: archive.skipped,
    stillBlocked: rechecked?.stillEvents ?? 0,
  };
}

/**
 * Replays one page of objects under a checked prefix, in order; the first failure (a queue
 * refusing, plans that cannot be read) ends the call with its error, the objects done so far
 * moved and the one it stopped at resumable.
 */
/** A replay that stopped on an error, with what it had done before (for the audit trail). */
export interface ReplayFailure {
  error: IngestError;
  done: Pick<ReplayAnswer, 'objects' | 'events' | 'skipped' | 'stillBlocked' | 'busy'>;
}

export async function replayArchive(
  env: Env,
  deps: ReplayDeps,
  request: ReplayRequest,
): Promise<Result<ReplayAnswer, ReplayFailure>> {
  // Events a plan still blocks stay where they were: a caller going through many objects passes
  // the cursor of the last answer, or it would meet them again.
  const listing = await env.ARCHIVE.list({
    prefix: request.prefix,
    limit: request.limit,
    ...(request.cursor ? { cursor: request.cursor } : {}),
  });
  const replayId = deps.newId();
  const replayed: string[] = [];
  const busy: string[] = [];
  let [events, skipped, stillBlocked] = [0, 0, 0];
  for (const object of listing.objects) {
    const outcome = await replayObject(env, deps, object.key, replayId);
    if (outcome.kind === 'failed') {
      const done = { objects: replayed.length, events, skipped, stillBlocked, busy };
      return err({ error: outcome.error, done });
    }
    if (outcome.kind === 'busy') busy.push(object.key);
    if (outcome.kind !== 'replayed') continue;
    events += outcome.events;
    skipped += outcome.skipped;
    stillBlocked += outcome.stillBlocked;
    replayed.push(object.key);
  }
  return ok({
    objects: replayed.length,
    events,
    skipped,
    ...(request.prefix.startsWith(BLOCKED_PREFIX) ? { stillBlocked } : {}),
    replayed,
    busy,
    truncated: listing.truncated,
    ...(listing.truncated ? { cursor: listing.cursor } : {}),
  });
}
