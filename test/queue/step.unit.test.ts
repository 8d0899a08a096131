import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/queue/delivery';
import {
  afterFailedRequeue,
  defaultPolicy,
  nextStep,
  retentionSeconds,
  waitingChanges,
  type StepInput,
} from '../../src/queue/step';
import { DELIVERY_MAX_ATTEMPTS } from '../../src/queue/retry';

const NOW = Date.parse('2026-11-29T10:00:00.000Z');
const policy = defaultPolicy(300, 345_600);
const half = (): number => 0.5;

const retry = (cause: Extract<Decision, { kind: 'retry' }>['cause'], code = 'X'): Decision => ({
  kind: 'retry',
  code,
  cause,
});

function input(decision: Decision, over: Partial<StepInput> = {}): StepInput {
  return {
    decision,
    attempts: 1,
    priorAttempts: 0,
    sentAt: NOW - 1000,
    queuedAt: NOW - 1000,
    waiting: undefined,
    ...over,
  };
}

describe('nextStep', () => {
  it('acks a delivered message and dead-letters what Firehose refuses for good', () => {
    expect(nextStep(input({ kind: 'ack', stream: 's' }), policy, NOW, half)).toEqual({
      kind: 'ack',
    });
    expect(
      nextStep(input({ kind: 'dead', reason: 'ResourceNotFoundException' }), policy, NOW, half),
    ).toEqual({ kind: 'dead', reason: 'ResourceNotFoundException' });
  });

  it.each([
    ['auth', 'credentials'],
    ['not_configured', 'configuration'],
    ['dedupe_unavailable', 'dedupe'],
    ['forward_unavailable', 'queue'],
  ] as const)('requeues a message first held back by %s, marked %s', (cause, wait) => {
    expect(nextStep(input(retry(cause, 'C')), policy, NOW, half)).toEqual({
      kind: 'requeue',
      delaySeconds: 2,
      wait,
      code: 'C',
    });
  });

  it('retries a copy already waiting on the same failure, with backoff that goes on from its attempts', () => {
    const step = nextStep(
      input(retry('auth'), { waiting: 'credentials', priorAttempts: 9, attempts: 1 }),
      policy,
      NOW,
      half,
    );
    // Attempt 10 overall: 2 × 2^9 = 1,024 s, capped at 300: 150 + 0.5 × 150.
    expect(step).toEqual({ kind: 'retry', delaySeconds: 225 });
  });

  it('keeps every delay within DELIVERY_RETRY_MAX_SECONDS', () => {
    const short = defaultPolicy(1, 345_600);
    for (let prior = 0; prior < 60; prior++) {
      const step = nextStep(
        input(retry('auth'), { waiting: 'credentials', priorAttempts: prior }),
        short,
        NOW,
        () => 0.999,
      );
      expect(
        step.kind === 'retry' || step.kind === 'requeue' ? step.delaySeconds : 0,
      ).toBeLessThanOrEqual(1);
    }
  });

  it('retries a transient failure, and requeues it on its last attempts instead of dead-lettering', () => {
    expect(nextStep(input(retry('transient')), policy, NOW, half).kind).toBe('retry');
    expect(
      nextStep(
        input(retry('transient'), { attempts: DELIVERY_MAX_ATTEMPTS - 3 }),
        policy,
        NOW,
        half,
      ).kind,
    ).toBe('retry');
    for (let a = DELIVERY_MAX_ATTEMPTS - 2; a <= DELIVERY_MAX_ATTEMPTS; a++) {
      expect(nextStep(input(retry('transient'), { attempts: a }), policy, NOW, half)).toMatchObject(
        {
          kind: 'requeue',
          wait: 'firehose',
        },
      );
    }
    expect(
      nextStep(
        input(retry('auth'), { attempts: DELIVERY_MAX_ATTEMPTS, waiting: 'credentials' }),
        policy,
        NOW,
        half,
      ),
    ).toMatchObject({ kind: 'requeue', wait: 'credentials' });
  });

  it('requeues a message its retry would outlive the queue retention with', () => {
    const short = defaultPolicy(300, 600);
    // Sent 400 s ago: 400 + up to 2 s + 120 s margin passes 600 s only past 480 s.
    expect(
      nextStep(
        input(retry('transient'), { sentAt: NOW - 400_000, queuedAt: NOW - 400_000 }),
        short,
        NOW,
        half,
      ).kind,
    ).toBe('retry');
    expect(
      nextStep(
        input(retry('transient'), { sentAt: NOW - 500_000, queuedAt: NOW - 500_000 }),
        short,
        NOW,
        half,
      ).kind,
    ).toBe('requeue');
  });

  it('dead-letters, with the reason, what waited as long as the queue retention', () => {
    const step = nextStep(
      input(retry('auth', 'ExpiredTokenException'), {
        waiting: 'credentials',
        queuedAt: NOW - 345_600_000,
      }),
      policy,
      NOW,
      half,
    );
    expect(step).toEqual({ kind: 'dead', reason: 'waited_past_retention: ExpiredTokenException' });
  });
});

describe('afterFailedRequeue', () => {
  it('retries while Queues allows another attempt, then dead-letters with the reason', () => {
    const requeue = {
      kind: 'requeue',
      delaySeconds: 7,
      wait: 'dedupe',
      code: 'DedupeUnavailable',
    } as const;
    expect(afterFailedRequeue(requeue, 1, policy)).toEqual({ kind: 'retry', delaySeconds: 7 });
    expect(afterFailedRequeue(requeue, DELIVERY_MAX_ATTEMPTS, policy)).toEqual({
      kind: 'dead',
      reason: 'requeue_failed: DedupeUnavailable',
    });
  });
});

describe('waitingChanges', () => {
  const requeue = (wait: 'credentials' | 'dedupe') =>
    ({ kind: 'requeue', delaySeconds: 1, wait, code: 'C' }) as const;

  it('enters on a requeue under a new reason, leaving the old one', () => {
    expect(waitingChanges(undefined, retry('auth'), requeue('credentials'))).toEqual([
      { reason: 'credentials', kind: 'entered' },
    ]);
    expect(waitingChanges('credentials', retry('dedupe_unavailable'), requeue('dedupe'))).toEqual([
      { reason: 'credentials', kind: 'left' },
      { reason: 'dedupe', kind: 'entered' },
    ]);
  });

  it('leaves on ack or dead letter, and is seen while it keeps waiting', () => {
    expect(waitingChanges('credentials', { kind: 'ack', stream: '' }, { kind: 'ack' })).toEqual([
      { reason: 'credentials', kind: 'left' },
    ]);
    expect(waitingChanges('credentials', retry('auth'), requeue('credentials'))).toEqual([
      { reason: 'credentials', kind: 'seen' },
    ]);
    expect(
      waitingChanges('credentials', retry('transient'), { kind: 'retry', delaySeconds: 1 }),
    ).toEqual([{ reason: 'credentials', kind: 'seen' }]);
    expect(
      waitingChanges(undefined, retry('transient'), { kind: 'retry', delaySeconds: 1 }),
    ).toEqual([]);
  });
});

describe('retentionSeconds', () => {
  it('reads QUEUE_RETENTION_SECONDS within what Queues accepts, else 4 days', () => {
    expect(retentionSeconds(undefined)).toBe(345_600);
    expect(retentionSeconds('600')).toBe(600);
    expect(retentionSeconds('10')).toBe(345_600);
    expect(retentionSeconds('99999999')).toBe(1_209_600);
    expect(retentionSeconds('soon')).toBe(345_600);
  });
});
