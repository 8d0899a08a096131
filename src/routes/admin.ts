// Operator endpoints behind ADMIN_TOKEN (role admin): list archived dead letters (and replayed
// objects) and the events tracking plans blocked, and replay them. HTTP edge only: each handler
// checks the role, parses its parameters, makes one call into src/archive/ (listing.ts,
// replay.ts, which say how replay stays safe), records a replay in the audit trail and maps the
// result to JSON.

import type { Context } from 'hono';
import {
  BLOCKED_PREFIXES,
  checkLimit,
  checkPrefix,
  DEAD_LETTER_PREFIXES,
  listArchive,
  REPLAYABLE_PREFIXES,
} from '../archive/listing';
import { LIST_MAX_OBJECTS, REPLAY_MAX_OBJECTS } from '../archive/limits';
import { replayArchive } from '../archive/replay';
import { recordReplayed } from '../metrics/record';
import { ingestError } from '../segment/errors';
import { isJsonObject } from '../segment/types';
import { audit } from './audit';
import type { AppDeps, AppEnv } from './deps';
import { IngestHttpError, unwrap } from './error-response';
import { authorize } from './roles';

type Ctx = Context<AppEnv>;

async function listUnder(c: Ctx, allowed: readonly string[]): Promise<Response> {
  await authorize(c, 'admin');
  const prefix = unwrap(checkPrefix(c.req.query('prefix'), allowed));
  const limit = unwrap(checkLimit(c.req.query('limit'), LIST_MAX_OBJECTS));
  const cursor = c.req.query('cursor');
  const listing = await listArchive(c.env.ARCHIVE, {
    prefix,
    limit,
    ...(cursor ? { cursor } : {}),
  });
  return c.json({ success: true, ...listing });
}

/** GET /admin/dead-letters: archived dead letters, and (prefix replayed/) replayed objects. */
export function listDeadLetters(c: Ctx): Promise<Response> {
  return listUnder(c, DEAD_LETTER_PREFIXES);
}

/** GET /admin/blocked: events tracking plans blocked, one object per source and batch. */
export function listBlocked(c: Ctx): Promise<Response> {
  return listUnder(c, BLOCKED_PREFIXES);
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

/** POST /admin/replay {prefix, limit, cursor}: up to REPLAY_MAX_OBJECTS objects back on a queue. */
export async function replayDeadLetters(c: Ctx, deps: AppDeps): Promise<Response> {
  await authorize(c, 'admin');
  const body = await readBody(c);
  const prefix = unwrap(checkPrefix(body['prefix'], REPLAYABLE_PREFIXES));
  const limit = unwrap(checkLimit(body['limit'], REPLAY_MAX_OBJECTS));
  const cursor = typeof body['cursor'] === 'string' && body['cursor'] !== '' ? body['cursor'] : '';
  let answer: Awaited<ReturnType<typeof replayArchive>> | undefined;
  try {
    answer = await replayArchive(
      c.env,
      {
        now: deps.now,
        random: deps.random,
        newId: deps.newId,
        currentPlan: (source) => deps.plans.currentPlan(c.env, source),
        replayed: (events) => recordReplayed(deps.metrics, events),
      },
      { prefix, limit, ...(cursor ? { cursor } : {}) },
    );
  } finally {
    // Recorded whether it finished or not: objects replayed before a failure are changes too.
    const done = answer === undefined ? undefined : answer.ok ? answer.value : answer.error.done;
    await audit(c, deps, 'replay', /^blocked\/([^/]+)\//.exec(prefix)?.[1] ?? null, {
      prefix,
      objects: done?.objects ?? 0,
      events: done?.events ?? 0,
      skipped: done?.skipped ?? 0,
      stillBlocked: done?.stillBlocked ?? 0,
      busy: done?.busy.length ?? 0,
      failed: answer?.ok !== true,
    });
  }
  if (!answer.ok) throw new IngestHttpError(answer.error.error);
  return c.json({ success: true, ...answer.value });
}
