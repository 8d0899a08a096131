// Bench-only Worker that runs one CPU case N times in a loop inside workerd and answers when
// done; bench/cpu.ts times the request from outside. workerd freezes Date.now() and
// performance.now() while JavaScript runs (they move only across I/O), so the loop cannot time
// itself. The real app comes in through `makeApp` (the generated entry wires createApp() from
// src/app.ts: tsconfig.node.json, which checks bench/, cannot type its Workers bindings).
//
// POST /run {"name": "...", "n": 1000} → {"name", "n", "failures"}. Any /v1/* request goes to
// the app with the no-op queue, so the load test can drive ours without Miniflare's queue.

import { AwsClient } from 'aws4fetch';
import { capturedEvents, newTrace, type IngestTrace } from '../../src/debugger/capture';
import { decodePutRecordBatchResponse, encodePutRecordBatch } from '../../src/firehose/codec';
import { FIREHOSE_CONTENT_TYPE, FIREHOSE_TARGET_PUT_RECORD_BATCH } from '../../src/firehose/limits';
import type { FirehoseCall } from '../../src/firehose/pack';
import { planDelivery } from '../../src/queue/delivery';
import { planForward, type ForwardInput } from '../../src/forward/batch';
import { parseForwardWriteKeys } from '../../src/forward/settings';
import { groupForSendBatch, packCopies, packMessages, type CopyInput } from '../../src/queue/pack';
import { readBody } from '../../src/routes/body';
import { enrichEvent, type RequestFacts } from '../../src/segment/enrich';
import {
  ingestBatch,
  ingestSingle,
  parseBatchEnvelope,
  serializeEvent,
} from '../../src/segment/ingest';
import { BATCH_MAX_BYTES, EVENT_MAX_BYTES } from '../../src/segment/limits';
import { isJsonObject, type JsonObject } from '../../src/segment/types';
import { utf8Length } from '../../src/segment/utf8';
import { decodeMessage, messageIds, messageLines } from '../../src/queue/message';
import { prepareBatch, type BatchMessage } from '../../src/queue/prepare';
import { emptyReport, reportSteps } from '../../src/queue/report';
import { defaultPolicy, nextStep } from '../../src/queue/step';
import { enforcePlan } from '../../src/plans/enforce';
import { makeVersion } from '../../src/plans/layout';
import { parsePlan } from '../../src/plans/plan';
import { validateEvent, type ValidEvent } from '../../src/segment/validate';
import { clearHashMemos, keyedHex, suppressionLookup } from '../../src/privacy/lookup';
import { hmacHex, hmacKey } from '../../src/privacy/hash';
import { parsePolicy as parsePrivacyPolicy } from '../../src/privacy/policy';
import { redactEvents } from '../../src/privacy/redact';
import type { SuppressionSet } from '../../src/privacy/set';
import { floorApp } from '../floor/app';
import type { CpuFixtures, RunReply } from './cases';
import { PATTERN_CASES, PATTERN_STRING_CHARS } from './patterns';
import { xorshift32 } from '../xorshift';

/** The part of a Hono app the bench drives. */
export interface FetchApp {
  fetch(request: Request, env?: unknown, ctx?: unknown): Response | Promise<Response>;
}

type BenchEnv = Record<string, unknown> & {
  BENCH_FIXTURES?: string;
  /** Comma-separated queue producer bindings (from wrangler.toml) to replace with no-ops. */
  BENCH_QUEUE_BINDINGS?: string;
  /** Comma-separated Analytics Engine bindings to replace with no-ops in the CPU loops. */
  BENCH_ANALYTICS_BINDINGS?: string;
};

type Case = () => boolean | Promise<boolean>;

// A fixed request.cf, as Cloudflare's edge would attach (workerd accepts `cf` in RequestInit).
const CF = {
  country: 'AU',
  region: 'Victoria',
  city: 'Melbourne',
  timezone: 'Australia/Melbourne',
  postalCode: '3000',
  latitude: '-37.81360',
  longitude: '144.96310',
};

// Stands in for the queue producers: the send is I/O, not CPU, and is not part of what we time.
const noopQueue = {
  send: async (): Promise<void> => undefined,
  sendBatch: async (): Promise<void> => undefined,
};

// Stands in for Analytics Engine inside the loops: one loop is one invocation, and the runtime
// keeps every data point an invocation writes until it ends (100,000 iterations of the handler
// in one request exhaust the isolate). Each real request is its own invocation.
const noopDataset = { writeDataPoint: (): void => undefined };

function names(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The env the app sees: queue producers replaced; Analytics Engine too inside the loops. */
function benchEnv(env: BenchEnv, loop: boolean): BenchEnv {
  const out: BenchEnv = { ...env };
  for (const name of names(env.BENCH_QUEUE_BINDINGS)) out[name] = noopQueue;
  if (loop) for (const name of names(env.BENCH_ANALYTICS_BINDINGS)) out[name] = noopDataset;
  return out;
}

const encoder = new TextEncoder();

// The watched case's admin token and arming: a day, so it outlasts the case's repetitions.
const BENCH_ADMIN_TOKEN = 'bench-admin-token';
// The privacy cases' PRIVACY_HASH_KEY.
const BENCH_HASH_KEY = 'bench-privacy-hash-key';

/**
 * 1,000,000 suppressed ids as an isolate holds them (set.ts): 32 shards of sorted 64-bit values,
 * drawn at random (a seeded xorshift) in each shard's range, so no sort is needed.
 */
function millionIdSet(): SuppressionSet {
  const bits = 5;
  const perShard = 1_000_000 / 2 ** bits;
  const next = xorshift32(2463534242);
  const shards = Array.from({ length: 2 ** bits }, (_v, shard) => {
    const his = new Uint32Array(perShard);
    for (let i = 0; i < perShard; i++) his[i] = (shard << (32 - bits)) | (next() >>> bits);
    his.sort();
    const words = new Uint32Array(perShard * 2);
    for (let i = 0; i < perShard; i++) {
      words[i * 2] = his[i] as number;
      words[i * 2 + 1] = next();
    }
    return words;
  });
  return { bits, shards };
}
const BENCH_ARM_SECONDS = '86400';

function request(path: string, body: string, writeKey?: string): Request {
  const init = {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'content-length': String(utf8Length(body)),
      'user-agent': 'analytics-go (version: 3.0.0)',
      'cf-connecting-ip': '203.0.113.42',
      ...(writeKey === undefined ? {} : { authorization: `Basic ${btoa(`${writeKey}:`)}` }),
    },
    cf: CF,
  };
  return new Request(`http://127.0.0.1${path}`, init);
}

// Parsed once per isolate: every /run would otherwise parse them again (hundreds of KB), and
// that time would be counted against the case it runs.
let parsedFixtures: { text: string; fixtures: CpuFixtures } | undefined;

function parseFixtures(env: BenchEnv): CpuFixtures {
  const text = env.BENCH_FIXTURES;
  if (typeof text !== 'string') throw new Error('BENCH_FIXTURES is not bound');
  if (parsedFixtures?.text !== text) {
    parsedFixtures = { text, fixtures: JSON.parse(text) as CpuFixtures };
  }
  return parsedFixtures.fixtures;
}

/**
 * What the consumer decides per message once the calls are answered, every message delivered:
 * the batch prepared (kept lines, inputs, copies), a step each (src/queue/step.ts) and the
 * report of steps (src/queue/report.ts). Decoding is counted in stage.consumer.plan.
 */
function consumerSteps(bodies: readonly string[]): boolean {
  const messages: BatchMessage[] = bodies.map((body, i) => {
    const decoded = decodeMessage(body);
    if (decoded === undefined) throw new Error('a fixture message does not decode');
    const lines = messageLines(decoded);
    const raw = {
      id: `m${i}`,
      attempts: 1,
      timestamp: new Date(0),
      body,
      ack: () => undefined,
      retry: () => undefined,
    };
    const ids = messageIds(decoded, lines);
    return { raw, decoded, lines, ids, token: raw.id, attempt: `${raw.id}:1`, gate: undefined };
  });
  const prepared = prepareBatch(messages);
  for (const index of prepared.inputs.keys())
    prepared.decisions.set(index, { kind: 'ack', stream: 'bench' });
  const policy = defaultPolicy(300, 345_600);
  const steps = messages.map((_m, index) =>
    nextStep(
      {
        decision: prepared.decisions.get(index) ?? { kind: 'ack', stream: 'bench' },
        attempts: 1,
        priorAttempts: 0,
        sentAt: 0,
        queuedAt: 0,
        waiting: undefined,
      },
      policy,
      1,
      Math.random,
    ),
  );
  reportSteps(emptyReport(prepared.deduplicated), {
    messages,
    prepared,
    steps,
    deadLetterFailed: new Set(),
  });
  return steps.every((s) => s.kind === 'ack');
}

/** What the consumer does before sending: decode each message and plan the calls. */
function planCalls(bodies: readonly string[], streams: readonly string[]): FirehoseCall[] {
  const inputs = bodies.map((body, index) => {
    const m = decodeMessage(body);
    if (m === undefined) throw new Error('a fixture message does not decode');
    return {
      index,
      source: m.header.source,
      ndjson: m.ndjson,
      bytes: utf8Length(m.ndjson),
      events: m.header.events,
    };
  });
  const plan = planDelivery(inputs, streams);
  if (plan.unsendable.length > 0) throw new Error('a fixture message does not fit a record');
  return plan.calls;
}

const okResponses = new Map<number, string>();

/** A PutRecordBatch 200 for `n` records, as Firehose answers. */
function okResponse(n: number): string {
  let text = okResponses.get(n);
  if (text === undefined) {
    text = JSON.stringify({
      FailedPutCount: 0,
      Encrypted: false,
      RequestResponses: Array.from({ length: n }, (_, i) => ({ RecordId: `r${i}` })),
    });
    okResponses.set(n, text);
  }
  return text;
}

/** The ExecutionContext of the request running the loop, handed to the app's fetch. */
interface Invocation {
  ctx: unknown;
}

function buildCases(
  fx: CpuFixtures,
  app: FetchApp,
  appEnv: BenchEnv,
  invocation: Invocation,
): Map<string, Case> {
  const floor = floorApp();
  const aws = new AwsClient({
    accessKeyId: 'AKIDBENCHEXAMPLE',
    secretAccessKey: 'bench-secret-access-key',
    service: 'firehose',
    region: fx.region,
    retries: 0,
  });
  const streams = [fx.stream];
  const headers = {
    'Content-Type': FIREHOSE_CONTENT_TYPE,
    'X-Amz-Target': FIREHOSE_TARGET_PUT_RECORD_BATCH,
  };

  const consume = async (bodies: readonly string[]): Promise<boolean> => {
    let ok = true;
    for (const call of planCalls(bodies, streams)) {
      const body = encodePutRecordBatch(call.stream, call.records);
      const signed = await aws.sign(fx.endpoint, { method: 'POST', headers, body });
      const outcome = decodePutRecordBatchResponse(
        200,
        okResponse(call.records.length),
        call.records.length,
      );
      ok &&= outcome.kind === 'records' && signed.headers.has('authorization');
    }
    return ok;
  };

  const facts: RequestFacts = {
    receivedAt: Date.now(),
    ip: '203.0.113.42',
    userAgent: 'analytics-go (version: 3.0.0)',
    location: {
      country: CF.country,
      region: CF.region,
      city: CF.city,
      timezone: CF.timezone,
      postalCode: CF.postalCode,
      latitude: Number(CF.latitude),
      longitude: Number(CF.longitude),
    },
  };
  const enrich = { source: 'ndc-demo', anonymizeIp: false, newId: () => crypto.randomUUID() };
  const parsedTrack: unknown = JSON.parse(fx.trackBody);
  const validTrack = validateEvent(parsedTrack, 'track');
  if (!validTrack.ok) throw new Error(`track.json refused: ${validTrack.error.reason}`);
  const enrichedTrack: JsonObject = enrichEvent(validTrack.value, facts, enrich);
  const trackLine = JSON.stringify(enrichedTrack);
  const trackId = String(enrichedTrack['messageId']);
  const parsedBatch: unknown = JSON.parse(fx.batchBody);
  const envelope = parseBatchEnvelope(parsedBatch);
  if (!envelope.ok) throw new Error(`batch body refused: ${envelope.error.reason}`);
  const batchDefaults = envelope.value;
  const batchBytes = utf8Length(fx.batchBody);
  const validItems: ValidEvent[] = batchDefaults.items.map((item) => {
    const v = validateEvent(item, undefined);
    if (!v.ok) throw new Error(`batch item refused: ${v.error.reason}`);
    return v.value;
  });
  const enrichedBatch = validItems.map((v) => enrichEvent(v, facts, enrich, batchDefaults));
  const batchLines = enrichedBatch.map((e) => JSON.stringify(e));
  const batchEvents = batchLines.map((line, i) => ({
    line,
    messageId: String(enrichedBatch[i]?.['messageId']),
  }));
  const reparsedBatch = batchLines.map((line) => JSON.parse(line) as unknown);
  const plan = parsePlan(JSON.parse(fx.plan) as unknown);
  if (!plan.ok) throw new Error(`the bench plan is refused: ${plan.error.message}`);
  const plannedEnvelope = parseBatchEnvelope(JSON.parse(fx.plannedBatchBody) as unknown);
  if (!plannedEnvelope.ok) throw new Error('the planned batch is refused');
  const planned = ingestBatch(plannedEnvelope.value, utf8Length(fx.plannedBatchBody), facts, {
    ...enrich,
    source: fx.planSource,
  });
  if (!planned.ok || planned.value.accepted.length !== 100) {
    throw new Error('the planned batch does not ingest whole');
  }
  const plannedEvents = planned.value.accepted;
  // Privacy: the bench policy compiled, the batch ingested, a key, a million suppressed ids.
  const privacyPolicy = parsePrivacyPolicy(JSON.parse(fx.privacyPolicy) as unknown, true);
  if (!privacyPolicy.ok)
    throw new Error(`the bench privacy policy is refused: ${privacyPolicy.error.message}`);
  const privacyEnvelope = parseBatchEnvelope(JSON.parse(fx.privacyBatchBody) as unknown);
  if (!privacyEnvelope.ok) throw new Error('the privacy batch is refused');
  const privacyIngested = ingestBatch(
    privacyEnvelope.value,
    utf8Length(fx.privacyBatchBody),
    facts,
    { ...enrich, source: fx.privacySource },
  );
  if (!privacyIngested.ok || privacyIngested.value.accepted.length !== 100) {
    throw new Error('the privacy batch does not ingest whole');
  }
  const privacyEvents = privacyIngested.value.accepted;
  const privacyHash = keyedHex(BENCH_HASH_KEY);
  const redactPrivacy = () =>
    redactEvents(privacyEvents, {
      policy: privacyPolicy.value.compiled,
      sinks: ['firehose'],
      gpc: false,
      suppressed: undefined,
      hash: privacyHash,
    });
  const lookup = suppressionLookup(BENCH_HASH_KEY, [millionIdSet()]);
  const privacyEnv: BenchEnv = { ...appEnv, PRIVACY_HASH_KEY: BENCH_HASH_KEY };
  let nextId = 0;
  // One plan and one event per expression: the event's one string is the expression's worst.
  const patternCases = PATTERN_CASES.map((p) => {
    const parsed = parsePlan({
      events: { P: { properties: { properties: { s: { type: 'string', ...p.schema } } } } },
    });
    if (!parsed.ok) throw new Error(`pattern case ${p.id} refused: ${parsed.error.message}`);
    const raw = {
      type: 'track',
      event: 'P',
      userId: 'u',
      properties: { s: p.attack(PATTERN_STRING_CHARS) },
    };
    const single = ingestSingle(raw, 'track', facts, enrich);
    if (!single.ok) throw new Error(`pattern case ${p.id}: the event is refused`);
    const events = [single.value];
    return [
      `stage.plan.pattern32k.${p.id}`,
      // Each attack string fails its expression: the event is annotated, never passed.
      () => enforcePlan(parsed.value.compiled, events).violated === 1,
    ] as const;
  });
  const mixCalls = planCalls(fx.mixMessages, streams);
  const mixBodies = mixCalls.map((c) => encodePutRecordBatch(c.stream, c.records));
  const keyBytes = () => encoder.encode(fx.writeKey);
  const batchEncoded = encoder.encode(fx.batchBody);
  const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
  const mixNdjson = fx.mixMessages.map((body) => body.slice(body.indexOf('\n') + 1));
  const scratch = new Uint8Array(3 * Math.max(...mixNdjson.map((t) => t.length)));

  // The debugger: what one accepted track.json costs to capture, and the handler with its source
  // watched (armed once, as an API read arms it).
  const trackTrace: IngestTrace = {
    ...newTrace(facts.receivedAt),
    source: 'ndc-demo',
    writeKey: fx.writeKey,
    single: { raw: parsedTrack, pathType: 'track' },
    outcome: {
      accepted: [
        {
          line: trackLine,
          bytes: utf8Length(trackLine),
          type: 'track',
          messageId: trackId,
          event: JSON.parse(trackLine) as JsonObject,
        },
      ],
      rejected: [],
    },
    queued: true,
  };
  const watchedEnv: BenchEnv = {
    ...appEnv,
    ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    DEBUGGER_ARM_SECONDS: BENCH_ARM_SECONDS,
  };
  let armed = false;
  const armTrackSource = async (): Promise<void> => {
    if (armed) return;
    const res = await app.fetch(
      new Request('http://127.0.0.1/debugger/events?source=ndc-demo&limit=1', {
        headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
      }),
      watchedEnv,
      invocation.ctx,
    );
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`arming the debugger answered ${res.status}`);
    armed = true;
  };

  // Forwarding: every source of the mix forwarded. The events consumer re-packs what it
  // delivers into copies; the forward consumer plans those copies into /v1/batch calls.
  const copyInputs = (): CopyInput[] =>
    fx.mixMessages.flatMap((body, index) => {
      const m = decodeMessage(body);
      if (m === undefined) return [];
      const ids = messageIds(m, messageLines(m));
      return [
        { index, source: m.header.source, receivedAt: m.header.receivedAt, ndjson: m.ndjson, ids },
      ];
    });
  const copyBodies = packCopies(copyInputs()).map((c) => c.body);
  const forwardKeys = new Map(
    [...new Set(copyInputs().map((c) => c.source))].map((s) => [s, `dest-${s}`]),
  );
  const forwardWriteKeys = `${fx.planSource}=dest,ndc-demo=dest-demo`;
  const forwardingEnv: BenchEnv = {
    ...appEnv,
    FORWARD_ENDPOINT: 'https://forward.example/v1/batch',
    FORWARD_WRITE_KEYS: forwardWriteKeys,
  };
  if (parseForwardWriteKeys(forwardWriteKeys).keys.size !== 2) {
    throw new Error('the bench FORWARD_WRITE_KEYS does not parse');
  }

  const status200 = async (r: Response | Promise<Response>): Promise<boolean> => {
    const res = await r;
    // Drain the body so every iteration pays for the whole answer.
    await res.arrayBuffer();
    return res.status === 200;
  };

  return new Map<string, Case>([
    [
      'handler.track',
      () => status200(app.fetch(request('/v1/track', fx.trackBody), appEnv, invocation.ctx)),
    ],
    [
      'handler.batch100',
      () => status200(app.fetch(request('/v1/batch', fx.batchBody), appEnv, invocation.ctx)),
    ],
    [
      'handler.batch100.props10',
      () =>
        status200(
          app.fetch(
            request('/v1/batch', fx.plannedBatchBody, fx.propsWriteKey),
            appEnv,
            invocation.ctx,
          ),
        ),
    ],
    [
      'handler.batch100.plan',
      () =>
        status200(
          app.fetch(
            request('/v1/batch', fx.plannedBatchBody, fx.planWriteKey),
            appEnv,
            invocation.ctx,
          ),
        ),
    ],
    ['floor.track', () => status200(floor.fetch(request('/v1/track', fx.trackBody)))],
    ['floor.batch100', () => status200(floor.fetch(request('/v1/batch', fx.batchBody)))],
    ['consumer.singles100', () => consume(fx.singlesMessages)],
    ['consumer.mix100', () => consume(fx.mixMessages)],
    [
      'stage.app.root',
      () => status200(app.fetch(new Request('http://127.0.0.1/'), appEnv, invocation.ctx)),
    ],
    ['stage.request.track', () => request('/v1/track', fx.trackBody).method === 'POST'],
    [
      'stage.readBody.track',
      async () => (await readBody(request('/v1/track', fx.trackBody), EVENT_MAX_BYTES)).ok,
    ],
    [
      'stage.arrayBuffer.track',
      async () => (await request('/v1/track', fx.trackBody).arrayBuffer()).byteLength > 0,
    ],
    [
      'stage.auth.sha256',
      async () => (await crypto.subtle.digest('SHA-256', keyBytes())).byteLength === 32,
    ],
    ['stage.parse.track', () => isJsonObject(JSON.parse(fx.trackBody))],
    ['stage.ingestSingle', () => ingestSingle(parsedTrack, 'track', facts, enrich).ok],
    ['stage.stringify.track', () => JSON.stringify(enrichedTrack).length > 0],
    [
      'stage.packMessages.track',
      () =>
        groupForSendBatch(
          packMessages([{ line: trackLine, messageId: trackId }], {
            source: 'ndc-demo',
            receivedAt: facts.receivedAt,
          }),
        ).length === 1,
    ],
    [
      'stage.plan.enforce100',
      () => {
        const out = enforcePlan(plan.value.compiled, plannedEvents);
        // Every event passes, so none is serialised again: what is timed is the checking.
        return out.deliver === plannedEvents && out.violated === 0;
      },
    ],
    ...patternCases,
    [
      'stage.readBody.batch100',
      async () => (await readBody(request('/v1/batch', fx.batchBody), BATCH_MAX_BYTES)).ok,
    ],
    [
      'stage.arrayBuffer.batch100',
      async () => (await request('/v1/batch', fx.batchBody).arrayBuffer()).byteLength > 0,
    ],
    ['stage.utf8decode.batch100', () => strictUtf8.decode(batchEncoded).length > 0],
    ['stage.parse.batch100', () => isJsonObject(JSON.parse(fx.batchBody))],
    [
      'stage.ingestBatch100',
      () => {
        const env = parseBatchEnvelope(parsedBatch);
        if (!env.ok) return false;
        const out = ingestBatch(env.value, batchBytes, facts, enrich);
        return out.ok && out.value.rejected.length === 0;
      },
    ],
    [
      'stage.validate.batch100',
      () => batchDefaults.items.every((item) => validateEvent(item, undefined).ok),
    ],
    [
      'stage.enrich.batch100',
      () => validItems.every((v) => enrichEvent(v, facts, enrich, batchDefaults) !== undefined),
    ],
    ['stage.randomUUID.batch100', () => validItems.every(() => crypto.randomUUID().length === 36)],
    [
      'stage.stringify.batch100',
      () => enrichedBatch.map((e) => JSON.stringify(e)).length === enrichedBatch.length,
    ],
    [
      'stage.serializeEvent.batch100',
      () => enrichedBatch.every((e) => serializeEvent(e, 'track').ok),
    ],
    [
      'stage.stringify.reparsed100',
      () => reparsedBatch.map((e) => JSON.stringify(e)).length === reparsedBatch.length,
    ],
    [
      'stage.packMessages.batch100',
      () =>
        groupForSendBatch(
          packMessages(batchEvents, { source: 'ndc-demo', receivedAt: facts.receivedAt }),
        ).length > 0,
    ],
    ['stage.consumer.plan', () => planCalls(fx.mixMessages, streams).length > 0],
    ['stage.consumer.steps', () => consumerSteps(fx.mixMessages)],
    ['stage.consumer.utf8Length', () => mixNdjson.reduce((sum, t) => sum + utf8Length(t), 0) > 0],
    [
      'stage.consumer.textEncoder',
      () => mixNdjson.reduce((sum, t) => sum + encoder.encodeInto(t, scratch).written, 0) > 0,
    ],
    [
      'stage.consumer.encode',
      () => mixCalls.every((c) => encodePutRecordBatch(c.stream, c.records).length > 0),
    ],
    [
      'stage.consumer.sign',
      async () => {
        for (const body of mixBodies) {
          await aws.sign(fx.endpoint, { method: 'POST', headers, body });
        }
        return true;
      },
    ],
    ['stage.capture.track', () => capturedEvents(trackTrace).length === 1],
    ['stage.forward.copies.mix100', () => packCopies(copyInputs()).length > 0],
    [
      'stage.forward.plan.mix100',
      () => {
        const inputs: ForwardInput[] = copyBodies.flatMap((body, index) => {
          const m = decodeMessage(body);
          return m === undefined
            ? []
            : [{ index, source: m.header.source, lines: messageLines(m) }];
        });
        const plan = planForward(inputs, forwardKeys);
        return plan.calls.length > 0 && plan.refused.size === 0;
      },
    ],
    [
      'handler.batch100.privacy.off',
      () =>
        status200(
          app.fetch(
            request('/v1/batch', fx.privacyBatchBody, fx.privacyOffWriteKey),
            privacyEnv,
            invocation.ctx,
          ),
        ),
    ],
    [
      'handler.batch100.privacy',
      () =>
        status200(
          app.fetch(
            request('/v1/batch', fx.privacyBatchBody, fx.privacyWriteKey),
            privacyEnv,
            invocation.ctx,
          ),
        ),
    ],
    [
      'stage.privacy.policy100',
      async () => {
        // Every value new to the isolate: one Web Crypto HMAC per event.
        clearHashMemos();
        const out = await redactPrivacy();
        // Every event consented and edited: one e-mail hashed twice, three fields dropped.
        return out.events.length === 100 && out.counts.redacted.hash === 200;
      },
    ],
    [
      'stage.privacy.policy100.warm',
      async () => {
        const out = await redactPrivacy();
        return out.events.length === 100 && out.counts.redacted.hash === 200;
      },
    ],
    [
      'stage.privacy.lookup',
      () => {
        // Synchronous once the isolate has hashed both ids (every iteration but the first).
        const user = lookup('userId', 'user-1');
        const anon = lookup('anonymousId', 'anon-1');
        if (user instanceof Promise || anon instanceof Promise) {
          return Promise.all([user, anon]).then(([u, a]) => !u && !a);
        }
        return !user && !anon;
      },
    ],
    [
      'stage.privacy.hmac',
      async () => (await hmacHex(await hmacKey(BENCH_HASH_KEY), `user-${nextId++}`)).length === 64,
    ],
    [
      'handler.track.forwarding',
      () => status200(app.fetch(request('/v1/track', fx.trackBody), forwardingEnv, invocation.ctx)),
    ],
    [
      'handler.track.watched',
      async () => {
        await armTrackSource();
        return status200(app.fetch(request('/v1/track', fx.trackBody), watchedEnv, invocation.ctx));
      },
    ],
  ]);
}

async function runCase(fn: Case, n: number): Promise<Omit<RunReply, 'name' | 'n'>> {
  let failures = 0;
  let firstFailure: string | undefined;
  for (let i = 0; i < n; i++) {
    try {
      const result = fn();
      // Synchronous cases stay synchronous: an await per iteration would be timed too.
      const ok = typeof result === 'boolean' ? result : await result;
      if (!ok) {
        failures += 1;
        firstFailure ??= 'the case returned false';
      }
    } catch (e) {
      failures += 1;
      firstFailure ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
  return firstFailure === undefined ? { failures } : { failures, firstFailure };
}

/**
 * Saves a tracking plan to the app's KV namespace as the admin API would (the generated entry
 * wires src/plans/store.ts savePlan, whose KV types tsconfig.node.json cannot check).
 */
export type SavePlan = (
  env: BenchEnv,
  source: string,
  version: string,
  document: unknown,
) => Promise<void>;

/**
 * Saves the privacy case's policy through the admin API (the registry object and KV, as in
 * production), then checks it is in force: an event without analytics consent is not queued.
 */
async function savePrivacyPolicy(
  app: FetchApp,
  env: BenchEnv,
  fixtures: CpuFixtures,
  ctx: unknown,
): Promise<void> {
  const adminEnv = { ...env, ADMIN_TOKEN: BENCH_ADMIN_TOKEN, PRIVACY_HASH_KEY: BENCH_HASH_KEY };
  const saved = await app.fetch(
    new Request(`http://127.0.0.1/admin/privacy/${fixtures.privacySource}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: fixtures.privacyPolicy,
    }),
    adminEnv,
    ctx,
  );
  if (saved.status !== 200) throw new Error(`saving the privacy policy answered ${saved.status}`);
  let sent = false;
  const events = { ...noopQueue, send: async () => void (sent = true) };
  const probe = JSON.stringify({
    type: 'track',
    event: 'X',
    userId: 'u',
    context: { consent: {} },
  });
  const res = await app.fetch(
    request('/v1/track', probe, fixtures.privacyWriteKey),
    { ...adminEnv, EVENTS: events },
    ctx,
  );
  if (res.status !== 200 || sent)
    throw new Error('the privacy case: the policy is not in force for its source');
}

export function cpuBenchWorker(
  makeApp: () => FetchApp,
  savePlan: SavePlan,
): {
  fetch: (request: Request, env: BenchEnv, ctx: unknown) => Promise<Response>;
} {
  let app: FetchApp | undefined;
  let planSaved = false;
  let serveEnv: BenchEnv | undefined;
  let cases: Map<string, Case> | undefined;
  const invocation: Invocation = { ctx: undefined };
  return {
    async fetch(req, env, ctx) {
      const url = new URL(req.url);
      serveEnv ??= benchEnv(env, false);
      app ??= makeApp();
      if (url.pathname.startsWith('/v1/')) return app.fetch(req, serveEnv, ctx);
      if (req.method !== 'POST' || url.pathname !== '/run') {
        return new Response('POST /run {"name","n"}', { status: 404 });
      }
      const { name, n } = (await req.json()) as { name: string; n: number };
      invocation.ctx = ctx;
      const fixtures = parseFixtures(env);
      if (!planSaved) {
        // The plan case's source gets its plan through KV, the way production's does.
        const parsed = parsePlan(JSON.parse(fixtures.plan) as unknown);
        if (!parsed.ok) throw new Error(`the bench plan is refused: ${parsed.error.message}`);
        const version = makeVersion(Date.now(), 'benchplan');
        await savePlan(env, fixtures.planSource, version, parsed.value.document);
        // Check the plan is in force: an unplanned event for its source must be blocked (queued
        // marked as such: src/queue/message.ts), or the plan case would time a source without one.
        let blocked = false;
        const probeQueue = {
          ...noopQueue,
          send: async (body: string) =>
            void (blocked ||= decodeMessage(body)?.blocked !== undefined),
        };
        const probeEnv: BenchEnv = { ...serveEnv };
        for (const name of names(env.BENCH_QUEUE_BINDINGS))
          if (/^EVENTS(_\d+)?$/.test(name)) probeEnv[name] = probeQueue;
        const probe = JSON.stringify({ type: 'track', event: 'Unplanned', userId: 'u' });
        await app.fetch(request('/v1/track', probe, fixtures.planWriteKey), probeEnv, ctx);
        if (!blocked) throw new Error('the plan case: the plan is not in force for its source');
        await savePrivacyPolicy(app, serveEnv, fixtures, ctx);
        planSaved = true;
      }
      cases ??= buildCases(fixtures, app, benchEnv(env, true), invocation);
      const fn = cases.get(name);
      if (fn === undefined) return Response.json({ error: `no case ${name}` }, { status: 404 });
      const reply: RunReply = { name, n, ...(await runCase(fn, n)) };
      return Response.json(reply, { status: reply.failures === 0 ? 200 : 500 });
    },
  };
}
