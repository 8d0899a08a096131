import { describe, expect, it } from 'vitest';
import { emptyState, type MetricsState } from '../../src/metrics/state';
import { evaluateHealth, healthDelaySeconds } from '../../src/metrics/health';

const NOW = 1_000_000_000;

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
      'failing for longer than the limit since the last success',
      state(NOW - 400, NOW - 5),
      { messages: 0 },
      'fail',
    ],
    ['failing and never delivered', state(0, NOW - 5), { messages: 0 }, 'fail'],
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

describe('healthDelaySeconds', () => {
  it('reads the var or falls back to 300', () => {
    expect(healthDelaySeconds('5')).toBe(5);
    expect(healthDelaySeconds('0')).toBe(0);
    expect(healthDelaySeconds(undefined)).toBe(300);
    expect(healthDelaySeconds('x')).toBe(300);
  });
});
