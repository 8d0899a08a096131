// How long delivery has been failing: the first failure after the last success, across every
// isolate and shard. Pure.
//
// A running minimum cannot answer "the first failure after the latest success" once another
// isolate's success moves "latest" forward, so failures are kept as the 10-second buckets they
// happened in, for the last hour: a handful of numbers per shard, merged by union. /health reads
// the first bucket at or after the last success (issue #12: after a quiet night the first failed
// call is 0 s of failure, not the hours since the last success).

// Ours: /health's resolution for "failing since"; the default threshold is 300 s.
export const STREAK_BUCKET_SECONDS = 10;

// Ours: failures older than this are forgotten; HEALTH_MAX_DELIVERY_DELAY_SECONDS is capped to
// it, so a streak longer than the threshold always keeps a bucket older than the threshold.
export const STREAK_RETAIN_SECONDS = 3600;

export interface DeliveryStreak {
  /** Unix seconds of the last delivery that landed events; 0 when none. */
  success: number;
  /** Start (Unix seconds) of each 10-second bucket with a failed delivery, ascending. */
  failures: number[];
}

export function emptyStreak(): DeliveryStreak {
  return { success: 0, failures: [] };
}

export const bucketOf = (seconds: number): number =>
  Math.floor(seconds / STREAK_BUCKET_SECONDS) * STREAK_BUCKET_SECONDS;

/** Adds one delivery outcome at `seconds` (Unix) to a streak, in place. */
export function recordOutcome(streak: DeliveryStreak, seconds: number, ok: boolean): void {
  if (ok) {
    streak.success = Math.max(streak.success, seconds);
    return;
  }
  const bucket = bucketOf(seconds);
  if (!streak.failures.includes(bucket)) {
    streak.failures.push(bucket);
    streak.failures.sort((a, b) => a - b);
  }
}

function isStreak(value: unknown): value is DeliveryStreak {
  if (typeof value !== 'object' || value === null) return false;
  const { success, failures } = value as Record<string, unknown>;
  return (
    typeof success === 'number' &&
    Number.isFinite(success) &&
    Array.isArray(failures) &&
    failures.every((f) => typeof f === 'number' && Number.isFinite(f))
  );
}

/**
 * `into` with `from` added (a delta or another shard's streak, read as untrusted): the later
 * success, the union of failure buckets, less buckets wholly before that success or older than
 * STREAK_RETAIN_SECONDS before the newest bucket.
 */
export function mergeStreak(into: DeliveryStreak, from: unknown): DeliveryStreak {
  if (!isStreak(from)) return into;
  const success = Math.max(into.success, from.success);
  const all = new Set([...into.failures, ...from.failures.map(bucketOf)]);
  const newest = Math.max(0, ...all);
  const failures = [...all]
    .filter((b) => b + STREAK_BUCKET_SECONDS > success && b >= newest - STREAK_RETAIN_SECONDS)
    .sort((a, b) => a - b);
  into.success = success;
  into.failures = failures;
  return into;
}

/** Unix seconds of the first failure after the last success, or undefined when none. */
export function failingSince(streak: DeliveryStreak): number | undefined {
  const first = streak.failures[0];
  return first === undefined ? undefined : Math.max(first, streak.success);
}
