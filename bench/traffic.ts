// Synthetic, deterministic traffic for the delivery model and the consumer fixtures: the seed's
// track.json, sized to a target after enrichment, run through the real pure core
// (src/segment/ingest.ts) and the real producer packer (src/queue/pack.ts). Pure but for
// reading track.json once.

import { readFileSync } from 'node:fs';
import {
  groupForSendBatch,
  packMessages,
  type PackEvent,
  type PackedMessage,
} from '../src/queue/pack';
import type { RequestFacts } from '../src/segment/enrich';
import { sharedFacts } from '../src/queue/shared-facts';
import type { CpuFixtures } from './cpu/cases';
import {
  ingestBatch,
  ingestSingle,
  parseBatchEnvelope,
  type QueuedEvent,
} from '../src/segment/ingest';
import { isJsonObject, type JsonObject } from '../src/segment/types';
import { utf8Length } from '../src/segment/utf8';

export const TRACK_JSON_PATH = new URL('../track.json', import.meta.url);

/** track.json exactly as the repo holds it: the single-call request body. */
export const TRACK_JSON_TEXT = readFileSync(TRACK_JSON_PATH, 'utf8');

// track.json carries this key; the bench Worker accepts it as source ndc-demo.
export const SEED_WRITE_KEY = '8GT90rhOugcEGAqdcBWP8muss7iSwwHy';
export const SEED_SOURCE = 'ndc-demo';
// Two more sources for the tracking-plan CPU cases: the same 100 events posted to one without a
// plan and to one with the plan below (bench/cpu/worker.ts saves it to the local KV).
export const PLAN_WRITE_KEY = 'bench-plan-key';
export const PLAN_SOURCE = 'bench-plan';
export const PROPS_WRITE_KEY = 'bench-props-key';
export const PROPS_SOURCE = 'bench-props';
// Two more for the privacy cases: the same 100 events posted to a source whose privacy policy
// has 5 field rules and consent (bench/cpu/worker.ts saves it through the admin API), and to
// one without a policy.
export const PRIVACY_WRITE_KEY = 'bench-privacy-key';
export const PRIVACY_SOURCE = 'bench-privacy';
export const PRIVACY_OFF_WRITE_KEY = 'bench-privacy-off-key';
export const PRIVACY_OFF_SOURCE = 'bench-privacy-off';
export const BENCH_WRITE_KEYS = [
  `${SEED_WRITE_KEY}=${SEED_SOURCE}`,
  `${PLAN_WRITE_KEY}=${PLAN_SOURCE}`,
  `${PROPS_WRITE_KEY}=${PROPS_SOURCE}`,
  `${PRIVACY_WRITE_KEY}=${PRIVACY_SOURCE}`,
  `${PRIVACY_OFF_WRITE_KEY}=${PRIVACY_OFF_SOURCE}`,
].join(',');

/**
 * The privacy case's policy (issue #25: "5 field rules and consent"): two hash rules on one
 * e-mail (one HMAC per event: a request hashes each distinct value once), three drop rules, one
 * of them through an array with `*`; Firehose needs the analytics category.
 */
export function benchPrivacyPolicy(): JsonObject {
  return {
    consent: { categories: { firehose: ['analytics'], forward: ['advertising'] } },
    fields: [
      { path: '/properties/email', action: 'hash' },
      { path: '/context/traits/email', action: 'hash' },
      { path: '/context/traits/phone', action: 'drop' },
      { path: '/context/traits/address', action: 'drop' },
      { path: '/properties/items/*/coupon', action: 'drop' },
    ],
  };
}

/**
 * `{"batch": [...]}` of `n` track.json events of `n` users, each with what the privacy policy
 * acts on: a distinct e-mail in properties and traits, a phone, an address, two items with a
 * coupon, and analytics consent.
 */
export function privacyBatchBody(n: number): string {
  const { writeKey: _key, ...base } = trackEvent();
  const batch = Array.from({ length: n }, (_v, i) => ({
    ...base,
    userId: `user-${i}`,
    properties: {
      ...(isJsonObject(base['properties']) ? base['properties'] : {}),
      email: `user${i}@example.com`,
      items: [
        { sku: 'a-1', price: 12.5, coupon: 'SPRING' },
        { sku: 'b-2', price: 3, coupon: 'SPRING' },
      ],
    },
    context: {
      traits: { email: `user${i}@example.com`, phone: '+61 400 000 000', address: '1 Main St' },
      consent: { categoryPreferences: { analytics: true, advertising: false } },
    },
  }));
  return JSON.stringify({ batch });
}

// Issue #14's cost target: "a plan of 20 events with 10 properties each".
export const PLAN_EVENTS = 20;
export const PLAN_PROPERTIES = 10;
const PROPERTY_TYPES = ['string', 'number', 'integer', 'boolean'] as const;
const PROPERTY_VALUES = { string: 'Melbourne', number: 12.5, integer: 3, boolean: true } as const;

/**
 * The plan of the CPU cases: PLAN_EVENTS events, each with PLAN_PROPERTIES typed properties (two
 * required), unplanned events and violations blocked, so every event is checked in full.
 */
export function benchPlan(): JsonObject {
  const properties: JsonObject = {};
  for (let p = 0; p < PLAN_PROPERTIES; p++) {
    properties[`p${p}`] = { type: PROPERTY_TYPES[p % PROPERTY_TYPES.length] };
  }
  const schema = { type: 'object', required: ['p0', 'p1'], properties };
  const events: JsonObject = {};
  for (let e = 0; e < PLAN_EVENTS; e++) events[`Event ${e}`] = { properties: schema };
  return { events, unplannedEvents: 'block', violations: 'block' };
}

/** `{"batch": [...]}` of `n` track events that satisfy benchPlan(), spread over its events. */
export function plannedBatchBody(n: number): string {
  const base = trackEvent();
  const properties: JsonObject = {};
  for (let p = 0; p < PLAN_PROPERTIES; p++) {
    properties[`p${p}`] = PROPERTY_VALUES[PROPERTY_TYPES[p % PROPERTY_TYPES.length] ?? 'string'];
  }
  const batch = Array.from({ length: n }, (_v, i) => {
    const { writeKey: _key, ...event } = base;
    return { ...event, event: `Event ${i % PLAN_EVENTS}`, properties };
  });
  return JSON.stringify({ batch });
}

export function trackEvent(): JsonObject {
  const parsed: unknown = JSON.parse(TRACK_JSON_TEXT);
  if (!isJsonObject(parsed)) throw new Error('track.json is not a JSON object');
  return parsed;
}

/** `{"batch":[n × track.json], "writeKey": ...}`, the /v1/batch body the load test posts. */
export function batchBody(events: number): string {
  return JSON.stringify({
    batch: Array.from({ length: events }, () => trackEvent()),
    writeKey: SEED_WRITE_KEY,
  });
}

/** What a browser behind Cloudflare's edge adds: an address, a user agent, the cf location. */
export const BENCH_FACTS: Omit<RequestFacts, 'receivedAt'> = {
  ip: '203.0.113.42',
  // track.json comes from analytics-go; its requests carry this user agent.
  userAgent: 'analytics-go (version: 3.0.0)',
  location: {
    country: 'AU',
    region: 'Victoria',
    city: 'Melbourne',
    timezone: 'Australia/Melbourne',
    postalCode: '3000',
    latitude: -37.8136,
    longitude: 144.9631,
  },
};

export const BENCH_RECEIVED_AT = Date.UTC(2026, 10, 29, 9, 0, 0);

/** mulberry32: a small seeded PRNG, so every run models the same traffic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MixSpec {
  /** Share of requests that are single calls; the rest are batches. */
  singleShare: number;
  batchMinEvents: number;
  batchMaxEvents: number;
  /** Enriched event size range (UTF-8 bytes of its NDJSON line). */
  eventMinBytes: number;
  eventMaxBytes: number;
}

export const DEFAULT_MIX: MixSpec = {
  singleShare: 0.7,
  batchMinEvents: 10,
  batchMaxEvents: 100,
  // track.json enriched with BENCH_FACTS is ~560 bytes: events span that to ~100 bytes more.
  eventMinBytes: 570,
  eventMaxBytes: 670,
};

export interface ModelRequest {
  kind: 'single' | 'batch';
  /** Enriched events as queued (NDJSON lines without "\n"). */
  lines: string[];
  /** Queue messages the producer packs them into. */
  messages: PackedMessage[];
  /** sendBatch calls the producer makes. */
  sendBatchCalls: number;
}

let idCounter = 0;
const newId = (): string => {
  idCounter += 1;
  // A UUID-shaped id, so sizes match crypto.randomUUID().
  return `00000000-0000-4000-8000-${idCounter.toString(16).padStart(12, '0')}`;
};

const ENRICH = { source: SEED_SOURCE, anonymizeIp: false, newId };
const FACTS: RequestFacts = { ...BENCH_FACTS, receivedAt: BENCH_RECEIVED_AT };

function enriched(raw: JsonObject): PackEvent {
  const out = ingestSingle(raw, 'track', FACTS, ENRICH);
  if (!out.ok) throw new Error(`track.json fails validation: ${out.error.reason}`);
  return { line: out.value.line, bytes: out.value.bytes, messageId: out.value.messageId };
}

const enrichedLine = (raw: JsonObject): string => enriched(raw).line;

let paddedBaseBytes: number | undefined;

/** track.json with a `properties.note` padded so the enriched line is `targetBytes` long. */
export function sizedEvent(targetBytes: number): JsonObject {
  const base = trackEvent();
  const props = isJsonObject(base['properties']) ? base['properties'] : {};
  // The note is ASCII and ids are fixed-width, so the enriched size grows 1:1 with it.
  paddedBaseBytes ??= utf8Length(enrichedLine({ ...base, properties: { ...props, note: '' } }));
  const pad = Math.max(0, targetBytes - paddedBaseBytes);
  return { ...base, properties: { ...props, note: 'x'.repeat(pad) } };
}

/** Enriched size of track.json itself, unpadded. */
export function trackEnrichedBytes(): number {
  return utf8Length(enrichedLine(trackEvent()));
}

function toRequest(
  kind: ModelRequest['kind'],
  events: PackEvent[],
  first: JsonObject | undefined,
): ModelRequest {
  const messages = packMessages(events, {
    source: SEED_SOURCE,
    receivedAt: BENCH_RECEIVED_AT,
    // As the ingest route packs a request's events (src/routes/ingest.ts).
    facts: sharedFacts(first),
  });
  return {
    kind,
    lines: events.map((e) => e.line),
    messages,
    sendBatchCalls: groupForSendBatch(messages).length,
  };
}

/** `count` requests of the mix, each enriched and packed as the Worker would. */
export function generateMix(count: number, spec: MixSpec = DEFAULT_MIX, seed = 1): ModelRequest[] {
  const random = rng(seed);
  const size = (): number =>
    Math.round(spec.eventMinBytes + random() * (spec.eventMaxBytes - spec.eventMinBytes));
  const out: ModelRequest[] = [];
  for (let i = 0; i < count; i++) {
    if (random() < spec.singleShare) {
      out.push(toRequest('single', [enriched(sizedEvent(size()))], undefined));
      continue;
    }
    const n =
      spec.batchMinEvents + Math.floor(random() * (spec.batchMaxEvents - spec.batchMinEvents + 1));
    const envelope = parseBatchEnvelope({
      batch: Array.from({ length: n }, () => sizedEvent(size())),
    });
    if (!envelope.ok) throw new Error(`batch envelope refused: ${envelope.error.reason}`);
    const result = ingestBatch(envelope.value, 0, FACTS, ENRICH);
    if (!result.ok) throw new Error(`generated batch refused: ${result.error.reason}`);
    const outcome = result.value;
    if (outcome.rejected.length > 0) throw new Error('a generated batch item was rejected');
    out.push(
      toRequest(
        'batch',
        outcome.accepted.map((e) => ({ line: e.line, bytes: e.bytes, messageId: e.messageId })),
        outcome.accepted[0]?.event,
      ),
    );
  }
  return out;
}

/** The CPU bench worker's fixtures: track.json, batches, the plan case and queue messages. */
export function cpuFixtures(mix: readonly ModelRequest[], endpoint: string): CpuFixtures {
  const singles = mix.filter((r) => r.kind === 'single').flatMap((r) => r.messages);
  const all = mix.flatMap((r) => r.messages);
  return {
    trackBody: TRACK_JSON_TEXT,
    batchBody: batchBody(100),
    writeKey: SEED_WRITE_KEY,
    plannedBatchBody: plannedBatchBody(100),
    plan: JSON.stringify(benchPlan()),
    privacyBatchBody: privacyBatchBody(100),
    privacyPolicy: JSON.stringify(benchPrivacyPolicy()),
    privacySource: PRIVACY_SOURCE,
    privacyWriteKey: PRIVACY_WRITE_KEY,
    privacyOffWriteKey: PRIVACY_OFF_WRITE_KEY,
    planSource: PLAN_SOURCE,
    planWriteKey: PLAN_WRITE_KEY,
    propsWriteKey: PROPS_WRITE_KEY,
    singlesMessages: singles.slice(0, 100).map((m) => m.body),
    mixMessages: all.slice(0, 100).map((m) => m.body),
    stream: 'ndc-segment',
    region: 'us-east-1',
    endpoint,
  };
}

/**
 * What ours puts on the queue for one request with this body (a single call of `type`, or a
 * batch): the events enriched with BENCH_FACTS, packed with their header, in bytes.
 */
export function queuedBytes(body: string, type?: 'track'): number {
  const raw = JSON.parse(body) as unknown;
  let events: QueuedEvent[];
  if (type !== undefined) {
    const one = ingestSingle(raw, type, FACTS, ENRICH);
    if (!one.ok) throw new Error(`the body fails validation: ${one.error.reason}`);
    events = [one.value];
  } else {
    const envelope = parseBatchEnvelope(raw);
    if (!envelope.ok) throw new Error(`the batch fails: ${envelope.error.reason}`);
    const out = ingestBatch(envelope.value, utf8Length(body), FACTS, ENRICH);
    if (!out.ok) throw new Error(`the batch fails: ${out.error.reason}`);
    events = out.value.accepted;
  }
  const messages = packMessages(events, {
    source: SEED_SOURCE,
    receivedAt: BENCH_RECEIVED_AT,
    facts: sharedFacts(events[0]?.event),
  });
  return messages.reduce((n, m) => n + m.bytes, 0);
}
