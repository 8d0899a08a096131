// Operator endpoints behind ADMIN_TOKEN: list archived dead letters and replay them onto the
// events queue. Replayed events keep their messageId and receivedAt; an object is moved from
// dead-letters/ to replayed/ only after all its events were re-queued.

import type { Context } from 'hono';
import type { AppDeps, AppEnv } from './deps';
import { recordReplayed } from '../metrics/record';
import { ARCHIVE_PREFIX, REPLAYED_PREFIX } from '../queue/dead-letter';
import { enqueueEvents } from '../queue/producer';
import { parseArchive } from '../queue/replay';
import { ingestError } from '../segment/errors';
import { isJsonObject } from '../segment/types';
import { requireBearer } from './bearer';
import { IngestHttpError } from './error-response';

type Ctx = Context<AppEnv>;

// Ours: objects replayed per request, so one call stays well inside a Worker's limits
// (each object is one DLQ batch of at most 100 messages); call again while `truncated`.
export const REPLAY_MAX_OBJECTS = 20;
export const LIST_MAX_OBJECTS = 1000;

function archivePrefix(value: unknown): string {
  const prefix = typeof value === 'string' && value !== '' ? value : ARCHIVE_PREFIX;
  if (!prefix.startsWith(ARCHIVE_PREFIX)) {
    throw new IngestHttpError(
      ingestError('invalid_field', `prefix must start with ${ARCHIVE_PREFIX}`, '.prefix'),
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

export async function listDeadLetters(c: Ctx): Promise<Response> {
  await requireBearer(c.env.ADMIN_TOKEN, c.req.header('authorization'), 'ADMIN_TOKEN');
  const listing = await c.env.ARCHIVE.list({
    prefix: archivePrefix(c.req.query('prefix')),
    limit: limitOf(c.req.query('limit'), LIST_MAX_OBJECTS),
    include: ['customMetadata'],
    ...(c.req.query('cursor') ? { cursor: c.req.query('cursor') } : {}),
  });
  return c.json({
    objects: listing.objects.map((o) => ({
      key: o.key,
      size: o.size,
      uploaded: o.uploaded.toISOString(),
      events: Number(o.customMetadata?.['events'] ?? NaN) || null,
    })),
    truncated: listing.truncated,
    ...(listing.truncated ? { cursor: listing.cursor } : {}),
  });
}

export async function replayDeadLetters(c: Ctx, deps: AppDeps): Promise<Response> {
  await requireBearer(c.env.ADMIN_TOKEN, c.req.header('authorization'), 'ADMIN_TOKEN');
  let body: unknown = {};
  const raw = await c.req.text();
  if (raw.trim() !== '') {
    try {
      body = JSON.parse(raw);
    } catch {
      throw new IngestHttpError(ingestError('invalid_json', 'the body is not valid JSON'));
    }
  }
  if (!isJsonObject(body))
    throw new IngestHttpError(ingestError('invalid_body', 'the body must be a JSON object'));
  const listing = await c.env.ARCHIVE.list({
    prefix: archivePrefix(body['prefix']),
    limit: limitOf(body['limit'], REPLAY_MAX_OBJECTS),
  });
  let events = 0;
  let skipped = 0;
  const replayed: string[] = [];
  for (const object of listing.objects) {
    const stored = await c.env.ARCHIVE.get(object.key);
    if (stored === null) continue;
    const text = await stored.text();
    const archive = parseArchive(text);
    try {
      for (const group of archive.groups) {
        const lines = group.events.map((e) => JSON.stringify(e));
        await enqueueEvents(c.env.EVENTS, lines, group.source, group.receivedAt);
      }
    } catch (e) {
      console.error('replay enqueue failed', e instanceof Error ? e.message : String(e));
      throw new IngestHttpError(
        ingestError('queue_unavailable', 'the event queue refused the replay; retry later'),
      );
    }
    // Moved only once every event is back on the queue; a failure above leaves it for a retry.
    const moved = `${REPLAYED_PREFIX}${object.key.slice(ARCHIVE_PREFIX.length)}`;
    await c.env.ARCHIVE.put(moved, text, {
      httpMetadata: { contentType: 'application/x-ndjson' },
      customMetadata: { ...(stored.customMetadata ?? {}), replayedAt: new Date().toISOString() },
    });
    await c.env.ARCHIVE.delete(object.key);
    const replayedEvents = archive.groups.reduce((n, g) => n + g.events.length, 0);
    recordReplayed(deps.metrics, replayedEvents);
    events += replayedEvents;
    skipped += archive.skipped;
    replayed.push(object.key);
  }
  return c.json({
    success: true,
    objects: replayed.length,
    events,
    skipped,
    replayed,
    truncated: listing.truncated,
  });
}
