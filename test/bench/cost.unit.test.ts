// The cost model's dedupe calls per consumer batch: with one-event requests routed to the queue
// of their dedupe shard, a batch calls only that queue's shards.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ASSUMPTIONS,
  outageAttempts,
  shardsTouchedByQueue,
  statusFigures,
  statusRing,
} from '../../bench/cost';
import { STATUS_MAX_SOURCES } from '../../src/metrics/minutes';

/** Distinct shards a batch touches, averaged over `trials` simulated batches. */
function simulate(keys: number, routed: number, shards: number, queues: number): number {
  const own = shards / queues;
  // A fixed LCG, so the figure is the same every run.
  let state = 12345;
  const random = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const trials = 4000;
  let total = 0;
  for (let t = 0; t < trials; t++) {
    const touched = new Set<number>();
    for (let k = 0; k < keys; k++) {
      // The batch is queue 0's: a routed key is one of its own shards (s mod queues = 0).
      if (k < keys * routed) touched.add(Math.floor(random() * own) * queues);
      else touched.add(Math.floor(random() * shards));
    }
    total += touched.size;
  }
  return total / trials;
}

describe('shardsTouchedByQueue', () => {
  it('is the uniform expectation with one queue, whatever is routed', () => {
    const uniform = 12 * (1 - (1 - 1 / 12) ** 100);
    expect(shardsTouchedByQueue(100, 0, 12, 1)).toBeCloseTo(uniform, 9);
    expect(shardsTouchedByQueue(100, 1, 12, 1)).toBeCloseTo(uniform, 9);
  });

  it("calls only the queue's own shards when every key was routed", () => {
    // Browser traffic at 100,000 events/s: 120 shards over 20 queues, 100 keys a batch.
    expect(shardsTouchedByQueue(100, 1, 120, 20)).toBeCloseTo(6, 3);
    expect(shardsTouchedByQueue(100, 0, 120, 20)).toBeGreaterThan(50);
  });

  it('matches a simulation of batches with routed and random keys', () => {
    for (const [keys, routed, shards, queues] of [
      [100, 1, 120, 20],
      [100, 0.5, 120, 20],
      [100, 0, 120, 20],
      [30, 0.7, 12, 2],
    ] as const) {
      const model = shardsTouchedByQueue(keys, routed, shards, queues);
      expect(Math.abs(model - simulate(keys, routed, shards, queues))).toBeLessThan(model * 0.02);
    }
  });
});

describe('statusFigures', () => {
  it("keeps the status page's ring inside the snapshot's row at the model's 10 sources", () => {
    const f = statusFigures(DEFAULT_ASSUMPTIONS);
    // 60 minutes of 10 sources, every field at six digits: tens of kilobytes.
    expect(f.ringChars).toBeGreaterThan(20_000);
    expect(f.ringChars).toBeLessThan(80_000);
    expect(f.extraRowsPerHourPerShard).toBe(0);
    // 16 shards read per refresh of one page every 10 s.
    expect(f.readRequestsPerSecond).toBeCloseTo(1.6);
  });

  it('counts a row more per persist once the ring pushes the snapshot past a part', () => {
    const f = statusFigures({ ...DEFAULT_ASSUMPTIONS, metricsStateChars: 495_000 });
    // One part more, written at every persist (8 s at the 10 s flush): 450 an hour.
    expect(f.extraRowsPerHourPerShard).toBe(450);
  });

  it('grows the ring with sources up to STATUS_MAX_SOURCES, and no further', () => {
    const chars = (n: number): number => JSON.stringify(statusRing(n)).length;
    expect(chars(20)).toBeGreaterThan(chars(10) * 1.9);
    expect(chars(STATUS_MAX_SOURCES + 20)).toBe(chars(STATUS_MAX_SOURCES));
  });
});

describe('outageAttempts', () => {
  it('counts the backoff doubling to the cap, then one attempt per cap on average', () => {
    // 1.5 + 3 + 6 + … + 192 s (382.5 s in 8 delays), then 225 s each (3/4 of 300): 23 attempts
    // within the hour and the one after it that lands.
    expect(outageAttempts({ seconds: 3600, retryCapSeconds: 300 })).toBe(24);
    // A 1 s cap: a delay of at least 1 s each, so 60 attempts in a minute and the one after.
    expect(outageAttempts({ seconds: 60, retryCapSeconds: 1 })).toBe(61);
  });
});
