// Queue consumer adapters: `deliverBatch` sends ndc-segment-events to Firehose and acks,
// retries or dead-letters each message by its record's result; `archiveBatch` writes
// ndc-segment-dlq to R2. Decisions come from the pure delivery.ts and retry.ts.

import { putRecordBatch, defaultEndpoint, type FirehoseSettings } from '../firehose/client';
import { encodePutRecordBatch, type CallOutcome } from '../firehose/codec';
import { parseStreams } from '../firehose/pack';
import type { Env } from '../env';
import { archiveKey, archiveLines, encodeDeadLetter, undecodableLine } from './dead-letter';
import { decide, planDelivery, type Decision } from './delivery';
import { decodeMessage } from './message';
import { mayRetry, retryCapSeconds, retryDelaySeconds } from './retry';

export interface ConsumerDeps {
  now: () => number;
  random: () => number;
  newId: () => string;
}

export const runtimeConsumerDeps: ConsumerDeps = {
  now: () => Date.now(),
  random: () => Math.random(),
  newId: () => crypto.randomUUID(),
};

/** What one batch did, for metrics and logs. */
export interface DeliveryReport {
  calls: Array<{
    stream: string;
    outcome: 'ok' | 'partial' | 'retry' | 'fatal';
    code?: string;
    records: number;
  }>;
  delivered: Array<{
    stream: string;
    events: number;
    records: number;
    bytes: number;
    /** When each landed message's events were received, for delivery latency. */
    received: Array<{ at: number; events: number }>;
  }>;
  /** Events in records or calls that failed, by stream (retried or dead-lettered). */
  failed: Array<{ stream: string; events: number }>;
  retriedEvents: number;
  deadLetteredEvents: number;
  /** Events whose dead-lettering failed and that were retried instead. */
  deadLetterSendFailures: number;
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

function outcomeLabel(outcome: CallOutcome): DeliveryReport['calls'][number]['outcome'] {
  if (outcome.kind !== 'records') return outcome.kind;
  return outcome.records.every((r) => r.ok) ? 'ok' : 'partial';
}

export async function deliverBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps,
): Promise<DeliveryReport> {
  const messages = batch.messages;
  const streams = parseStreams(env.FIREHOSE_STREAM);
  const settings = firehoseSettings(env);
  const plan = planDelivery(
    messages.map((m) => m.body),
    streams,
  );
  let outcomes: CallOutcome[];
  if (typeof settings === 'string' || streams.length === 0) {
    const reason =
      typeof settings === 'string' ? settings : 'not_configured: FIREHOSE_STREAM is not set';
    outcomes = plan.calls.map(() => ({ kind: 'fatal', code: reason, message: reason }));
  } else {
    outcomes = await Promise.all(
      plan.calls.map((call) =>
        putRecordBatch(
          settings,
          encodePutRecordBatch(call.stream, call.records),
          call.records.length,
        ),
      ),
    );
  }
  const decisions = decide(plan, outcomes);

  const report: DeliveryReport = {
    calls: plan.calls.map((call, i) => {
      const o = outcomes[i];
      const entry: DeliveryReport['calls'][number] = {
        stream: call.stream,
        outcome: o === undefined ? 'retry' : outcomeLabel(o),
        records: call.records.length,
      };
      if (o !== undefined && o.kind !== 'records') entry.code = o.code;
      return entry;
    }),
    delivered: [],
    failed: [],
    retriedEvents: 0,
    deadLetteredEvents: 0,
    deadLetterSendFailures: 0,
  };
  plan.calls.forEach((call, i) => {
    const o = outcomes[i];
    const landed =
      o?.kind === 'records' ? call.records.filter((_r, r) => o.records[r]?.ok === true) : [];
    const sent = call.records.reduce((n, r) => n + r.events, 0);
    const delivered = landed.reduce((n, r) => n + r.events, 0);
    if (sent > delivered) report.failed.push({ stream: call.stream, events: sent - delivered });
    if (landed.length === 0) return;
    report.delivered.push({
      stream: call.stream,
      events: delivered,
      records: landed.length,
      bytes: landed.reduce((n, r) => n + r.bytes, 0),
      received: landed.flatMap((r) =>
        r.messages.map((m) => ({
          at: plan.decoded[m]?.header.receivedAt ?? 0,
          events: plan.decoded[m]?.header.events ?? 0,
        })),
      ),
    });
  });

  const dead: Array<{ message: Message<unknown>; index: number; reason: string }> = [];
  messages.forEach((message, index) => {
    const decision: Decision = decisions.get(index) ?? { kind: 'retry', code: 'Undecided' };
    const events = plan.decoded[index]?.header.events ?? 1;
    if (decision.kind === 'ack') {
      message.ack();
    } else if (decision.kind === 'retry' && mayRetry(message.attempts)) {
      report.retriedEvents += events;
      message.retry({
        delaySeconds: retryDelaySeconds(
          message.attempts,
          deps.random,
          retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS),
        ),
      });
    } else {
      const reason =
        decision.kind === 'dead' ? decision.reason : `retries_exhausted: ${decision.code}`;
      dead.push({ message, index, reason });
    }
  });
  if (dead.length > 0) await deadLetter(env, dead, plan.decoded, deps, report);
  return report;
}

async function deadLetter(
  env: Env,
  dead: Array<{ message: Message<unknown>; index: number; reason: string }>,
  decoded: ReturnType<typeof planDelivery>['decoded'],
  deps: ConsumerDeps,
  report: DeliveryReport,
): Promise<void> {
  const at = deps.now();
  const bodies = dead.map(({ message, index, reason }) => {
    const m = decoded[index];
    // A body that is not ours goes to the DLQ as it came; the archive keeps it raw.
    return m === undefined
      ? message.body
      : encodeDeadLetter(m, { reason, attempts: message.attempts, at });
  });
  try {
    // One message at a time keeps each within sendBatch's limits whatever its size.
    await Promise.all(
      bodies.map((body) =>
        env.DLQ.send(body, { contentType: typeof body === 'string' ? 'text' : 'json' }),
      ),
    );
    for (const { message, index } of dead) {
      report.deadLetteredEvents += decoded[index]?.header.events ?? 1;
      message.ack();
    }
  } catch (e) {
    // Never ack what did not reach the DLQ: retry it instead, whatever the attempt count.
    console.error('dead-letter send failed', e instanceof Error ? e.message : String(e));
    for (const { message, index } of dead) {
      report.deadLetterSendFailures += decoded[index]?.header.events ?? 1;
      message.retry({
        delaySeconds: retryDelaySeconds(
          message.attempts,
          deps.random,
          retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS),
        ),
      });
    }
  }
}

export interface ArchiveReport {
  archivedEvents: number;
  key?: string;
}

/** The DLQ consumer: every message of the batch as NDJSON lines in one R2 object. */
export async function archiveBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps,
): Promise<ArchiveReport> {
  const at = deps.now();
  let text = '';
  let events = 0;
  for (const message of batch.messages) {
    const decoded = decodeMessage(message.body);
    if (decoded === undefined) {
      text += undecodableLine(message.body, at);
      events += 1;
    } else {
      text += archiveLines(decoded, at, message.attempts);
      events += decoded.header.events;
    }
  }
  const key = archiveKey(at, deps.newId());
  try {
    await env.ARCHIVE.put(key, text, {
      httpMetadata: { contentType: 'application/x-ndjson' },
      customMetadata: { events: String(events) },
    });
  } catch (e) {
    console.error('archive write failed', e instanceof Error ? e.message : String(e));
    for (const message of batch.messages) {
      message.retry({
        delaySeconds: retryDelaySeconds(
          message.attempts,
          deps.random,
          retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS),
        ),
      });
    }
    return { archivedEvents: 0 };
  }
  batch.ackAll();
  return { archivedEvents: events, key };
}
