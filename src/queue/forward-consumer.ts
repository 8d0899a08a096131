// The forward queue's consumer: each batch's copies posted to FORWARD_ENDPOINT (one call into
// src/forward/), and each message acked, retried or dead-lettered by the answer its call got:
// 429 after its Retry-After; 5xx, timeouts and network errors with backoff; any other answer
// dead-lettered with the reason to the forward DLQ (archived under forward-dead-letters/).
// Missing configuration (forwarding off or invalid, a source without a write key) is an
// operator's to fix: retried, dead-lettered only on the last attempt. Adapter.

import type { Env } from '../env';
import type { ForwardDecision, ForwardInput, ForwardPlan } from '../forward/batch';
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
  /** Lines the plan left out (too large, not an object): never sent, never retried. */
  skipped: Set<number>;
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
  markSkipped(copies, result.plan.skipped);
  for (const { outcome } of result.sent) {
    if (outcome.kind === 'ok') report.okCalls += 1;
    else report.failedCalls.push(outcome.kind === 'retry' ? outcome.code : codeOf(outcome.reason));
  }
  return decisions;
}

function markSkipped(copies: readonly Copy[], skipped: ForwardPlan['skipped']): void {
  for (const [index, lines] of skipped) {
    const copy = copies[index];
    if (copy !== undefined) for (const { line } of lines) copy.skipped.add(line);
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
    return { raw, decoded, lines: decoded ? messageLines(decoded) : [], skipped: new Set() };
  });
  const report: ForwardReport = { events: [], okCalls: 0, failedCalls: [], notConfigured: 0 };
  const count = counter(report);
  const decisions = await decide(copies, env, deps, report);
  const dead: Array<{ copy: Copy; reason: string }> = [];
  const backoff = (attempts: number): number =>
    retryDelaySeconds(attempts, deps.random, retryCapSeconds(env.DELIVERY_RETRY_MAX_SECONDS));
  copies.forEach((copy, index) => {
    const decision: ForwardDecision = decisions.get(index) ?? {
      kind: 'retry',
      code: 'Undecided',
      cause: 'ambiguous',
    };
    const source = copy.decoded?.header.source ?? '';
    const events = copy.decoded === undefined ? 1 : copy.lines.length - copy.skipped.size;
    if (decision.kind === 'retry' && decision.cause === 'not_configured') report.notConfigured += 1;
    if (decision.kind === 'ack') {
      copy.raw.ack();
      count(source, 'ok', events);
      count(source, 'skipped', copy.skipped.size);
    } else if (
      decision.kind === 'retry' &&
      mayRetry(copy.raw.attempts, FORWARD_QUEUE_MAX_RETRIES)
    ) {
      // A Retry-After is the destination's own word on when to come back: honoured as given.
      copy.raw.retry({ delaySeconds: decision.delaySeconds ?? backoff(copy.raw.attempts) });
      count(source, 'retried', events);
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

/**
 * Sends the given messages to the forward DLQ in sendBatch calls and acks those that went; a
 * message whose own call failed is retried instead (never acked before it is somewhere
 * durable). A letter keeps the events that were to be sent, not the skipped ones.
 */
async function deadLetter(
  env: Env,
  dead: ReadonlyArray<{ copy: Copy; reason: string }>,
  deps: ConsumerDeps,
  backoff: (attempts: number) => number,
  count: ReturnType<typeof counter>,
): Promise<void> {
  const at = deps.now();
  const packed = dead.map(({ copy, reason }): PackedMessage & { copy: Copy } => {
    const { raw, decoded } = copy;
    let body: string;
    if (decoded === undefined) {
      body = typeof raw.body === 'string' ? raw.body : undecodableLine(raw.body, at);
    } else {
      const ids = messageIds(decoded, copy.lines);
      const keep = (_v: string, i: number): boolean => !copy.skipped.has(i);
      body = encodeDeadLetter(decoded, { reason, attempts: raw.attempts, at }, raw.id, {
        lines: copy.lines.filter(keep),
        ids: ids.filter(keep),
      });
    }
    const events = decoded === undefined ? 1 : copy.lines.length - copy.skipped.size;
    return { copy, body, bytes: utf8Length(body), events };
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
          const source = copy.decoded?.header.source ?? '';
          count(source, 'dead_lettered', events);
          count(source, 'skipped', copy.skipped.size);
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
