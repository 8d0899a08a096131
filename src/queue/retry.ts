// Retry policy of the delivery consumer: exponential backoff with jitter, and when to stop.
// Pure: the random source is a parameter.

// Ours: the first retry waits about 2 s; each further one doubles.
export const RETRY_BASE_SECONDS = 2;

// Ours: "backoff capped at a few minutes" so a recovered stream drains within 5 minutes.
export const RETRY_MAX_SECONDS = 300;

// Queues, Message.retry({ delaySeconds }): "the maximum delay is 12 hours" (an older page says
// 24): a longer delay is refused, so every delay is clamped to this.
export const QUEUES_MAX_DELAY_SECONDS = 43_200;

// wrangler.toml `max_retries = 20` for ndc-segment-events: a message is delivered at most
// 1 + 20 times. On the last attempt the consumer dead-letters it itself, with the reason,
// instead of letting Queues drop it into the DLQ without one. A test keeps the two in step.
export const QUEUE_MAX_RETRIES = 20;
export const DELIVERY_MAX_ATTEMPTS = QUEUE_MAX_RETRIES + 1;

// wrangler.toml `max_retries = 100` for ndc-segment-forward (the most Queues allows): the
// forward consumer dead-letters on attempt 101, after ~8 hours of backoff at 300 s, so an outage
// of the destination is outlasted without an operator's replay. A test keeps the two in step.
export const FORWARD_QUEUE_MAX_RETRIES = 100;

/**
 * Delay before the next attempt after `attempts` failed ones (Message.attempts starts at 1):
 * "equal jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): half the
 * exponential delay fixed, half random, so retries of one failed call spread out.
 */
export function retryDelaySeconds(
  attempts: number,
  random: () => number,
  maxSeconds = RETRY_MAX_SECONDS,
): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 30));
  const cap = Math.min(maxSeconds, QUEUES_MAX_DELAY_SECONDS);
  const ceiling = Math.min(cap, RETRY_BASE_SECONDS * 2 ** exponent);
  return Math.max(1, Math.ceil(ceiling / 2 + random() * (ceiling / 2)));
}

/**
 * DELIVERY_RETRY_MAX_SECONDS (a var), when it is a number of at least 1, at most the 12 hours
 * Queues accepts; else RETRY_MAX_SECONDS.
 */
export function retryCapSeconds(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n >= 1
    ? Math.min(n, QUEUES_MAX_DELAY_SECONDS)
    : RETRY_MAX_SECONDS;
}

/** Whether a message that failed on attempt `attempts` may still be retried. */
export function mayRetry(attempts: number, maxRetries = QUEUE_MAX_RETRIES): boolean {
  return attempts < maxRetries + 1;
}
