// What becomes of one events message after its delivery attempt: acked, retried with backoff,
// requeued as a fresh copy, or dead-lettered; and what that does to the count of events held
// back. Pure: the clock and the random source are parameters.
//
// Failures fall in three kinds:
// - permanent (Firehose refuses for good: unknown stream, KMS, invalid argument, a record it
//   will never take): dead-lettered at once, with the reason;
// - transient (throttling, 5xx, failed records, timeouts, a copy held back by another
//   delivery): retried with exponential backoff;
// - waiting, on what an operator or the platform must fix (credentials refused or missing,
//   FIREHOSE_STREAM unset, a dedupe shard that errs or does not answer, the forward queue
//   refusing a copy, R2 refusing the blocked events): retried with the same backoff, never
//   dead-lettered.
// Backoff is capped at DELIVERY_RETRY_MAX_SECONDS, so delivery resumes on its own within it
// once the fault is fixed. A message first held back by a waiting failure is requeued at once
// as a fresh copy marked with the reason (that is what ndc_segment_delivery_waiting_events
// counts), and any message, waiting or transient, is requeued before its attempts run out
// (max_retries) or before the queue's retention could expire it: the copy carries its token
// (the dedupe ledger takes it for the same delivery), when its events were first queued and the
// attempts made so far (so backoff goes on where it was). Only past the retention, counted from
// when the events were first queued, is a retryable failure dead-lettered
// (`waited_past_retention: <code>`), to the archive and its replay: never dropped.

import type { WaitingChange, WaitReason } from '../metrics/waiting';
import type { Decision } from './delivery';
import { DELIVERY_MAX_ATTEMPTS, QUEUES_MAX_DELAY_SECONDS, retryDelaySeconds } from './retry';

// Queues, "Configure queues": a message is kept 4 days (345,600 s) unless the queue's retention
// is changed (60 s to 14 days: `wrangler queues update NAME --message-retention-period-secs N`).
export const QUEUE_RETENTION_DEFAULT_SECONDS = 345_600;
export const QUEUE_RETENTION_MIN_SECONDS = 60;
export const QUEUE_RETENTION_MAX_SECONDS = 1_209_600;

// Ours: a message is requeued on its last this-many attempts (from attempt 19 of 21), so a
// requeue that fails has two more attempts to succeed before Queues would give up on it.
export const REQUEUE_LAST_ATTEMPTS = 3;

// Ours: a retried message must be redelivered this long before its retention ends (a batch's
// wait and a consumer's run), else it is requeued instead, fresh.
export const RETENTION_MARGIN_SECONDS = 120;

export interface DeliveryPolicy {
  /** Attempts Queues makes (max_retries + 1). */
  maxAttempts: number;
  /** DELIVERY_RETRY_MAX_SECONDS. */
  retryCapSeconds: number;
  /** QUEUE_RETENTION_SECONDS: the events queues' message retention. */
  retentionSeconds: number;
}

/** QUEUE_RETENTION_SECONDS when it is a number within what Queues accepts, else the default. */
export function retentionSeconds(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined &&
    value.trim() !== '' &&
    Number.isFinite(n) &&
    n >= QUEUE_RETENTION_MIN_SECONDS
    ? Math.min(n, QUEUE_RETENTION_MAX_SECONDS)
    : QUEUE_RETENTION_DEFAULT_SECONDS;
}

export const defaultPolicy = (retryCap: number, retention: number): DeliveryPolicy => ({
  maxAttempts: DELIVERY_MAX_ATTEMPTS,
  retryCapSeconds: Math.min(retryCap, QUEUES_MAX_DELAY_SECONDS),
  retentionSeconds: retention,
});

/** The failure a retried decision waits on, if it is one an operator or the platform must fix. */
export function waitReasonOf(decision: Decision): WaitReason | undefined {
  if (decision.kind !== 'retry') return undefined;
  switch (decision.cause) {
    case 'auth':
      return 'credentials';
    case 'not_configured':
      return 'configuration';
    case 'dedupe_unavailable':
      return 'dedupe';
    case 'forward_unavailable':
      return 'queue';
    case 'archive_unavailable':
      return 'archive';
    case 'transient':
    case 'ambiguous':
    case 'held':
      return undefined;
  }
}

export type Step =
  | { kind: 'ack' }
  | { kind: 'retry'; delaySeconds: number }
  | { kind: 'requeue'; delaySeconds: number; wait: WaitReason; code: string }
  | { kind: 'dead'; reason: string };

/** One message's state for the decision. */
export interface StepInput {
  decision: Decision;
  /** Message.attempts: 1 on the first delivery of this queue message. */
  attempts: number;
  /** Attempts made before this queue message (a requeued copy's header). */
  priorAttempts: number;
  /** When this queue message was sent, ms. */
  sentAt: number;
  /** When its events were first queued, ms. */
  queuedAt: number;
  /** The failure it already waits on (a requeued copy's header). */
  waiting: WaitReason | undefined;
}

export function nextStep(
  input: StepInput,
  policy: DeliveryPolicy,
  now: number,
  random: () => number,
): Step {
  const { decision } = input;
  if (decision.kind === 'ack') return { kind: 'ack' };
  if (decision.kind === 'dead') return { kind: 'dead', reason: decision.reason };
  const { code } = decision;
  if (now - input.queuedAt >= policy.retentionSeconds * 1000)
    return { kind: 'dead', reason: `waited_past_retention: ${code}` };
  const delaySeconds = retryDelaySeconds(
    input.priorAttempts + input.attempts,
    random,
    policy.retryCapSeconds,
  );
  const reason = waitReasonOf(decision);
  if (reason !== undefined && reason !== input.waiting)
    return { kind: 'requeue', delaySeconds, wait: reason, code };
  const lastAttempts = input.attempts > policy.maxAttempts - REQUEUE_LAST_ATTEMPTS;
  const expiring =
    (now - input.sentAt) / 1000 + delaySeconds + RETENTION_MARGIN_SECONDS > policy.retentionSeconds;
  if (lastAttempts || expiring)
    return { kind: 'requeue', delaySeconds, wait: input.waiting ?? reason ?? 'firehose', code };
  return { kind: 'retry', delaySeconds };
}

/** What to do instead of a requeue whose send failed: retry while Queues allows, else dead. */
export function afterFailedRequeue(
  step: Extract<Step, { kind: 'requeue' }>,
  attempts: number,
  policy: DeliveryPolicy,
): Step {
  return attempts < policy.maxAttempts
    ? { kind: 'retry', delaySeconds: step.delaySeconds }
    : { kind: 'dead', reason: `requeue_failed: ${step.code}` };
}

/**
 * How a message's step changes the events held back: a requeue under a new reason enters it
 * (and leaves the old one); acking or dead-lettering a waiting message leaves it; anything else
 * about a waiting message, or a message held back by a waiting failure, is a sighting.
 */
export function waitingChanges(
  waiting: WaitReason | undefined,
  decision: Decision,
  step: Step,
): Array<Pick<WaitingChange, 'reason' | 'kind'>> {
  if (step.kind === 'ack' || step.kind === 'dead')
    return waiting === undefined ? [] : [{ reason: waiting, kind: 'left' }];
  if (step.kind === 'requeue' && step.wait !== waiting) {
    const entered = { reason: step.wait, kind: 'entered' as const };
    return waiting === undefined ? [entered] : [{ reason: waiting, kind: 'left' }, entered];
  }
  const reason = waiting ?? waitReasonOf(decision);
  return reason === undefined ? [] : [{ reason, kind: 'seen' }];
}
