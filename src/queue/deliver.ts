// The events consumer: `deliverBatch` reserves each message's events with the dedupe shards
// (src/dedupe/session.ts), archives the events a tracking plan blocked (src/archive/blocked.ts),
// queues a copy for forwarding first (forward-copies.ts), sends the
// rest to Firehose, and then acks, retries, requeues or dead-letters each message by what
// happened to it. It orchestrates; the decisions are the pure delivery.ts (per call and record)
// and step.ts (per message: backoff, waiting, requeue, dead-letter), and this file does I/O.

import { archiveBlocked } from '../archive/blocked';
import { isolateOutbox, type DedupeSettings, type Outbox } from '../dedupe/client';
import { DedupeSession, type Settlement } from '../dedupe/session';
import { defaultEndpoint, putRecordBatch, type FirehoseSettings } from '../firehose/client';
import { encodePutRecordBatch, type CallOutcome, type RetryCause } from '../firehose/codec';
import { FIREHOSE_LIMITS, type FirehoseCall, type PackInput } from '../firehose/pack';
import { StreamSpread } from '../firehose/spread';
import { DEFAULT_REGION, placement } from '../sources/placement';
import type { Env } from '../env';
import type { DeliveryReport } from '../metrics/record';
import { inPool } from '../pool';
import type { ConsumerDeps } from './consumer';
import {
  decide,
  planDelivery,
  splitCall,
  type Decision,
  type SentCall,
  type SourceTarget,
} from './delivery';
import { deadLetter, requeue } from './outgoing';
import { queueForwardCopies } from './forward-copies';
import { decodeMessage, messageIds, messageLines } from './message';
import { emptyReport, reportCalls, reportSteps } from './report';
import { retryCapSeconds, retryDelaySeconds } from './retry';
import {
  afterFailedRequeue,
  defaultPolicy,
  nextStep,
  retentionSeconds,
  type DeliveryPolicy,
  type Step,
} from './step';
import { prepareBatch, type BatchMessage, type Prepared } from './prepare';

// Workers limits: "6 simultaneous open connections" per invocation; a seventh call would wait
// for a slot with its timeout already running, and could time out without being sent.
export const FIREHOSE_MAX_CONCURRENT_CALLS = 6;

// Ours: rounds of splitting a call Firehose refuses for its size. 500 records halve to one in
// 9 rounds and a record's ≤ 16 messages to one in 4 more.
export const SIZE_SPLIT_MAX_ROUNDS = 16;

type Message = BatchMessage;

function readMessages(batch: MessageBatch<unknown>): Message[] {
  return batch.messages.map((raw) => {
    const decoded = decodeMessage(raw.body);
    const lines = decoded === undefined ? [] : messageLines(decoded);
    return {
      raw,
      decoded,
      lines,
      ids: decoded === undefined ? [] : messageIds(decoded, lines),
      token: decoded?.header.token ?? raw.id,
      attempt: `${raw.id}:${raw.attempts}`,
      gate: undefined,
    };
  });
}

/**
 * Firehose settings from env for `region` (AWS_REGION's when not given), or the reason delivery
 * cannot be configured. FIREHOSE_ENDPOINT, when set, is every region's endpoint (local, VPC).
 */
export function firehoseSettings(env: Env, region?: string): FirehoseSettings | string {
  const signedFor = region || env.AWS_REGION?.trim() || DEFAULT_REGION;
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY)
    return 'not_configured: AWS credentials are not set';
  const settings: FirehoseSettings = {
    endpoint: env.FIREHOSE_ENDPOINT?.trim() || defaultEndpoint(signedFor),
    region: signedFor,
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
  };
  if (env.AWS_SESSION_TOKEN) settings.sessionToken = env.AWS_SESSION_TOKEN;
  const timeout = Number(env.FIREHOSE_TIMEOUT_SECONDS);
  if (env.FIREHOSE_TIMEOUT_SECONDS && Number.isFinite(timeout) && timeout > 0)
    settings.timeoutMs = timeout * 1000;
  return settings;
}

/** Sends every call; a call refused for its size is split and its parts sent, round by round. */
async function sendCalls(
  calls: readonly FirehoseCall[],
  inputs: ReadonlyMap<number, PackInput>,
  send: (call: FirehoseCall) => Promise<CallOutcome>,
): Promise<SentCall[]> {
  const done: SentCall[] = [];
  let round: readonly FirehoseCall[] = calls;
  for (let r = 0; round.length > 0; r++) {
    const outcomes = await inPool(round, FIREHOSE_MAX_CONCURRENT_CALLS, send);
    const next: FirehoseCall[] = [];
    round.forEach((call, i) => {
      const outcome = outcomes[i] as CallOutcome;
      const parts =
        outcome.kind === 'too_large' && r < SIZE_SPLIT_MAX_ROUNDS
          ? splitCall(call, inputs)
          : undefined;
      if (parts !== undefined) next.push(...parts);
      else done.push({ call, outcome });
    });
    round = next;
  }
  return done;
}

// The isolate's spread of records over streams, and its memory of throttled ones (spread.ts).
const isolateSpread = new StreamSpread();

interface Target {
  /** Each source's region and streams (its route's, else AWS_REGION and FIREHOSE_STREAM). */
  targetOf: (source: string) => SourceTarget;
  /** The settings of a region's calls, or the outcome its calls get (never sent). */
  send: (call: FirehoseCall) => Promise<CallOutcome>;
}

const notConfigured = (message: string, cause: RetryCause): CallOutcome => ({
  kind: 'retry',
  code: 'NotConfigured',
  message,
  cause,
});

/**
 * Where each source's calls go, or the outcome every call gets while delivery cannot be
 * configured (credentials missing, FIREHOSE_ROUTES naming what is not bound): an operator's to
 * fix, so the messages wait (step.ts), never dead-lettered.
 */
function firehoseTarget(env: Env): Target | { missing: CallOutcome } {
  const settings = firehoseSettings(env);
  if (typeof settings === 'string') return { missing: notConfigured(settings, 'auth') };
  const resolved = placement(env);
  if (!resolved.ok) return { missing: notConfigured(resolved.error, 'not_configured') };
  const where = resolved.value;
  const byRegion = new Map<string, FirehoseSettings>();
  const settingsFor = (region: string): FirehoseSettings => {
    let s = byRegion.get(region);
    if (s === undefined) {
      s = firehoseSettings(env, region) as FirehoseSettings;
      byRegion.set(region, s);
    }
    return s;
  };
  return {
    targetOf: (source) => where.firehoseFor(source),
    send: (call) =>
      call.stream === ''
        ? Promise.resolve(notConfigured('FIREHOSE_STREAM is not set', 'not_configured'))
        : putRecordBatch(
            settingsFor(call.region ?? ''),
            encodePutRecordBatch(call.stream, call.records),
            call.records.length,
          ),
  };
}

/** A call that throttled or failed transiently marks its stream strained (spread.ts). */
function noteStrain(sent: readonly SentCall[], nowMs: number): void {
  for (const { call, outcome } of sent) {
    const strained =
      (outcome.kind === 'retry' && outcome.cause === 'transient') ||
      (outcome.kind === 'records' && outcome.records.some((r) => !r.ok && r.retryable));
    if (strained) isolateSpread.strained(call.region ?? '', call.stream, nowMs);
  }
}

/**
 * Forwarding, then Firehose: copies are queued before the call (forward-copies.ts says why); a
 * message whose copy the forward queue refused waits, undelivered. With Firehose unconfigured
 * nothing is copied or sent.
 */
async function send(
  env: Env,
  prepared: Prepared,
  report: DeliveryReport,
  nowMs: number,
): Promise<SentCall[]> {
  const target = firehoseTarget(env);
  const copies = 'missing' in target ? undefined : await queueForwardCopies(env, prepared.copies);
  const notCopied = copies?.failed ?? new Set<number>();
  prepared.copied = copies?.queued ?? new Set();
  // A message for the forward copy only is done once its copy is queued (or when its source is
  // not forwarded: no sink is left); while Firehose is unconfigured it waits like the rest.
  for (const index of prepared.forwardOnly.keys()) {
    const missing = 'missing' in target ? target.missing : undefined;
    prepared.decisions.set(
      index,
      missing?.kind === 'retry'
        ? { kind: 'retry', code: missing.code, cause: missing.cause }
        : { kind: 'ack', stream: '' },
    );
  }
  for (const index of notCopied) {
    const code = 'ForwardQueueUnavailable';
    prepared.decisions.set(index, { kind: 'retry', code, cause: 'forward_unavailable' });
    const events = prepared.inputs.get(index)?.events ?? prepared.forwardOnly.get(index) ?? 0;
    report.forwardCopyFailedEvents = (report.forwardCopyFailedEvents ?? 0) + events;
  }
  const inputs = [...prepared.inputs.values()].filter((input) => !notCopied.has(input.index));
  if ('missing' in target) {
    const plan = planDelivery(inputs, ['']);
    const sent = plan.calls.map((call) => ({ call, outcome: target.missing }));
    for (const [index, decision] of decide(sent, plan.unsendable))
      prepared.decisions.set(index, decision);
    return sent;
  }
  const spreading = { spread: isolateSpread, nowMs };
  const plan = planDelivery(inputs, target.targetOf, FIREHOSE_LIMITS, spreading);
  const sent = await sendCalls(plan.calls, prepared.inputs, target.send);
  noteStrain(sent, nowMs);
  for (const [index, decision] of decide(sent, plan.unsendable))
    prepared.decisions.set(index, decision);
  return sent;
}

const settlementOf = (d: Decision): Settlement =>
  d.kind === 'ack'
    ? 'delivered'
    : d.kind === 'retry' && d.cause === 'ambiguous'
      ? 'kept'
      : 'failed';

/** Each message's step (step.ts), from its decision and what its header says. */
function stepsFor(
  messages: readonly Message[],
  decisions: ReadonlyMap<number, Decision>,
  policy: DeliveryPolicy,
  deps: ConsumerDeps,
): Step[] {
  const now = deps.now();
  return messages.map((m, index) => {
    const decision: Decision = decisions.get(index) ?? {
      kind: 'retry',
      code: 'Undecided',
      cause: 'ambiguous',
    };
    const sentAt = m.raw.timestamp.getTime();
    const header = m.decoded?.header;
    const input = {
      decision,
      attempts: m.raw.attempts,
      priorAttempts: header?.priorAttempts ?? 0,
      sentAt,
      queuedAt: header?.queuedAt ?? sentAt,
      waiting: header?.wait,
    };
    return nextStep(input, policy, now, deps.random);
  });
}

/**
 * Requeues and dead-letters what must go, then acks or retries each message by its step: a
 * message whose copy or dead letter could not be sent is retried instead (never acked before
 * its events are somewhere durable). Returns the final steps and the unsent dead letters.
 */
async function carryOut(
  env: Env,
  messages: readonly Message[],
  prepared: Prepared,
  planned: readonly Step[],
  policy: DeliveryPolicy,
  deps: ConsumerDeps,
): Promise<{ steps: Step[]; deadLetterFailed: Set<number> }> {
  const requeueFailed = await requeue(env, messages, prepared.kept, planned, deps.random);
  const steps = planned.map((step, index) =>
    step.kind === 'requeue' && requeueFailed.has(index)
      ? afterFailedRequeue(step, messages[index]?.raw.attempts ?? 1, policy)
      : step,
  );
  const deadLetterFailed = await deadLetter(
    env,
    messages,
    prepared.kept,
    steps,
    deps.now(),
    deps.newId,
  );
  messages.forEach((m, index) => {
    const step = steps[index];
    if (step === undefined) return;
    if (step.kind === 'retry') m.raw.retry({ delaySeconds: step.delaySeconds });
    else if (step.kind === 'dead' && deadLetterFailed.has(index))
      m.raw.retry({
        delaySeconds: retryDelaySeconds(m.raw.attempts, deps.random, policy.retryCapSeconds),
      });
    else m.raw.ack();
  });
  return { steps, deadLetterFailed };
}

export function deliveryPolicy(env: Env, deps: ConsumerDeps): DeliveryPolicy {
  const policy = defaultPolicy(
    retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS),
    retentionSeconds(env.QUEUE_RETENTION_SECONDS),
  );
  return deps.maxAttempts === undefined ? policy : { ...policy, maxAttempts: deps.maxAttempts };
}

export async function deliverBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps,
  dedupe?: DedupeSettings,
  outbox: Outbox = isolateOutbox,
): Promise<DeliveryReport> {
  const policy = deliveryPolicy(env, deps);
  const messages = readMessages(batch);
  const session = dedupe === undefined ? undefined : new DedupeSession(dedupe, outbox);
  await reserve(messages, session);
  const archived: { archivedEvents?: number } = {};
  const notArchived = await archiveBlocked(
    archiveOf(env),
    messages,
    deps,
    dedupe,
    outbox,
    archived,
  );
  const prepared = prepareBatch(messages, notArchived);
  const report = { ...emptyReport(prepared.deduplicated), ...archived };
  const sent = await send(env, prepared, report, deps.now());
  reportCalls(report, sent, messages);
  const steps = stepsFor(messages, prepared.decisions, policy, deps);
  messages.forEach((_m, index) => {
    const decision = prepared.decisions.get(index);
    if (decision !== undefined)
      session?.settle(index, settlementOf(decision), prepared.copied.has(index));
  });
  const done = await carryOut(env, messages, prepared, steps, policy, deps);
  reportSteps(report, { messages, prepared, ...done });
  return report;
}

/**
 * Each source's archive bucket (its route's `archive`, else ARCHIVE); with routes that cannot be
 * resolved, a bucket that refuses every write, so the blocked events wait (retried) rather than
 * land in another source's bucket.
 */
function archiveOf(env: Env): (source: string) => R2Bucket {
  const resolved = placement(env);
  if (resolved.ok) return (source) => resolved.value.archiveFor(source).bucket;
  const refuse = (): Promise<never> => Promise.reject(new Error(resolved.error));
  return () => ({ put: refuse }) as unknown as R2Bucket;
}

/** Reserves every message's events (an undecodable one has none); sets `gate` on each. */
async function reserve(messages: Message[], session: DedupeSession | undefined): Promise<void> {
  if (session === undefined) return;
  const results = await session.reserve(
    messages.map((m) => ({
      token: m.token,
      attempt: m.attempt,
      source: m.decoded?.header.source ?? '',
      ids: m.ids,
    })),
  );
  messages.forEach((m, i) => (m.gate = m.decoded === undefined ? undefined : results[i]));
}
