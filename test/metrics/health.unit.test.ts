import { describe, expect, it } from 'vitest';
import { emptyState, type MetricsState } from '../../src/metrics/state';
import { combineBacklogs, evaluateHealth, healthDelaySeconds } from '../../src/metrics/health';
import { recordOutcome } from '../../src/metrics/streak';

const NOW = 1_000_000_000;

/** Deliveries: one success at `success`, failures at each of `failures`, as recorded. */
function streak(success: number, failures: number[]): MetricsState {
  const s = state(success, Math.max(0, ...failures));
  s.streak = { success: 0, failures: [] };
  if (success > 0) recordOutcome(s.streak, success, true);
  for (const f of failures) recordOutcome(s.streak, f, false);
  return s;
}

function state(success: number, failure: number): MetricsState {
  const s = emptyState();
  if (success > 0) s.gauges['ndc_segment_last_delivery_success_timestamp_seconds'] = success;
  if (failure > 0) s.gauges['ndc_segment_last_delivery_failure_timestamp_seconds'] = failure;
  return s;
}

describe('evaluateHealth', () => {
  const cases: Array<
    [
      string,
      MetricsState,
      { messages: number; oldestMessageAt?: number } | undefined,
      'pass' | 'fail',
    ]
  > = [
    ['a fresh deploy', emptyState(), { messages: 0 }, 'pass'],
    [
      'recent success, no failure',
      state(NOW - 10, 0),
      { messages: 3, oldestMessageAt: (NOW - 5) * 1000 },
      'pass',
    ],
    [
      'a failure after a recent success (a blip)',
      state(NOW - 20, NOW - 10),
      { messages: 0 },
      'pass',
    ],
    [
      'one failure after a quiet night (long after the last success)',
      streak(NOW - 40_000, [NOW - 5]),
      { messages: 0 },
      'pass',
    ],
    [
      'failing for longer than the limit since the first failure after the last success',
      streak(NOW - 400, [NOW - 380, NOW - 200, NOW - 5]),
      { messages: 0 },
      'fail',
    ],
    [
      'failing for less than the limit after a long quiet',
      streak(NOW - 40_000, [NOW - 100, NOW - 5]),
      { messages: 0 },
      'pass',
    ],
    [
      'failing and never delivered, for longer than the limit',
      streak(0, [NOW - 320, NOW - 5]),
      { messages: 0 },
      'fail',
    ],
    ['recovered: success after the failures', state(NOW - 1, NOW - 30), { messages: 0 }, 'pass'],
    [
      'an event waiting longer than the limit',
      state(NOW - 1, 0),
      { messages: 2, oldestMessageAt: (NOW - 301) * 1000 },
      'fail',
    ],
    ['no backlog information', state(NOW - 1, 0), undefined, 'pass'],
  ];
  it.each(cases)('%s → %s', (_n, s, backlog, status) => {
    const health = evaluateHealth(s, backlog, NOW * 1000, 300);
    expect(health.status).toBe(status);
    if (status === 'fail') {
      const outputs = [health.checks.delivery.output, health.checks.backlog.output].filter(Boolean);
      expect(outputs.length).toBeGreaterThan(0);
    }
  });

  it('says since when delivery fails and when it last succeeded', () => {
    const health = evaluateHealth(
      streak(NOW - 400, [NOW - 380, NOW - 5]),
      undefined,
      NOW * 1000,
      300,
    );
    expect(health.checks.delivery.failingSince).toBe(new Date((NOW - 380) * 1000).toISOString());
    expect(health.checks.delivery.output).toContain('375 s');
    expect(health.checks.delivery.output).toContain(new Date((NOW - 400) * 1000).toISOString());
  });

  it('turns the credentials check red at once when Firehose refused them after the last success', () => {
    const s = state(NOW - 10, NOW - 5);
    s.gauges['ndc_segment_last_delivery_auth_failure_timestamp_seconds'] = NOW - 5;
    const health = evaluateHealth(s, { messages: 0 }, NOW * 1000, 300);
    expect(health.status).toBe('fail');
    expect(health.checks.credentials.status).toBe('fail');
    expect(health.checks.credentials.output).toContain('IAM');
    s.gauges['ndc_segment_last_delivery_success_timestamp_seconds'] = NOW - 1;
    expect(evaluateHealth(s, { messages: 0 }, NOW * 1000, 300).checks.credentials.status).toBe(
      'pass',
    );
  });

  it('reports the times and the backlog it judged', () => {
    const health = evaluateHealth(
      state(NOW - 1, 0),
      { messages: 4, oldestMessageAt: (NOW - 7) * 1000 },
      NOW * 1000,
    );
    expect(health.checks.delivery.lastSuccess).toBe(new Date((NOW - 1) * 1000).toISOString());
    expect(health.checks.backlog).toEqual({ status: 'pass', messages: 4, oldestAgeSeconds: 7 });
  });
});

describe('evaluateHealth with forwarding', () => {
  /** A state whose forwarding last succeeded at `success` and failed at each of `failures`. */
  function forwarding(success: number, failures: number[]): MetricsState {
    const s = state(NOW - 1, 0);
    s.forwardStreak = { success: 0, failures: [] };
    if (success > 0) {
      s.gauges['ndc_segment_last_forward_success_timestamp_seconds'] = success;
      recordOutcome(s.forwardStreak, success, true);
    }
    if (failures.length > 0)
      s.gauges['ndc_segment_last_forward_failure_timestamp_seconds'] = Math.max(...failures);
    for (const f of failures) recordOutcome(s.forwardStreak, f, false);
    return s;
  }

  it('has no forwarding check unless forwarding is configured', () => {
    const health = evaluateHealth(forwarding(0, [NOW - 400, NOW - 5]), { messages: 0 }, NOW * 1000);
    expect(health.checks.forwarding).toBeUndefined();
    expect(health.status).toBe('pass');
  });

  it.each<
    [
      string,
      MetricsState,
      { messages: number; oldestMessageAt?: number } | undefined,
      'pass' | 'fail',
    ]
  >([
    ['forwarding that never failed', forwarding(NOW - 10, []), { messages: 0 }, 'pass'],
    [
      'a failure after a success, shorter than the limit',
      forwarding(NOW - 100, [NOW - 90, NOW - 5]),
      { messages: 2, oldestMessageAt: (NOW - 95) * 1000 },
      'pass',
    ],
    [
      'failing longer than the limit since the first failure after the last success',
      forwarding(NOW - 400, [NOW - 380, NOW - 5]),
      undefined,
      'fail',
    ],
    [
      'a copy waiting longer than the limit (no consumer ever ran)',
      forwarding(0, []),
      { messages: 3, oldestMessageAt: (NOW - 301) * 1000 },
      'fail',
    ],
    [
      'recovered: a success after the failures',
      forwarding(NOW - 1, [NOW - 390, NOW - 30]),
      { messages: 0 },
      'pass',
    ],
  ])('%s → %s, and fails the whole /health with it', (_n, s, backlog, status) => {
    const health = evaluateHealth(s, { messages: 0 }, NOW * 1000, 300, {
      ...(backlog === undefined ? {} : { backlog }),
    });
    expect(health.checks.forwarding?.status).toBe(status);
    expect(health.status).toBe(status);
    expect(health.checks.delivery.status).toBe('pass');
    if (status === 'fail') expect(health.checks.forwarding?.output).toBeTruthy();
  });

  it('turns red at once, with the reason, for a configuration that cannot work', () => {
    const health = evaluateHealth(forwarding(NOW - 1, []), { messages: 0 }, NOW * 1000, 300, {
      problem: 'FORWARD_ENDPOINT must be an http(s) URL',
    });
    expect(health.checks.forwarding).toMatchObject({
      status: 'fail',
      output: 'FORWARD_ENDPOINT must be an http(s) URL',
    });
  });

  it('reports since when forwarding fails, and the forward queue it judged', () => {
    const health = evaluateHealth(
      forwarding(NOW - 400, [NOW - 380, NOW - 5]),
      undefined,
      NOW * 1000,
      300,
      {
        backlog: { messages: 9, oldestMessageAt: (NOW - 12) * 1000 },
      },
    );
    expect(health.checks.forwarding).toMatchObject({
      failingSince: new Date((NOW - 380) * 1000).toISOString(),
      lastSuccess: new Date((NOW - 400) * 1000).toISOString(),
      messages: 9,
      oldestAgeSeconds: 12,
    });
    expect(health.checks.forwarding?.output).toContain('forwarding has failed for 375 s');
  });
});

describe('combineBacklogs', () => {
  it('sums the messages of every events queue and keeps the oldest message', () => {
    expect(
      combineBacklogs([
        { messages: 2, oldestMessageAt: 5_000 },
        undefined,
        { messages: 3, oldestMessageAt: 4_000 },
        { messages: 0, oldestMessageAt: 1 },
      ]),
    ).toEqual({ messages: 5, oldestMessageAt: 4_000 });
    expect(combineBacklogs([undefined])).toBeUndefined();
  });
});

describe('healthDelaySeconds', () => {
  it('reads the var or falls back to 300', () => {
    expect(healthDelaySeconds('5')).toBe(5);
    expect(healthDelaySeconds('0')).toBe(0);
    expect(healthDelaySeconds(undefined)).toBe(300);
    expect(healthDelaySeconds('x')).toBe(300);
  });
});
