// The forward queue's consumer: each batch's copies posted to FORWARD_ENDPOINT (one call into
// src/forward/), and each message acked, retried or dead-lettered by the answer its call got:
// 429 after its Retry-After; 5xx, timeouts and network errors with backoff; any other answer
// dead-lettered with the reason to the forward DLQ (archived under forward-dead-letters/). An
// event the destination would refuse whatever happens (over its 32 KB, not a JSON object) is
// never sent and never acked unsent: once the rest of its message is delivered it is
// dead-lettered on its own, with that reason. Missing configuration (forwarding off or invalid, a source without a write key) is an
// operator's to fix: retried, dead-lettered only on the last attempt. Adapter.

import type { Env } from '../env';
import {
  refusalReason,
  type ForwardDecision,
  type ForwardInput,
  type ForwardPlan,
  type RefusedLine,
} from '../forward/batch';
import { forwardMessages } from '../forward/send';
import { forwardConfig } from '../forward/settings';
import type { ForwardOutcomeLabel, ForwardReport } from '../metrics/record';
import { utf8Length } from '../segment/utf8';
import type { ConsumerDeps } from './consumer';
import { encodeDeadLetter, undecodableLine } from '../archive/format';
import { QUEUE_SEND_BATCH_MAX_BYTES } from './limits';
import { decodeMessage, messageIds, messageLines, type DecodedMessage } from './message';
import { groupForSendBatch, type PackedMessage } from './pack';
import { FORWARD_QUEUE_MAX_RETRIES, mayRetry, retryCapSeconds, retryDelaySeconds } from './retry';

interface Copy {
  raw: Message<unknown>;
  decoded: DecodedMessage | undefined;
  lines: string[];
  /** Lines no call carries (too large, not an object): dead-lettered, never sent. */
  refused: RefusedLine[];
}

/** Tallies events by source and outcome into a report. */
function counter(report: ForwardReport): (s: string, o: ForwardOutcomeLabel, n: number) => void {
  const at = new Map<string, ForwardReport['events'][number]>();
  return (source, outcome, events) => {
    if (events <= 0) return;
    const key = `${outcome}\n${source}`;
    let entry = at.get(key);
    if (entry === undefined) {
      entry = { source, outcome, events: 0 };
      at.set(key, entry);
      report.events.push(entry);
    }
    entry.events += events;
  };
}

/** The decision for each message, and what the calls did, into the report. */
async function decide(
  copies: readonly Copy[],
  env: Env,
  deps: ConsumerDeps,
  report: ForwardReport,
): Promise<Map<number, ForwardDecision>> {
  const decisions = new Map<number, ForwardDecision>();
  const inputs: ForwardInput[] = [];
  copies.forEach((c, index) => {
    if (c.decoded === undefined)
      decisions.set(index, { kind: 'dead', reason: 'undecodable_message' });
    else inputs.push({ index, source: c.decoded.header.source, lines: c.lines });
  });
  const config = forwardConfig(env);
  if (config.kind !== 'on') {
    for (const i of inputs)
      decisions.set(i.index, { kind: 'retry', code: 'NotConfigured', cause: 'not_configured' });
    return decisions;
  }
  if (inputs.length === 0) return decisions;
  const result = await forwardMessages(inputs, config.settings, deps.now);
  for (const [index, decision] of result.decisions) decisions.set(index, decision);
  markRefused(copies, result.plan.refused);
  for (const { outcome } of result.sent) {
    if (outcome.kind === 'ok') report.okCalls += 1;
    else report.failedCalls.push(outcome.kind === 'retry' ? outcome.code : codeOf(outcome.reason));
  }
  return decisions;
}

function markRefused(copies: readonly Copy[], refused: ForwardPlan['refused']): void {
  for (const [index, lines] of refused) {
    const copy = copies[index];
    if (copy !== undefined) copy.refused = lines;
  }
}

/** `http_400` of `http_400: <answer>`. */
const codeOf = (reason: string): string => reason.split(':', 1)[0] ?? reason;

export async function forwardBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps,
): Promise<ForwardReport> {
  const copies: Copy[] = batch.messages.map((raw) => {
    const decoded = decodeMessage(raw.body);
    return { raw, decoded, lines: decoded ? messageLines(decoded) : [], refused: [] };
  });
  const report: ForwardReport = { events: [], okCalls: 0, failedCalls: [], notConfigured: 0 };
  const count = counter(report);
  const decisions = await decide(copies, env, deps, report);
  const dead: Letter[] = [];
  const backoff = (attempts: number): number =>
    retryDelaySeconds(attempts, deps.random, retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS));
  copies.forEach((copy, index) => {
    const decision: ForwardDecision = decisions.get(index) ?? {
      kind: 'retry',
      code: 'Undecided',
      cause: 'ambiguous',
    };
    const source = copy.decoded?.header.source ?? '';
    const sent = copy.decoded === undefined ? 1 : copy.lines.length - copy.refused.length;
    if (decision.kind === 'retry' && decision.cause === 'not_configured') report.notConfigured += 1;
    if (decision.kind === 'ack' && copy.refused.length === 0) {
      copy.raw.ack();
      count(source, 'ok', sent);
    } else if (decision.kind === 'ack') {
      // Delivered but for the lines the destination would refuse: those go to the archive.
      count(source, 'ok', sent);
      const lines = new Set(copy.refused.map((r) => r.line));
      dead.push({ copy, reason: refusalReason(copy.refused), lines });
    } else if (
      decision.kind === 'retry' &&
      mayRetry(copy.raw.attempts, FORWARD_QUEUE_MAX_RETRIES)
    ) {
      // A Retry-After is the destination's own word on when to come back: honoured as given.
      copy.raw.retry({ delaySeconds: decision.delaySeconds ?? backoff(copy.raw.attempts) });
      count(source, 'retried', copy.decoded === undefined ? 1 : copy.lines.length);
    } else {
      dead.push({
        copy,
        reason: decision.kind === 'dead' ? decision.reason : `retries_exhausted: ${decision.code}`,
      });
    }
  });
  if (dead.length > 0) await deadLetter(env, dead, deps, backoff, count);
  return report;
}

/** A dead letter to send for a copy: all its lines, or (`lines`) only those. */
interface Letter {
  copy: Copy;
  reason: string;
  lines?: ReadonlySet<number>;
}

/** A letter's body and the events it holds. */
function encodeLetter(letter: Letter, at: number): { body: string; events: number } {
  const { raw, decoded } = letter.copy;
  if (decoded === undefined) {
    return {
      body: typeof raw.body === 'string' ? raw.body : undecodableLine(raw.body, at),
      events: 1,
    };
  }
  const lines = letter.copy.lines;
  const ids = messageIds(decoded, lines);
  const keep = (_v: string, i: number): boolean => letter.lines?.has(i) ?? true;
  const kept = { lines: lines.filter(keep), ids: ids.filter(keep) };
  const info = { reason: letter.reason, attempts: raw.attempts, at };
  return { body: encodeDeadLetter(decoded, info, raw.id, kept), events: kept.lines.length };
}

/**
 * Sends the given letters to the forward DLQ in sendBatch calls and acks their messages once
 * they went; a message whose own call failed is retried instead (never acked before it is
 * somewhere durable), all of it: the destination drops a repeat by messageId.
 */
async function deadLetter(
  env: Env,
  letters: readonly Letter[],
  deps: ConsumerDeps,
  backoff: (attempts: number) => number,
  count: ReturnType<typeof counter>,
): Promise<void> {
  const at = deps.now();
  const packed = letters.map((letter): PackedMessage & { copy: Copy } => {
    const { body, events } = encodeLetter(letter, at);
    return { copy: letter.copy, body, bytes: utf8Length(body), events };
  });
  const groups = groupForSendBatch(packed, undefined, QUEUE_SEND_BATCH_MAX_BYTES) as Array<
    Array<PackedMessage & { copy: Copy }>
  >;
  await Promise.all(
    groups.map(async (group) => {
      try {
        await env.FORWARD_DLQ.sendBatch(
          group.map((p) => ({ body: p.body, contentType: 'text' as const })),
        );
        for (const { copy, events } of group) {
          copy.raw.ack();
          count(copy.decoded?.header.source ?? '', 'dead_lettered', events);
        }
      } catch (e) {
        console.error(
          'forward dead-letter send failed',
          e instanceof Error ? e.message : String(e),
        );
        for (const { copy, events } of group) {
          copy.raw.retry({ delaySeconds: backoff(copy.raw.attempts) });
          count(copy.decoded?.header.source ?? '', 'retried', events);
        }
      }
    }),
  );
}
