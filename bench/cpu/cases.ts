// The CPU cases: names shared by the bench worker (bench/cpu/worker.ts), which runs them in
// a loop inside workerd, and the runner (bench/cpu.ts), which times the loops from outside.
// Pure data.

import { PATTERN_CASES } from './patterns';

export type CaseGroup = 'handler' | 'floor' | 'consumer' | 'stage';

export interface CaseInfo {
  name: string;
  group: CaseGroup;
  /** What one iteration does. */
  label: string;
  /** Events one iteration handles; consumer cases read it from the fixtures. */
  events: number | 'fixture:singles' | 'fixture:mix';
  /** Main cases are repeated more and carry the targets; stages explain them. */
  main: boolean;
}

export const CPU_CASES: readonly CaseInfo[] = [
  {
    name: 'handler.track',
    group: 'handler',
    label: 'POST /v1/track (track.json) through createApp().fetch, no-op queue',
    events: 1,
    main: true,
  },
  {
    name: 'handler.batch100',
    group: 'handler',
    label: 'POST /v1/batch (100 × track.json) through createApp().fetch, no-op queue',
    events: 100,
    main: true,
  },
  {
    name: 'handler.batch100.props10',
    group: 'handler',
    label: 'POST /v1/batch (100 events, 10 properties each) for a source without a plan',
    events: 100,
    main: true,
  },
  {
    name: 'handler.batch100.plan',
    group: 'handler',
    label: 'the same batch for a source whose plan has 20 events × 10 properties (all checked)',
    events: 100,
    main: true,
  },
  {
    name: 'handler.batch100.privacy.off',
    group: 'handler',
    label:
      'POST /v1/batch (100 events of 100 users: e-mails, phones, items) for a source without a ' +
      'privacy policy',
    events: 100,
    main: true,
  },
  {
    name: 'handler.batch100.privacy',
    group: 'handler',
    label:
      'the same batch for a source whose privacy policy has 5 field rules (2 hash, 3 drop) and ' +
      'consent',
    events: 100,
    main: true,
  },
  {
    name: 'floor.track',
    group: 'floor',
    label: 'the same track Request through the bare Hono floor app',
    events: 1,
    main: true,
  },
  {
    name: 'floor.batch100',
    group: 'floor',
    label: 'the same batch Request through the bare Hono floor app',
    events: 100,
    main: true,
  },
  {
    name: 'consumer.singles100',
    group: 'consumer',
    label: '100 one-event messages: decode, packRecords, groupCalls, encode, sign, decode 200',
    events: 'fixture:singles',
    main: true,
  },
  {
    name: 'consumer.mix100',
    group: 'consumer',
    label:
      '100 messages of the 70/30 mix: decode, packRecords, groupCalls, encode, sign, decode 200',
    events: 'fixture:mix',
    main: true,
  },
  {
    name: 'stage.app.root',
    group: 'stage',
    label: 'GET / through createApp().fetch: CORS middleware, router, c.json',
    events: 1,
    main: false,
  },
  {
    name: 'stage.request.track',
    group: 'stage',
    label: 'new Request(track.json) only',
    events: 1,
    main: false,
  },
  {
    name: 'stage.readBody.track',
    group: 'stage',
    label: 'new Request + readBody (src/routes/body.ts): read within the cap + strict UTF-8',
    events: 1,
    main: false,
  },
  {
    name: 'stage.arrayBuffer.track',
    group: 'stage',
    label: 'for comparison: new Request + request.arrayBuffer()',
    events: 1,
    main: false,
  },
  {
    name: 'stage.auth.sha256',
    group: 'stage',
    label: 'crypto.subtle.digest SHA-256 of the write key (what authenticate awaits)',
    events: 1,
    main: false,
  },
  {
    name: 'stage.parse.track',
    group: 'stage',
    label: 'JSON.parse(track.json)',
    events: 1,
    main: false,
  },
  {
    name: 'stage.ingestSingle',
    group: 'stage',
    label: 'ingestSingle: validate + enrich + serialise one parsed call',
    events: 1,
    main: false,
  },
  {
    name: 'stage.stringify.track',
    group: 'stage',
    label: 'JSON.stringify of one enriched event',
    events: 1,
    main: false,
  },
  {
    name: 'stage.packMessages.track',
    group: 'stage',
    label: 'packMessages + groupForSendBatch for one line',
    events: 1,
    main: false,
  },
  {
    name: 'stage.plan.enforce100',
    group: 'stage',
    label: 'enforcePlan: the 20 × 10 plan checking the 100 ingested events (none changed)',
    events: 100,
    main: false,
  },
  // The worst accepted expressions of a plan on a 32 KB string (bench/cpu/patterns.ts).
  ...PATTERN_CASES.map((p): CaseInfo => ({
    name: `stage.plan.pattern32k.${p.id}`,
    group: 'stage',
    label: `enforcePlan: one event whose 32 KB string meets ${JSON.stringify(p.schema)} (${p.why})`,
    events: 1,
    main: false,
  })),
  {
    name: 'stage.readBody.batch100',
    group: 'stage',
    label: 'new Request + readBody of the 100-event body',
    events: 100,
    main: false,
  },
  {
    name: 'stage.arrayBuffer.batch100',
    group: 'stage',
    label: 'for comparison: new Request + request.arrayBuffer() of the 100-event body',
    events: 100,
    main: false,
  },
  {
    name: 'stage.utf8decode.batch100',
    group: 'stage',
    label: "TextDecoder('utf-8', {fatal: true}) of the 100-event body's bytes",
    events: 100,
    main: false,
  },
  {
    name: 'stage.parse.batch100',
    group: 'stage',
    label: 'JSON.parse of the 100-event body',
    events: 100,
    main: false,
  },
  {
    name: 'stage.ingestBatch100',
    group: 'stage',
    label: 'parseBatchEnvelope + ingestBatch: validate + enrich + serialise 100 items',
    events: 100,
    main: false,
  },
  {
    name: 'stage.validate.batch100',
    group: 'stage',
    label: 'validateEvent × 100 items',
    events: 100,
    main: false,
  },
  {
    name: 'stage.enrich.batch100',
    group: 'stage',
    label: 'enrichEvent × 100 validated items (with batch defaults)',
    events: 100,
    main: false,
  },
  {
    name: 'stage.randomUUID.batch100',
    group: 'stage',
    label: 'crypto.randomUUID × 100 (the messageId enrich adds)',
    events: 100,
    main: false,
  },
  {
    name: 'stage.stringify.batch100',
    group: 'stage',
    label: 'JSON.stringify of 100 enriched events',
    events: 100,
    main: false,
  },
  {
    name: 'stage.serializeEvent.batch100',
    group: 'stage',
    label: 'serializeEvent × 100: JSON.stringify + utf8Length size check',
    events: 100,
    main: false,
  },
  {
    name: 'stage.stringify.reparsed100',
    group: 'stage',
    label: 'for comparison: JSON.stringify of the same 100 events re-parsed (never `delete`d)',
    events: 100,
    main: false,
  },
  {
    name: 'stage.packMessages.batch100',
    group: 'stage',
    label: 'packMessages + groupForSendBatch for 100 lines',
    events: 100,
    main: false,
  },
  {
    name: 'stage.consumer.plan',
    group: 'stage',
    label: 'mix batch: decodeMessage + streamFor + packRecords + groupCalls',
    events: 'fixture:mix',
    main: false,
  },
  {
    name: 'stage.consumer.steps',
    group: 'stage',
    label:
      'mix batch, every message delivered: prepareBatch, a step per message (step.ts), the report of steps',
    events: 'fixture:mix',
    main: false,
  },
  {
    name: 'stage.consumer.utf8Length',
    group: 'stage',
    label: "mix batch: utf8Length (src/segment/utf8.ts) of every message's NDJSON",
    events: 'fixture:mix',
    main: false,
  },
  {
    name: 'stage.consumer.textEncoder',
    group: 'stage',
    label: 'for comparison: TextEncoder.encodeInto the same NDJSON, byte counts only',
    events: 'fixture:mix',
    main: false,
  },
  {
    name: 'stage.consumer.encode',
    group: 'stage',
    label: 'mix batch: encodePutRecordBatch (base64 of every record)',
    events: 'fixture:mix',
    main: false,
  },
  {
    name: 'stage.consumer.sign',
    group: 'stage',
    label: 'mix batch: AwsClient.sign (SHA-256 of the body + SigV4 HMACs)',
    events: 'fixture:mix',
    main: false,
  },
  {
    name: 'stage.capture.track',
    group: 'stage',
    label: 'debugger: capturedEvents of an accepted track.json (parse the line, scrub, measure)',
    events: 1,
    main: false,
  },
  {
    name: 'stage.forward.copies.mix100',
    group: 'stage',
    label:
      'forwarding, events consumer: the mix batch decoded and re-packed per source into forward ' +
      'copies (packCopies), every source forwarded',
    events: 'fixture:mix',
    main: false,
  },
  {
    name: 'stage.forward.plan.mix100',
    group: 'stage',
    label:
      'forwarding, forward consumer: those copies decoded and planned into /v1/batch calls ' +
      '(planForward: each event parsed, fields dropped, re-serialised)',
    events: 'fixture:mix',
    main: false,
  },
  {
    name: 'stage.privacy.policy100',
    group: 'stage',
    label:
      'privacy: redactEvents, the 5-rule policy with consent over the 100 ingested events, every ' +
      'e-mail new to the isolate (one Web Crypto HMAC-SHA256 per event), each event serialised again',
    events: 100,
    main: false,
  },
  {
    name: 'stage.privacy.policy100.warm',
    group: 'stage',
    label:
      'privacy: the same, the e-mails hashed before in this isolate (a Map read each: a user ' +
      'seen before)',
    events: 100,
    main: false,
  },
  {
    name: 'stage.privacy.lookup',
    group: 'stage',
    label:
      "privacy: one event's suppression lookup (userId and anonymousId, hashed before in this " +
      'isolate) in a set of 1,000,000 suppressed ids (32 shards)',
    events: 1,
    main: false,
  },
  {
    name: 'stage.privacy.hmac',
    group: 'stage',
    label: 'privacy: one Web Crypto HMAC-SHA256 of an id (what a lookup costs for a new id)',
    events: 1,
    main: false,
  },
  {
    name: 'handler.track.forwarding',
    group: 'handler',
    label: 'POST /v1/track with forwarding configured for its source (FORWARD_* set)',
    events: 1,
    main: false,
  },
  // Last: it arms the debugger for track.json's source in the bench isolate (for a day), which
  // would make every later handler case a watched one.
  {
    name: 'handler.track.watched',
    group: 'handler',
    label:
      'POST /v1/track with its source watched by the debugger (100 events/s captured, the rest ' +
      'counted as skipped: in a loop nearly every iteration is a skipped one)',
    events: 1,
    main: false,
  },
];

/** What the runner hands the bench worker (as the BENCH_FIXTURES text binding). */
export interface CpuFixtures {
  trackBody: string;
  batchBody: string;
  writeKey: string;
  /** 100 events with 10 properties each, and the tracking plan (JSON) they satisfy. */
  plannedBatchBody: string;
  plan: string;
  planSource: string;
  planWriteKey: string;
  propsWriteKey: string;
  /** 100 events of 100 users with the fields the privacy policy acts on, and that policy. */
  privacyBatchBody: string;
  privacyPolicy: string;
  privacySource: string;
  privacyWriteKey: string;
  /** A source without a privacy policy, for the same batch. */
  privacyOffWriteKey: string;
  /** Queue message bodies as the producer writes them. */
  singlesMessages: string[];
  mixMessages: string[];
  stream: string;
  region: string;
  endpoint: string;
}

export interface RunReply {
  name: string;
  n: number;
  failures: number;
  /** Only on failure: what went wrong first. */
  firstFailure?: string;
}
