// Operator endpoints behind ADMIN_TOKEN: list archived dead letters (and replayed objects) and
// the events tracking plans blocked, and replay them onto an events queue, or forwarding's dead
// letters (forward-dead-letters/) onto the forward queue. Adapter; the archive format and the
// claim rules are in src/queue/replay.ts.
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

import type { Context } from 'hono';
import type { AppDeps, AppEnv } from './deps';
import type { Env } from '../env';
import { recordReplayed } from '../metrics/record';
import type { CompiledPlan } from '../plans/plan';
import { recheckArchive, type Rechecked } from '../plans/replay';
import {
  ARCHIVE_PREFIX,
  BLOCKED_PREFIX,
  FORWARD_ARCHIVE_PREFIX,
  FORWARD_REPLAYED_PREFIX,
  REPLAYED_PREFIX,
} from '../queue/dead-letter';
import { enqueueEvents, eventsQueues, pickQueue } from '../queue/producer';
import {
  claimIsStale,
  eventMessageId,
  parseArchive,
  parseClaim,
  type ParsedArchive,
  replayRoute,
  type ReplayClaim,
} from '../queue/replay';
import { ingestError } from '../segment/errors';
import { isJsonObject } from '../segment/types';
import { requireBearer } from './bearer';
import { IngestHttpError } from './error-response';

type Ctx = Context<AppEnv>;

// Ours: objects replayed per request, so one call stays well inside a Worker's limits
// (each object is one DLQ batch of at most 100 messages); call again while `truncated`.
export const REPLAY_MAX_OBJECTS = 20;
export const LIST_MAX_OBJECTS = 1000;

/** Where replay claims live, beside the archive: `replay-claims/<archived object key>`. */
export const CLAIM_PREFIX = 'replay-claims/';

const LISTABLE = [ARCHIVE_PREFIX, REPLAYED_PREFIX, FORWARD_ARCHIVE_PREFIX, FORWARD_REPLAYED_PREFIX];
const REPLAYABLE = [ARCHIVE_PREFIX, BLOCKED_PREFIX, FORWARD_ARCHIVE_PREFIX];

function prefixOf(value: unknown, allowed: readonly string[]): string {
  const prefix = typeof value === 'string' && value !== '' ? value : (allowed[0] ?? '');
  if (!allowed.some((a) => prefix.startsWith(a))) {
    throw new IngestHttpError(
      ingestError('invalid_field', `prefix must start with ${allowed.join(' or ')}`, '.prefix'),
    );
  }
  return prefix;
}

function limitOf(value: unknown, max: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (n === undefined || n === null || n === '') return max;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
    throw new IngestHttpError(
      ingestError('invalid_field', `limit must be an integer from 1 to ${max}`, '.limit'),
    );
  }
  return n;
}

async function listArchive(c: Ctx, allowed: readonly string[]): Promise<Response> {
  await requireBearer(c.env.ADMIN_TOKEN, c.req.header('authorization'), 'ADMIN_TOKEN');
  const listing = await c.env.ARCHIVE.list({
    prefix: prefixOf(c.req.query('prefix'), allowed),
    limit: limitOf(c.req.query('limit'), LIST_MAX_OBJECTS),
    include: ['customMetadata'],
    ...(c.req.query('cursor') ? { cursor: c.req.query('cursor') } : {}),
  });
  return c.json({
    success: true,
    objects: listing.objects.map((o) => ({
      key: o.key,
      size: o.size,
      uploaded: o.uploaded.toISOString(),
      events: Number(o.customMetadata?.['events'] ?? NaN) || null,
      ...(o.customMetadata?.['replayedAt'] ? { replayedAt: o.customMetadata['replayedAt'] } : {}),
    })),
    truncated: listing.truncated,
    ...(listing.truncated ? { cursor: listing.cursor } : {}),
  });
}

/** GET /admin/dead-letters: archived dead letters, and (prefix replayed/) replayed objects. */
export function listDeadLetters(c: Ctx): Promise<Response> {
  return listArchive(c, LISTABLE);
}

/** GET /admin/blocked: events tracking plans blocked, one object per source and DLQ batch. */
export function listBlocked(c: Ctx): Promise<Response> {
  return listArchive(c, [BLOCKED_PREFIX]);
}

async function readBody(c: Ctx): Promise<Record<string, unknown>> {
  const raw = await c.req.text();
  if (raw.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new IngestHttpError(ingestError('invalid_json', 'the body is not valid JSON'));
  }
  if (!isJsonObject(body))
    throw new IngestHttpError(ingestError('invalid_body', 'the body must be a JSON object'));
  return body;
}

interface Claimed {
  etag: string;
  claim: ReplayClaim;
}

/** Claims an object for this replay, or undefined when another replay holds a fresh claim. */
async function takeClaim(
  env: Env,
  key: string,
  by: string,
  now: number,
): Promise<Claimed | undefined> {
  const claimKey = CLAIM_PREFIX + key;
  const fresh: ReplayClaim = { by, at: now, done: 0 };
  // R2 conditional put: If-None-Match "*" creates the marker only if no replay holds one.
  const created = await env.ARCHIVE.put(claimKey, JSON.stringify(fresh), {
    onlyIf: { etagDoesNotMatch: '*' },
  });
  if (created !== null) return { etag: created.etag, claim: fresh };
  const held = await env.ARCHIVE.get(claimKey);
  if (held === null) return undefined;
  const current = parseClaim(await held.text());
  if (!claimIsStale(current, now)) return undefined;
  const claim: ReplayClaim = { by, at: now, done: current?.done ?? 0 };
  const taken = await env.ARCHIVE.put(claimKey, JSON.stringify(claim), {
    onlyIf: { etagMatches: held.etag },
  });
  return taken === null ? undefined : { etag: taken.etag, claim };
}

/** Records progress on a claim this replay holds; undefined when another took it over. */
async function updateClaim(
  env: Env,
  key: string,
  held: Claimed,
  claim: ReplayClaim,
): Promise<Claimed | undefined> {
  const put = await env.ARCHIVE.put(CLAIM_PREFIX + key, JSON.stringify(claim), {
    onlyIf: { etagMatches: held.etag },
  });
  return put === null ? undefined : { etag: put.etag, claim };
}

type ObjectOutcome =
  | { kind: 'replayed'; events: number; skipped: number; stillBlocked: number }
  | { kind: 'busy' }
  | { kind: 'gone' };

/** Each source's plan in force now, read afresh, for a replay of blocked events. */
async function plansInForce(
  env: Env,
  deps: AppDeps,
  archive: ParsedArchive,
): Promise<Map<string, CompiledPlan | undefined>> {
  const plans = new Map<string, CompiledPlan | undefined>();
  for (const source of new Set(archive.groups.map((g) => g.source))) {
    try {
      plans.set(source, await deps.plans.currentPlan(env, source));
    } catch (e) {
      console.error('tracking plan unavailable', e instanceof Error ? e.message : String(e));
      throw new IngestHttpError(
        ingestError('tracking_plan_unavailable', 'the tracking plans cannot be read; retry later'),
      );
    }
  }
  return plans;
}

/**
 * Once every group is back on the queue: the object as it was is copied to replayed/ (or
 * forward-replayed/), and
 * removed, or (blocked events the plan still refuses) rewritten with those alone; the claim goes.
 */
async function finishReplay(
  env: Env,
  key: string,
  stored: R2ObjectBody,
  text: string,
  rechecked: Rechecked | undefined,
  replayedAt: string,
): Promise<void> {
  // A blocked object's copy is named for its content too: the events still blocked stay at the
  // key, and a later replay of them must not overwrite the copy of what was there before.
  const moved = key.startsWith(BLOCKED_PREFIX)
    ? `${REPLAYED_PREFIX}${key.replace(/\.ndjson$/, `-${stored.etag.slice(0, 8)}.ndjson`)}`
    : (replayRoute(key)?.replayedKey ?? `${REPLAYED_PREFIX}${key.slice(ARCHIVE_PREFIX.length)}`);
  const stillBlocked = rechecked?.stillEvents ?? 0;
  await env.ARCHIVE.put(moved, text, {
    httpMetadata: { contentType: 'application/x-ndjson' },
    customMetadata: {
      ...(stored.customMetadata ?? {}),
      replayedAt,
      ...(rechecked === undefined ? {} : { stillBlocked: String(stillBlocked) }),
    },
  });
  if (rechecked === undefined || stillBlocked === 0) {
    await env.ARCHIVE.delete([key, CLAIM_PREFIX + key]);
    return;
  }
  await env.ARCHIVE.put(key, rechecked.still, {
    httpMetadata: { contentType: 'application/x-ndjson' },
    customMetadata: { events: String(stillBlocked), recheckedAt: replayedAt },
  });
  await env.ARCHIVE.delete(CLAIM_PREFIX + key);
}

async function replayObject(
  env: Env,
  deps: AppDeps,
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
  const rechecked = key.startsWith(BLOCKED_PREFIX)
    ? recheckArchive(archive, await plansInForce(env, deps, archive), deps.now())
    : undefined;
  let held = await takeClaim(env, key, replayId, deps.now());
  if (held === undefined) return { kind: 'busy' };
  const route = replayRoute(key);
  const target =
    route?.queue === 'forward'
      ? env.FORWARD === undefined
        ? undefined
        : { name: 'FORWARD', queue: env.FORWARD }
      : pickQueue(eventsQueues(env), deps.random);
  let events = 0;
  for (let g = held.claim.done; g < archive.groups.length; g++) {
    const group = archive.groups[g];
    if (group === undefined) continue;
    const queued = rechecked?.deliver[g] ?? group.events;
    try {
      if (target === undefined) throw new Error('no queue is bound to replay onto');
      if (queued.length > 0) {
        await enqueueEvents(
          target.queue,
          queued.map((e, i) => ({
            line: JSON.stringify(e),
            messageId: eventMessageId(e, `${key}:${g}:${i}`),
          })),
          {
            source: group.source,
            receivedAt: group.receivedAt,
            // The dedupe token makes an events replay its first delivery's retry; copies for
            // forwarding are not deduplicated and carry none.
            ...(group.token && route?.queue !== 'forward' ? { token: group.token } : {}),
            // Consent's restriction stays with the events (docs/privacy.md).
            ...(group.sinks && route?.queue !== 'forward' ? { sinks: group.sinks } : {}),
          },
        );
      }
    } catch (e) {
      console.error('replay enqueue failed', e instanceof Error ? e.message : String(e));
      // Left claimable at once, with its progress, so a retry resumes where this stopped.
      await updateClaim(env, key, held, { ...held.claim, at: 0 });
      recordReplayed(deps.metrics, events);
      throw new IngestHttpError(
        ingestError('queue_unavailable', 'the event queue refused the replay; retry later'),
      );
    }
    events += queued.length;
    held = await updateClaim(env, key, held, { ...held.claim, at: deps.now(), done: g + 1 });
    if (held === undefined) {
      recordReplayed(deps.metrics, events);
      return { kind: 'busy' };
    }
  }
  // Moved only once every event is back on the queue; a failure above leaves it for a retry.
  await finishReplay(env, key, stored, text, rechecked, new Date(deps.now()).toISOString());
  recordReplayed(deps.metrics, events);
  return {
    kind: 'replayed',
    events,
    skipped: archive.skipped,
    stillBlocked: rechecked?.stillEvents ?? 0,
  };
}

export async function replayDeadLetters(c: Ctx, deps: AppDeps): Promise<Response> {
  await requireBearer(c.env.ADMIN_TOKEN, c.req.header('authorization'), 'ADMIN_TOKEN');
  const body = await readBody(c);
  const prefix = prefixOf(body['prefix'], REPLAYABLE);
  const cursor = body['cursor'];
  // Events a plan still blocks stay where they were: a caller going through many objects passes
  // the cursor of the last answer, or it would meet them again.
  const listing = await c.env.ARCHIVE.list({
    prefix,
    limit: limitOf(body['limit'], REPLAY_MAX_OBJECTS),
    ...(typeof cursor === 'string' && cursor !== '' ? { cursor } : {}),
  });
  const replayId = deps.newId();
  let events = 0;
  let skipped = 0;
  let stillBlocked = 0;
  const replayed: string[] = [];
  const busy: string[] = [];
  for (const object of listing.objects) {
    const outcome = await replayObject(c.env, deps, object.key, replayId);
    if (outcome.kind === 'busy') busy.push(object.key);
    if (outcome.kind !== 'replayed') continue;
    events += outcome.events;
    skipped += outcome.skipped;
    stillBlocked += outcome.stillBlocked;
    replayed.push(object.key);
  }
  return c.json({
    success: true,
    objects: replayed.length,
    events,
    skipped,
    ...(prefix.startsWith(BLOCKED_PREFIX) ? { stillBlocked } : {}),
    replayed,
    busy,
    truncated: listing.truncated,
    ...(listing.truncated ? { cursor: listing.cursor } : {}),
  });
}
