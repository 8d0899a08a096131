import { describe, expect, it } from 'vitest';
import {
  STREAK_RETAIN_SECONDS,
  emptyStreak,
  failingSince,
  mergeStreak,
  recordOutcome,
} from '../../src/metrics/streak';

describe('failure streak', () => {
  it('starts at the first failure after the last success, not at the success', () => {
    const s = emptyStreak();
    recordOutcome(s, 1_000, true);
    recordOutcome(s, 90_000, false);
    recordOutcome(s, 90_100, false);
    expect(failingSince(mergeStreak(emptyStreak(), s))).toBe(90_000);
  });

  it("is reset by another isolate's later success, and restarts at the failures after it", () => {
    const a = emptyStreak();
    recordOutcome(a, 100, false);
    recordOutcome(a, 500, false);
    const b = emptyStreak();
    recordOutcome(b, 300, true);
    const merged = mergeStreak(mergeStreak(emptyStreak(), a), b);
    expect(failingSince(merged)).toBe(500);
  });

  it('is empty when the last event was a success', () => {
    const s = emptyStreak();
    recordOutcome(s, 100, false);
    recordOutcome(s, 200, true);
    expect(failingSince(mergeStreak(emptyStreak(), s))).toBeUndefined();
  });

  it('forgets failures older than the retention, keeping the streak bounded', () => {
    const s = emptyStreak();
    for (let t = 0; t < 3 * STREAK_RETAIN_SECONDS; t += 10) recordOutcome(s, t, false);
    const merged = mergeStreak(emptyStreak(), s);
    expect(merged.failures.length).toBeLessThanOrEqual(STREAK_RETAIN_SECONDS / 10 + 1);
  });

  it('ignores a malformed streak from a delta', () => {
    expect(mergeStreak(emptyStreak(), { success: 'x', failures: [1] })).toEqual(emptyStreak());
  });
});
