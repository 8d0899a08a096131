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
import { encodePutRecordBatch, type CallOutcome } from '../firehose/codec';
import { parseStreams, type FirehoseCall, type PackInput } from '../firehose/pack';
import type { Env } from '../env';
import type { DeliveryReport } from '../metrics/record';
import { inPool } from '../pool';
import type { ConsumerDeps } from './consumer';
import { decide, planDelivery, splitCall, type Decision, type SentCall } from './delivery';
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

/** Firehose settings from env, or the reason delivery cannot be configured. */
export function firehoseSettings(env: Env): FirehoseSettings | string {
  const region = env.AWS_REGION?.trim() || 'us-east-1';
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY)
    return 'not_configured: AWS credentials are not set';
  const settings: FirehoseSettings = {
    endpoint: env.FIREHOSE_ENDPOINT?.trim() || defaultEndpoint(region),
    region,
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

/** Firehose settings and streams, or the outcome every call gets while they are missing. */
function firehoseTarget(
  env: Env,
): { settings: FirehoseSettings; streams: string[] } | { missing: CallOutcome } {
  const streams = parseStreams(env.FIREHOSE_STREAM);
  const settings = firehoseSettings(env);
  // An operator's to fix: the messages wait (step.ts), never dead-lettered.
  if (typeof settings === 'string')
    return { missing: { kind: 'retry', code: 'NotConfigured', message: settings, cause: 'auth' } };
  if (streams.length === 0) {
    const message = 'FIREHOSE_STREAM is not set';
    return { missing: { kind: 'retry', code: 'NotConfigured', message, cause: 'not_configured' } };
  }
  return { settings, streams };
}

/**
 * Forwarding, then Firehose: copies are queued before the call (forward-copies.ts says why); a
 * message whose copy the forward queue refused waits, undelivered. With Firehose unconfigured
 * nothing is copied or sent.
 */
async function send(env: Env, prepared: Prepared, report: DeliveryReport): Promise<SentCall[]> {
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
  const plan = planDelivery(inputs, 'missing' in target ? [''] : target.streams);
  const sent =
    'missing' in target
      ? plan.calls.map((call) => ({ call, outcome: target.missing }))
      : await sendCalls(plan.calls, prepared.inputs, (call) =>
          putRecordBatch(
            target.settings,
            encodePutRecordBatch(call.stream, call.records),
            call.records.length,
          ),
        );
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
  const deadLetterFailed = await deadLetter(env, messages, prepared.kept, steps, deps.now());
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
  const notArchived = await archiveBlocked(env.ARCHIVE, messages, deps, dedupe, outbox, archived);
  const prepared = prepareBatch(messages, notArchived);
  const report = { ...emptyReport(prepared.deduplicated), ...archived };
  const sent = await send(env, prepared, report);
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
