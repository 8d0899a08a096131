// Queue consumer adapters: `deliverBatch` sends the events queues to Firehose and acks, retries
// or dead-letters each message by its record's result, deduplicating by (source, messageId) on
// the way and queueing a copy for forwarding first (forward-copies.ts); `archiveBatch` writes a
// dead-letter queue to R2. Decisions come from the pure delivery.ts, retry.ts and
// src/dedupe/gate.ts.

import { askShards, isolateOutbox, type DedupeSettings, type Outbox } from '../dedupe/client';
import { keysByShard, planGate, resolveGate, type GateResult } from '../dedupe/gate';
import { ANY_OWNER } from '../dedupe/ledger';
import { putRecordBatch, defaultEndpoint, type FirehoseSettings } from '../firehose/client';
import { encodePutRecordBatch, type CallOutcome } from '../firehose/codec';
import { parseStreams, type FirehoseCall, type PackInput } from '../firehose/pack';
import type { Env } from '../env';
import type { CallLabel, DeliveryReport } from '../metrics/record';
import { utf8Length } from '../segment/utf8';
import {
  ARCHIVE_PREFIX,
  archiveKey,
  archiveLines,
  blockedArchiveKey,
  encodeDeadLetter,
  isBlockedReason,
  undecodableLine,
} from './dead-letter';
import {
  decide,
  planDelivery,
  splitCall,
  type Decision,
  type DeliveryInput,
  type SentCall,
} from './delivery';
import { messageSinks } from '../privacy/sinks';
import { queueForwardCopies, type CopyInput } from './forward-copies';
import { QUEUE_SEND_BATCH_MAX_BYTES } from './limits';
import { decodeMessage, messageIds, messageLines, type DecodedMessage } from './message';
import { groupForSendBatch, type PackedMessage } from './pack';
import { mayRetry, retryCapSeconds, retryDelaySeconds } from './retry';
import { inPool } from '../pool';

export type { DeliveryReport };

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

// Workers limits: "6 simultaneous open connections" per invocation; a seventh call would wait
// for a slot with its timeout already running, and could time out without being sent.
export const FIREHOSE_MAX_CONCURRENT_CALLS = 6;

// Ours: rounds of splitting a call Firehose refuses for its size. 500 records halve to one in
// 9 rounds and a record's ≤ 16 messages to one in 4 more.
export const SIZE_SPLIT_MAX_ROUNDS = 16;

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

function callLabel(outcome: CallOutcome): CallLabel {
  if (outcome.kind !== 'records') return outcome.kind;
  return outcome.records.every((r) => r.ok) ? 'ok' : 'partial';
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

interface Message {
  raw: Message_;
  decoded: DecodedMessage | undefined;
  lines: string[];
  ids: string[];
  /** The dedupe token: a replay's own, else the queue message id (stable across retries). */
  token: string;
  gate: GateResult | undefined;
}
type Message_ = globalThis.Message<unknown>;

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
      gate: undefined,
    };
  });
}

/** Asks the dedupe shards about every decodable message; sets `gate` on each. */
async function gateMessages(
  messages: Message[],
  dedupe: DedupeSettings,
  outbox: Outbox,
): Promise<Uint32Array[]> {
  const decodable = messages.filter((m) => m.decoded !== undefined);
  const plan = planGate(
    decodable.map((m, index) => ({
      index,
      token: m.token,
      source: m.decoded?.header.source ?? '',
      ids: m.ids,
    })),
    dedupe.shards,
  );
  const results = resolveGate(plan, await askShards(dedupe.io, plan, outbox));
  decodable.forEach((m, i) => (m.gate = results[i]));
  return plan.keys;
}

export async function deliverBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps,
  dedupe?: DedupeSettings,
  outbox: Outbox = isolateOutbox,
): Promise<DeliveryReport> {
  const messages = readMessages(batch);
  const report: DeliveryReport = {
    calls: [],
    delivered: [],
    failed: [],
    retriedEvents: 0,
    deadLetteredEvents: 0,
    deadLetterSendFailures: 0,
    deduplicated: [],
    ambiguousEvents: 0,
    authFailure: false,
  };
  const keys = dedupe === undefined ? undefined : await gateMessages(messages, dedupe, outbox);
  const keysOf = new Map<Message, Uint32Array>();
  if (keys !== undefined)
    messages
      .filter((m) => m.decoded)
      .forEach((m, i) => keysOf.set(m, keys[i] ?? new Uint32Array()));

  const decisions = new Map<number, Decision>();
  const inputs = new Map<number, DeliveryInput>();
  const copies: CopyInput[] = [];
  /** Messages whose consent allows the forward copy only: index → events. */
  const forwardOnly = new Map<number, number>();
  const dedupedBySource = new Map<string, number>();
  messages.forEach((m, index) => {
    if (m.decoded === undefined) {
      decisions.set(index, { kind: 'dead', reason: 'undecodable_message' });
      return;
    }
    const gate = m.gate;
    if (gate?.unavailable === true) {
      decisions.set(index, {
        kind: 'retry',
        code: 'DedupeUnavailable',
        cause: 'dedupe_unavailable',
      });
      return;
    }
    if (gate?.held === true) {
      decisions.set(index, { kind: 'retry', code: 'HeldForDuplicate', cause: 'held' });
      return;
    }
    const source = m.decoded.header.source;
    if (gate !== undefined && gate.duplicates > 0)
      dedupedBySource.set(source, (dedupedBySource.get(source) ?? 0) + gate.duplicates);
    const kept = gate === undefined ? m.lines : m.lines.filter((_l, i) => gate.keep[i] === true);
    if (kept.length === 0) {
      // Every event of it was delivered already: nothing to send.
      decisions.set(index, { kind: 'ack', stream: '' });
      return;
    }
    const ndjson =
      gate === undefined || kept.length === m.lines.length
        ? m.decoded.ndjson
        : kept.map((l) => `${l}\n`).join('');
    // Consent (docs/privacy.md): a message whose header restricts its sinks goes only there.
    const sinks = messageSinks(m.decoded.header.sinks);
    if (sinks.firehose) {
      inputs.set(index, { index, source, ndjson, bytes: utf8Length(ndjson), events: kept.length });
    } else {
      forwardOnly.set(index, kept.length);
    }
    const ids = gate === undefined ? m.ids : m.ids.filter((_id, i) => gate.keep[i] === true);
    if (sinks.forward)
      copies.push({ index, source, receivedAt: m.decoded.header.receivedAt, ndjson, ids });
  });
  report.deduplicated = [...dedupedBySource].map(([source, events]) => ({ source, events }));

  const streams = parseStreams(env.FIREHOSE_STREAM);
  const settings = firehoseSettings(env);
  // Missing credentials or stream are an operator's to fix: retried (red /health), never
  // dead-lettered at once.
  const missing: CallOutcome | undefined =
    typeof settings === 'string'
      ? { kind: 'retry', code: 'NotConfigured', message: settings, cause: 'auth' }
      : streams.length === 0
        ? {
            kind: 'retry',
            code: 'NotConfigured',
            message: 'FIREHOSE_STREAM is not set',
            cause: 'transient',
          }
        : undefined;
  // Forwarding: copies are queued before the Firehose call (forward-copies.ts says why); a
  // message whose copy the forward queue refused is retried without being delivered. With
  // Firehose unconfigured every message is retried anyway: no copy is made.
  const notCopied =
    missing === undefined ? await queueForwardCopies(env, copies) : new Set<number>();
  // A message for the forward copy only is done once its copy is queued (or when its source is
  // not forwarded: it has no sink left); while Firehose is unconfigured it waits like the rest.
  for (const index of forwardOnly.keys()) {
    decisions.set(
      index,
      missing === undefined
        ? { kind: 'ack', stream: '' }
        : { kind: 'retry', code: 'NotConfigured', cause: 'transient' },
    );
  }
  for (const index of notCopied) {
    decisions.set(index, {
      kind: 'retry',
      code: 'ForwardQueueUnavailable',
      cause: 'forward_unavailable',
    });
    report.forwardCopyFailedEvents =
      (report.forwardCopyFailedEvents ?? 0) +
      (inputs.get(index)?.events ?? forwardOnly.get(index) ?? 0);
  }
  const plan = planDelivery(
    [...inputs.values()].filter((input) => !notCopied.has(input.index)),
    streams,
  );
  const sent =
    missing !== undefined || typeof settings === 'string'
      ? plan.calls.map((call): SentCall => ({
          call,
          outcome: missing ?? { kind: 'fatal', code: '', message: '' },
        }))
      : await sendCalls(plan.calls, inputs, (call) =>
          putRecordBatch(
            settings,
            encodePutRecordBatch(call.stream, call.records),
            call.records.length,
          ),
        );
  for (const [index, decision] of decide(sent, plan.unsendable)) decisions.set(index, decision);
  reportCalls(report, sent, messages);

  const dead: Array<{ index: number; reason: string }> = [];
  messages.forEach((m, index) => {
    const decision: Decision = decisions.get(index) ?? {
      kind: 'retry',
      code: 'Undecided',
      cause: 'ambiguous',
    };
    const events = inputs.get(index)?.events ?? m.lines.length;
    settle(m, decision, keysOf.get(m), dedupe, outbox);
    if (decision.kind === 'ack') {
      m.raw.ack();
    } else if (decision.kind === 'retry' && mayRetry(m.raw.attempts)) {
      report.retriedEvents += events;
      if (decision.cause === 'ambiguous') report.ambiguousEvents += events;
      m.raw.retry({
        delaySeconds: retryDelaySeconds(
          m.raw.attempts,
          deps.random,
          retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS),
        ),
      });
    } else {
      dead.push({
        index,
        reason: decision.kind === 'dead' ? decision.reason : `retries_exhausted: ${decision.code}`,
      });
    }
  });
  if (dead.length > 0) await deadLetter(env, messages, dead, deps, report);
  return report;
}

/**
 * What the dedupe shards must learn from a decision, queued in the outbox for the next call:
 * delivered lines are committed; lines of a delivery that failed for sure (nothing landed) or
 * was given up are released, so another copy may go; an ambiguous call keeps its reservation,
 * and the owner's retry (same token) is sent again.
 */
function settle(
  m: Message,
  decision: Decision,
  keys: Uint32Array | undefined,
  dedupe: DedupeSettings | undefined,
  outbox: Outbox,
): void {
  const gate = m.gate;
  if (dedupe === undefined || keys === undefined || gate === undefined) return;
  const lines = gate.keep.flatMap((keep, i) => (keep ? [i] : []));
  if (lines.length === 0) return;
  const commit = decision.kind === 'ack';
  const release =
    decision.kind === 'dead' || (decision.kind === 'retry' && decision.cause !== 'ambiguous');
  if (!commit && !release) return;
  for (const [shard, shardKeys] of keysByShard(keys, lines, dedupe.shards)) {
    if (commit) outbox.commit(shard, shardKeys);
    else outbox.release(shard, m.token, shardKeys);
  }
}

function reportCalls(
  report: DeliveryReport,
  sent: readonly SentCall[],
  messages: readonly Message[],
): void {
  for (const { call, outcome } of sent) {
    const entry: DeliveryReport['calls'][number] = {
      stream: call.stream,
      outcome: callLabel(outcome),
      records: call.records.length,
    };
    if (outcome.kind !== 'records') entry.code = outcome.code;
    if (outcome.kind === 'retry' && outcome.cause === 'auth') report.authFailure = true;
    report.calls.push(entry);
    const landed =
      outcome.kind === 'records'
        ? call.records.filter((_r, r) => outcome.records[r]?.ok === true)
        : [];
    const sentEvents = call.records.reduce((n, r) => n + r.events, 0);
    const delivered = landed.reduce((n, r) => n + r.events, 0);
    if (sentEvents > delivered)
      report.failed.push({ stream: call.stream, events: sentEvents - delivered });
    if (landed.length === 0) continue;
    report.delivered.push({
      stream: call.stream,
      events: delivered,
      records: landed.length,
      bytes: landed.reduce((n, r) => n + r.bytes, 0),
      received: landed.flatMap((r) =>
        r.messages.map((index) => {
          const m = messages[index];
          const events =
            m?.gate === undefined ? (m?.lines.length ?? 0) : m.gate.keep.filter(Boolean).length;
          return { at: m?.decoded?.header.receivedAt ?? 0, events };
        }),
      ),
    });
  }
}

/**
 * Sends the given messages to the DLQ in sendBatch calls and acks those that went; a message
 * whose own call failed is retried instead (never acked before it is somewhere durable).
 */
async function deadLetter(
  env: Env,
  messages: readonly Message[],
  dead: ReadonlyArray<{ index: number; reason: string }>,
  deps: ConsumerDeps,
  report: DeliveryReport,
): Promise<void> {
  const at = deps.now();
  const packed: Array<PackedMessage & { index: number }> = dead.map(({ index, reason }) => {
    const m = messages[index] as Message;
    const info = { reason, attempts: m.raw.attempts, at };
    let body: string;
    if (m.decoded === undefined) {
      // A body that is not ours goes to the DLQ as it came; the archive keeps it raw.
      body = typeof m.raw.body === 'string' ? m.raw.body : undecodableLine(m.raw.body, at);
    } else if (m.gate === undefined) {
      body = encodeDeadLetter(m.decoded, info, m.token);
    } else {
      const keep = m.gate.keep;
      body = encodeDeadLetter(m.decoded, info, m.token, {
        lines: m.lines.filter((_l, i) => keep[i] === true),
        ids: m.ids.filter((_id, i) => keep[i] === true),
      });
    }
    return {
      index,
      body,
      bytes: utf8Length(body),
      events: m.decoded === undefined ? 1 : m.lines.length,
    };
  });
  const groups = groupForSendBatch(packed, undefined, QUEUE_SEND_BATCH_MAX_BYTES) as Array<
    Array<PackedMessage & { index: number }>
  >;
  await Promise.all(
    groups.map(async (group) => {
      try {
        await env.DLQ.sendBatch(group.map((p) => ({ body: p.body, contentType: 'text' as const })));
        for (const p of group) {
          report.deadLetteredEvents += p.events;
          messages[p.index]?.raw.ack();
        }
      } catch (e) {
        console.error('dead-letter send failed', e instanceof Error ? e.message : String(e));
        for (const p of group) {
          const m = messages[p.index];
          if (m === undefined) continue;
          report.deadLetterSendFailures += p.events;
          m.raw.retry({
            delaySeconds: retryDelaySeconds(
              m.raw.attempts,
              deps.random,
              retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS),
            ),
          });
        }
      }
    }),
  );
}

export interface ArchiveReport {
  archivedEvents: number;
  /** The first object written (the dead letters', when the batch had any). */
  key?: string;
  /** Every object written: one for the dead letters, one per source of blocked events. */
  keys: string[];
}

/**
 * Frees the dedupe keys of dead letters that Queues moved itself (no dead-letter header: the
 * consumer never saw their last attempt), whatever token reserved them, so their replay, which
 * cannot carry that token, is delivered rather than taken for a duplicate.
 */
async function releaseMovedLetters(
  batch: MessageBatch<unknown>,
  dedupe: DedupeSettings,
): Promise<void> {
  const byShard = new Map<number, number[]>();
  for (const message of batch.messages) {
    const decoded = decodeMessage(message.body);
    if (decoded === undefined || decoded.header.deadLetter !== undefined) continue;
    const lines = messageLines(decoded);
    const { keys } = planGate(
      [
        {
          index: 0,
          token: ANY_OWNER,
          source: decoded.header.source,
          ids: messageIds(decoded, lines),
        },
      ],
      dedupe.shards,
    );
    const all = keys[0] ?? new Uint32Array();
    for (const [shard, k] of keysByShard(
      all,
      lines.map((_l, i) => i),
      dedupe.shards,
    )) {
      byShard.set(shard, [...(byShard.get(shard) ?? []), ...k]);
    }
  }
  await Promise.all(
    [...byShard].map(([shard, words]) =>
      dedupe.io.call(shard, {
        commit: [],
        release: [{ token: ANY_OWNER, keys: Uint32Array.from(words) }],
        reserve: [],
      }),
    ),
  );
}

/**
 * A DLQ consumer: every message of the batch as NDJSON lines in R2 under `prefix` (dead-letters/
 * for the events DLQ; forward-dead-letters/ for forwarding's, without dedupe: its letters are
 * copies, whose keys belong to the events' own deliveries), dead letters in one object and
 * blocked events in one per source; each message is acked once its object is written.
 */
export async function archiveBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps,
  dedupe?: DedupeSettings,
  prefix = ARCHIVE_PREFIX,
): Promise<ArchiveReport> {
  const at = deps.now();
  const retryOne = (message: Message_): void => {
    message.retry({
      delaySeconds: retryDelaySeconds(
        message.attempts,
        deps.random,
        retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS),
      ),
    });
  };
  const retryAll = (): void => {
    for (const message of batch.messages) retryOne(message);
  };
  if (dedupe !== undefined) {
    try {
      await releaseMovedLetters(batch, dedupe);
    } catch (e) {
      // Archived unreleased, a replay could be taken for a duplicate: retry instead.
      console.error('dedupe release failed', e instanceof Error ? e.message : String(e));
      retryAll();
      return { archivedEvents: 0, keys: [] };
    }
  }
  // Dead letters go to one object; events a tracking plan blocked to one object per source under
  // blocked/<source>/, so an operator lists and replays a source's blocked events on their own.
  const objects = new Map<string, { text: string; events: number; messages: Array<Message_> }>();
  for (const message of batch.messages) {
    const decoded = decodeMessage(message.body);
    const blocked = isBlockedReason(decoded?.header.deadLetter?.reason);
    const group = blocked && decoded !== undefined ? decoded.header.source : '';
    let object = objects.get(group);
    if (object === undefined) {
      object = { text: '', events: 0, messages: [] };
      objects.set(group, object);
    }
    object.messages.push(message);
    if (decoded === undefined) {
      object.text += undecodableLine(message.body, at);
      object.events += 1;
    } else {
      object.text += archiveLines(decoded, at, message.attempts, message.id);
      object.events += decoded.header.events;
    }
  }
  const report: ArchiveReport = { archivedEvents: 0, keys: [] };
  const id = deps.newId();
  const failed: Array<Message_> = [];
  await Promise.all(
    [...objects].map(async ([source, object]) => {
      const key = source === '' ? archiveKey(at, id, prefix) : blockedArchiveKey(source, at, id);
      try {
        await env.ARCHIVE.put(key, object.text, {
          httpMetadata: { contentType: 'application/x-ndjson' },
          customMetadata: { events: String(object.events) },
        });
      } catch (e) {
        console.error('archive write failed', e instanceof Error ? e.message : String(e));
        failed.push(...object.messages);
        return;
      }
      report.archivedEvents += object.events;
      if (source === '') report.keys.unshift(key);
      else report.keys.push(key);
    }),
  );
  if (failed.length === 0) {
    batch.ackAll();
  } else {
    // Written objects are acked, the others retried: nothing is archived twice.
    for (const message of batch.messages) {
      if (failed.includes(message)) retryOne(message);
      else message.ack();
    }
  }
  const [first] = report.keys;
  if (first !== undefined) report.key = first;
  return report;
}
