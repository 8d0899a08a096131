// HTTP edge of ingest: single calls, batches and the GET forms (pixels). Parses the request,
// authenticates, calls the pure core (src/segment/ingest.ts) and enqueues; every failure is a
// thrown IngestHttpError that app.onError maps (src/routes/error-response.ts). Each handler
// records what it did in an IngestTrace, handed to the debugger's tap when it ends (`traced`).

import type { Context } from 'hono';
import { newTrace, rejectedEvents, type IngestTrace } from '../debugger/capture';
import { captureIngest } from '../debugger/isolate';
import { flag, type Env } from '../env';
import { applyTrackingPlan } from '../plans/apply';
import type { PlanOutcome } from '../plans/enforce';
import { applyPrivacy } from '../privacy/apply';
import { enqueueBySinks, type SinkedEvent } from '../privacy/enqueue';
import { dedupeShardCount } from '../dedupe/client';
import { shardOfEvent } from '../dedupe/keys';
import { pickQueue, type EventsQueue, type ShardHint } from '../queue/producer';
import { sharedFacts } from '../queue/shared-facts';
import { placement } from '../sources/placement';
import type { RequestFacts } from '../segment/enrich';
import { ingestError } from '../segment/errors';
import {
  bodyWriteKey,
  ingestBatch,
  ingestSingle,
  parseBatchEnvelope,
  type QueuedEvent,
  type RejectedItem,
} from '../segment/ingest';
import { BATCH_MAX_BYTES, EVENT_MAX_BYTES, PIXEL_DATA_MAX_CHARS } from '../segment/limits';
import { rateLimitKey, rateLimitKeyMode, rateLimitSubject } from '../segment/rate-limit';
import { err, type EventType, type Result } from '../segment/types';
import { basicAuthWriteKey } from '../segment/write-keys';
import type { IngestError } from '../segment/errors';
import { authenticate, type KeyPlaces } from './auth';
import { decodeUtf8, parseJson, readBody } from './body';
import type { AppDeps, AppEnv } from './deps';
import {
  recordAccepted,
  recordCompressedBytes,
  recordQueueMessagesSent,
  recordQueueSendFailure,
  recordRejected,
  recordRequestBytes,
  recordPrivacy,
  recordSourceRejected,
  recordTrackingPlan,
} from '../metrics/record';
import type { ReadBody } from './body';
import { errorResponse, IngestHttpError, unwrap } from './error-response';
import { requestFacts } from './facts';

type Ctx = Context<AppEnv>;

const ACCEPTED_BODY = JSON.stringify({ success: true });

/** `{"success":true}`, made directly: Hono's c.json costs ~2 µs more a request (CPU bench). */
function accepted(): Response {
  return new Response(ACCEPTED_BODY, { headers: { 'Content-Type': 'application/json' } });
}

/** Authenticates from the Basic header when present, before any body is read. */
async function headerSource(c: Ctx, trace: IngestTrace): Promise<string | undefined> {
  const key = unwrap(basicAuthWriteKey(c.req.header('authorization')));
  if (key === undefined) return undefined;
  trace.writeKey = key;
  // The key is present: `places` only words the answer to a missing one.
  trace.source = await authenticate(c.env, key, 'basic-or-body');
  return trace.source;
}

/** The source named by a key in the body (or `data`), when the header named none. */
async function bodySource(
  c: Ctx,
  trace: IngestTrace,
  key: string | undefined,
  places: KeyPlaces,
): Promise<string> {
  if (key !== undefined) trace.writeKey = key;
  trace.source = await authenticate(c.env, key, places);
  return trace.source;
}

/**
 * Runs `step` (a capture, a metric: what follows the answer's decision) so that its failure is
 * logged and never changes the answer: once events are queued, the client must hear so.
 */
function aside(what: string, step: () => void): void {
  try {
    step();
  } catch (e) {
    console.error(`${what} failed`, e instanceof Error ? e.message : String(e));
  }
}

/**
 * Runs an ingest handler with a trace of what it does, and hands the trace to the debugger's tap
 * when it ends, answered or refused: the debugger's one call on the ingest path.
 */
async function traced(
  c: Ctx,
  deps: AppDeps,
  handler: (trace: IngestTrace) => Promise<Response>,
): Promise<Response> {
  const trace = newTrace(deps.now());
  try {
    return await handler(trace);
  } catch (e) {
    trace.error =
      e instanceof IngestHttpError ? e.error : ingestError('internal_error', 'internal error');
    throw e;
  } finally {
    const source = trace.source;
    if (source !== undefined) {
      aside('status counts', () =>
        recordSourceRejected(deps.metrics, source, rejectedEvents(trace), deps.now()),
      );
    }
    const tap = deps.tap;
    if (tap !== undefined) {
      aside('debugger capture', () => {
        // A request refused before privacy ran: its payloads are left out if the source has any.
        if (source !== undefined)
          trace.privacy ??= { withholdRaw: deps.privacy.peek(c.env, source) !== 'none' };
        captureIngest(tap, c.env, c.executionCtx, c.req.url, trace);
      });
    }
  }
}

// Ours: the Rate Limiting binding counts calls, not events (Workers docs, "Rate Limiting":
// limit({ key }) takes no weight), so a request spends one call per started 10 events: a single
// call 1, a batch of 100 events 10, a full batch of 2,500 events 250. The configured `limit` is
// therefore in units of 10 events per period.
export const RATE_LIMIT_EVENTS_PER_UNIT = 10;

export function rateLimitUnits(events: number): number {
  return Math.max(1, Math.ceil(events / RATE_LIMIT_EVENTS_PER_UNIT));
}

/** RATE_LIMIT_PERIOD_SECONDS: 10 or 60, as the binding allows; anything else is 60. */
export function rateLimitPeriodSeconds(value: string | undefined): number {
  return value?.trim() === '10' ? 10 : 60;
}

/** Counts a request's events against its key (RATE_LIMIT_KEY: src/segment/rate-limit.ts). */
async function rateLimit(env: Env, source: string, events: number, req: Request): Promise<void> {
  const limiter = env.RATE_LIMITER;
  if (limiter === undefined) return;
  const mode = rateLimitKeyMode(env.RATE_LIMIT_KEY);
  const key = rateLimitKey(mode, source, req.headers.get('cf-connecting-ip') ?? undefined);
  const outcomes = await Promise.all(
    Array.from({ length: rateLimitUnits(events) }, () => limiter.limit({ key })),
  );
  if (outcomes.every((o) => o.success)) return;
  const error = ingestError(
    'rate_limited',
    `too many events for ${rateLimitSubject(mode)}; each ${RATE_LIMIT_EVENTS_PER_UNIT} events count once`,
  );
  error.retryAfterSeconds = rateLimitPeriodSeconds(env.RATE_LIMIT_PERIOD_SECONDS);
  throw new IngestHttpError(error);
}

function recordBody(deps: AppDeps, body: ReadBody): void {
  recordRequestBytes(deps.metrics, body.bytes);
  if (body.compressedBytes !== undefined) recordCompressedBytes(deps.metrics, body.compressedBytes);
}

/**
 * A request's events as packed for its queue: those to deliver, then those the plan blocked,
 * marked with why. Blocked events ride in the same messages, so one send makes both durable (the
 * events consumer archives them under blocked/, src/archive/blocked.ts), and a request answered
 * 503 after some of its messages went leaves nothing a resend could repeat: both are deduplicated
 * by messageId.
 */
function packEvents(checked: PlanOutcome, kept: readonly QueuedEvent[]): SinkedEvent[] {
  const events: SinkedEvent[] = checked.deliver.map((e) => ({
    line: e.line,
    bytes: e.bytes,
    messageId: e.messageId,
    sinks: e.sinks,
  }));
  // Each blocked event keeps the sinks its consent allowed (src/privacy/sinks.ts), through the
  // archive and a replay.
  for (const b of checked.blocked)
    events.push({
      line: b.line,
      bytes: b.bytes,
      messageId: b.messageId,
      blocked: b.reason,
      sinks: kept[b.index]?.sinks,
    });
  return events;
}

/**
 * The dedupe shard of a request's one event, which picks its queue when there are several and
 * they divide DEDUPE_SHARDS (pickQueue); undefined for a request of several events, with one
 * queue, or with deduplication off.
 */
function shardHint(
  env: Env,
  queues: number,
  source: string,
  deliver: readonly QueuedEvent[],
): ShardHint | undefined {
  const [only] = deliver;
  if (queues < 2 || deliver.length !== 1 || only === undefined) return undefined;
  const shards = dedupeShardCount(env);
  if (shards === undefined || shards % queues !== 0) return undefined;
  return { index: shardOfEvent(source, only.messageId, shards), of: shards };
}

/**
 * The events queues a source's requests go on: its route's (FIREHOSE_ROUTES), else the bound
 * ones no route claims. A route naming a binding this Worker lacks fails the request with the
 * problem named (500 misconfigured), never a fallback to another queue.
 */
function sourceQueues(env: Env, source: string): EventsQueue[] {
  const resolved = placement(env);
  if (resolved.ok) return resolved.value.queuesFor(source);
  console.error('FIREHOSE_ROUTES', resolved.error);
  throw new IngestHttpError(ingestError('misconfigured', resolved.error));
}

/**
 * Applies the source's privacy policy and then its tracking plan, puts the events they let
 * through on one of the events queues (those the plan blocks marked, grouped by the sinks their
 * consent allows), then records them. Only a queue's refusal fails the request: what follows
 * the send is recorded aside.
 */
async function enqueue(
  c: Ctx,
  deps: AppDeps,
  events: readonly QueuedEvent[],
  source: string,
  facts: RequestFacts,
  trace: IngestTrace,
): Promise<void> {
  const waitUntil = (p: Promise<unknown>): void => c.executionCtx.waitUntil(p);
  const gpc = c.req.header('sec-gpc')?.trim() === '1';
  const privacy = unwrap(await applyPrivacy(c.env, deps.privacy, source, events, gpc, waitUntil));
  trace.privacy = { shown: privacy.shown, withholdRaw: privacy.active };
  const kept = privacy.events;
  const checked = unwrap(await applyTrackingPlan(c.env, deps.plans, source, kept, waitUntil));
  const queues = sourceQueues(c.env, source);
  const target = pickQueue(
    queues,
    deps.random,
    shardHint(c.env, queues.length, source, checked.deliver),
  );
  let sent;
  try {
    if (target === undefined) throw new Error('no events queue is bound (EVENTS or EVENTS_<n>)');
    const packed = packEvents(checked, kept);
    // The request's shared facts as its events hold them after privacy (a header carries only
    // those its lines hold: src/queue/pack.ts).
    const shared = sharedFacts(kept[0]?.event);
    sent =
      packed.length === 0
        ? { messages: 0, bytes: 0 }
        : await enqueueBySinks(target.queue, packed, {
            source,
            receivedAt: facts.receivedAt,
            facts: shared,
          });
  } catch (e) {
    console.error('queue send failed', e instanceof Error ? e.message : String(e));
    recordQueueSendFailure(deps.metrics);
    throw new IngestHttpError(
      ingestError('queue_unavailable', 'the event queue is unavailable; retry later'),
    );
  }
  trace.queued = true;
  if (checked.deliver !== kept || checked.blocked.length > 0) trace.plan = checked;
  aside('ingest metrics', () => {
    recordPrivacy(deps.metrics, source, privacy.counts);
    if (sent.messages > 0) recordQueueMessagesSent(deps.metrics, target.name, sent.messages);
    recordTrackingPlan(deps.metrics, source, checked.violated, checked.blockedBy);
    recordAccepted(
      deps.metrics,
      events.map((e) => e.type),
      source,
      deps.now(),
    );
  });
}

/** One call (already parsed) from a POST body or a GET `data` parameter. */
async function acceptSingle(
  c: Ctx,
  deps: AppDeps,
  raw: unknown,
  type: EventType,
  source: string | undefined,
  keyPlaces: KeyPlaces,
  trace: IngestTrace,
): Promise<void> {
  const facts = requestFacts(c.req.raw, deps.now());
  trace.receivedAt = facts.receivedAt;
  trace.single = { raw, pathType: type };
  const resolved = source ?? (await bodySource(c, trace, bodyWriteKey(raw), keyPlaces));
  await rateLimit(c.env, resolved, 1, c.req.raw);
  const event = unwrap(
    ingestSingle(raw, type, facts, {
      source: resolved,
      anonymizeIp: flag(c.env.ANONYMIZE_IP),
      newId: deps.newId,
    }),
  );
  trace.outcome = { accepted: [event], rejected: [] };
  await enqueue(c, deps, [event], resolved, facts, trace);
}

export function postSingle(c: Ctx, deps: AppDeps, type: EventType): Promise<Response> {
  return traced(c, deps, async (trace) => {
    const source = await headerSource(c, trace);
    const body = unwrap(await readBody(c.req.raw, EVENT_MAX_BYTES));
    recordBody(deps, body);
    trace.text = body.text;
    await acceptSingle(c, deps, unwrap(parseJson(body.text)), type, source, 'basic-or-body', trace);
    return accepted();
  });
}

export function postBatch(c: Ctx, deps: AppDeps): Promise<Response> {
  return traced(c, deps, async (trace) => {
    const headerKeySource = await headerSource(c, trace);
    const body = unwrap(await readBody(c.req.raw, BATCH_MAX_BYTES));
    recordBody(deps, body);
    trace.text = body.text;
    const envelope = unwrap(parseBatchEnvelope(unwrap(parseJson(body.text))));
    trace.items = envelope.items;
    const source =
      headerKeySource ?? (await bodySource(c, trace, envelope.writeKey, 'basic-or-body'));
    await rateLimit(c.env, source, envelope.items.length, c.req.raw);
    const facts = requestFacts(c.req.raw, deps.now());
    trace.receivedAt = facts.receivedAt;
    const outcome = unwrap(
      ingestBatch(envelope, body.bytes, facts, {
        source,
        anonymizeIp: flag(c.env.ANONYMIZE_IP),
        newId: deps.newId,
      }),
    );
    trace.outcome = outcome;
    for (const r of outcome.rejected) recordRejected(deps.metrics, r.code);
    if (outcome.accepted.length === 0) return batchRejected(outcome.rejected);
    await enqueue(c, deps, outcome.accepted, source, facts, trace);
    const answer: { success: true; accepted: number; rejected?: RejectedItem[] } = {
      success: true,
      accepted: outcome.accepted.length,
    };
    if (outcome.rejected.length > 0) answer.rejected = outcome.rejected;
    return c.json(answer);
  });
}

function batchRejected(rejected: RejectedItem[]): Response {
  return errorResponse(
    ingestError('invalid_body', 'no event in the batch is valid'),
    {},
    { rejected },
  );
}

/** The `data` query parameter of a pixel call, base64 (standard or URL-safe) of JSON. */
export function decodePixelData(data: string | undefined): Result<unknown, IngestError> {
  if (data === undefined || data === '') {
    return err(
      ingestError(
        'missing_data',
        'the data query parameter (base64 JSON of the call) is required',
        'data',
      ),
    );
  }
  if (data.length > PIXEL_DATA_MAX_CHARS) {
    return err(
      ingestError('payload_too_large', `the decoded call exceeds ${EVENT_MAX_BYTES} bytes`, 'data'),
    );
  }
  let binary: string;
  try {
    // A '+' left unescaped in a query string arrives as a space (form encoding): restore it.
    binary = atob(data.replace(/ /g, '+').replace(/-/g, '+').replace(/_/g, '/').replace(/\s/g, ''));
  } catch {
    return err(ingestError('invalid_encoding', 'data is not valid base64', 'data'));
  }
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  if (bytes.byteLength > EVENT_MAX_BYTES) {
    return err(
      ingestError('payload_too_large', `the decoded call exceeds ${EVENT_MAX_BYTES} bytes`, 'data'),
    );
  }
  const text = decodeUtf8(bytes, 'data');
  return text.ok ? parseJson(text.value) : text;
}

/** GET /v1/{type}?data=…: the seed's GET form; answers JSON like the POST. */
export function getSingle(c: Ctx, deps: AppDeps, type: EventType): Promise<Response> {
  return traced(c, deps, async (trace) => {
    const source = await headerSource(c, trace);
    const data = c.req.query('data');
    const raw = unwrap(decodePixelData(data));
    await acceptSingle(c, deps, raw, type, source, 'basic-or-data', trace);
    return accepted();
  });
}

// A transparent 1×1 GIF89a, the body Segment's pixel API answers with.
const PIXEL_GIF = Uint8Array.from(
  atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'),
  (ch) => ch.charCodeAt(0),
);

/**
 * GET /v1/pixel/{type}?data=…: Segment's pixel API. Always a 200 GIF so an email client or
 * <img> never shows a broken image; the error, if any, is named in X-Ndc-Segment-Error.
 */
export function getPixel(c: Ctx, deps: AppDeps, type: EventType): Promise<Response> {
  return traced(c, deps, async (trace) => {
    const headers: Record<string, string> = {
      'Content-Type': 'image/gif',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
    };
    try {
      const data = c.req.query('data');
      const raw = unwrap(decodePixelData(data));
      await acceptSingle(c, deps, raw, type, undefined, 'data', trace);
    } catch (e) {
      if (!(e instanceof IngestHttpError)) throw e;
      // Answered with the GIF, not through onError: count the refusal here.
      recordRejected(deps.metrics, e.error.reason);
      trace.error = e.error;
      headers['X-Ndc-Segment-Error'] = e.error.reason;
    }
    return c.body(PIXEL_GIF, 200, headers);
  });
}
