import wranglerToml from '../../wrangler.toml?raw';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_QUEUE_MAX_RETRIES } from '../../src/archive/limits';
import {
  DELIVERY_MAX_ATTEMPTS,
  FORWARD_QUEUE_MAX_RETRIES,
  QUEUES_MAX_DELAY_SECONDS,
  QUEUE_MAX_RETRIES,
  RETRY_MAX_SECONDS,
  mayRetry,
  retryCapSeconds,
  retryDelaySeconds,
} from '../../src/queue/retry';

describe('retryDelaySeconds', () => {
  it('doubles per attempt between half and all of the exponential delay', () => {
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, () => 0))).toEqual([1, 2, 4, 8]);
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, () => 1))).toEqual([2, 4, 8, 16]);
  });

  it('caps at a few minutes however many attempts', () => {
    expect(retryDelaySeconds(50, () => 1)).toBe(RETRY_MAX_SECONDS);
    expect(retryDelaySeconds(50, () => 0)).toBe(RETRY_MAX_SECONDS / 2);
  });
});

describe('mayRetry', () => {
  it('allows retries until the last attempt Queues would make', () => {
    expect(mayRetry(1)).toBe(true);
    expect(mayRetry(DELIVERY_MAX_ATTEMPTS - 1)).toBe(true);
    expect(mayRetry(DELIVERY_MAX_ATTEMPTS)).toBe(false);
  });

  it('allows the forward queue its own, longer, retries', () => {
    expect(mayRetry(FORWARD_QUEUE_MAX_RETRIES, FORWARD_QUEUE_MAX_RETRIES)).toBe(true);
    expect(mayRetry(FORWARD_QUEUE_MAX_RETRIES + 1, FORWARD_QUEUE_MAX_RETRIES)).toBe(false);
  });

  it.each(['ndc-segment-dlq', 'ndc-segment-forward-dlq'])(
    'matches max_retries of the %s consumer (the archive) in wrangler.toml',
    (queue) => {
      const consumer = new RegExp(
        `queue = "${queue}"\\s*\\n(?:[a-z_]+ = .*\\n)*?max_retries = (\\d+)`,
      ).exec(wranglerToml);
      expect(consumer?.[1]).toBe(String(ARCHIVE_QUEUE_MAX_RETRIES));
    },
  );

  it('matches max_retries of the ndc-segment-events consumer in wrangler.toml', () => {
    const consumer =
      /queue = "ndc-segment-events"\s*\n(?:[a-z_]+ = .*\n)*?max_retries = (\d+)/.exec(wranglerToml);
    expect(consumer?.[1]).toBe(String(QUEUE_MAX_RETRIES));
  });
});

describe('retryCapSeconds', () => {
  it('reads DELIVERY_RETRY_MAX_SECONDS, falling back to the default for unset or bad values', () => {
    expect(retryCapSeconds('2')).toBe(2);
    expect(retryCapSeconds(undefined)).toBe(RETRY_MAX_SECONDS);
    expect(retryCapSeconds('')).toBe(RETRY_MAX_SECONDS);
    expect(retryCapSeconds('0')).toBe(RETRY_MAX_SECONDS);
    expect(retryCapSeconds('abc')).toBe(RETRY_MAX_SECONDS);
  });

  it('never asks Queues for more than 12 hours, whatever the var says', () => {
    expect(retryCapSeconds('86400')).toBe(QUEUES_MAX_DELAY_SECONDS);
    expect(retryDelaySeconds(40, () => 1, 1e9)).toBe(QUEUES_MAX_DELAY_SECONDS);
  });

  it('bounds every delay by the cap', () => {
    expect([1, 2, 5, 20].map((a) => retryDelaySeconds(a, () => 1, 2))).toEqual([2, 2, 2, 2]);
  });
});
