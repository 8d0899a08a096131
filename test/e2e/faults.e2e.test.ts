// Nothing lost and nothing duplicated under every fault the local endpoint can inject at once —
// failed records, throttled calls, 500s, stalls longer than the call timeout — and with the
// endpoint itself stopped and restarted mid-run. Each fault is checked to have hit a call, and
// duplicates are counted only once the queues have drained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  landed,
  postInBatches,
  postSingles,
  startTestStack,
  tally,
  waitForAll,
  waitForQuiet,
  type TestStack,
} from './support';

describe('delivery under every fault at once', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      stream: 'e2e-chaos',
      faults: {
        failRecords: 0.2,
        throttle: 0.1,
        error500: 0.05,
        stall: 0.03,
        stallMs: 4_000,
      },
      vars: { FIREHOSE_TIMEOUT_SECONDS: '2' },
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('delivers all 20,000 events exactly once across an endpoint restart', async () => {
    const ids = Array.from({ length: 20_000 }, (_v, i) => `chaos-${i}`);
    const events = ids.map((messageId, i) => ({
      type: 'track',
      event: 'Product Viewed',
      anonymousId: `anon-${i % 1_009}`,
      messageId,
      properties: { sku: `sku-${i % 97}`, price: i % 50 },
    }));
    const posting = Promise.all([
      postSingles(stack, events.slice(0, 10_000), 16),
      postInBatches(stack, events.slice(10_000), 100),
    ]);
    // Mid-run, the endpoint goes away for 3 s and comes back on the same port.
    await new Promise((r) => setTimeout(r, 4_000));
    const beforeRestart = stack.firehose.stats();
    const logsBefore = stack.logs.length;
    await stack.restartFirehose(3_000);
    const logsDuringRestart = stack.logs.slice(logsBefore);
    await posting;

    expect((await waitForAll(stack, ids, 280_000)).missing.slice(0, 10)).toEqual([]);
    // Stalled calls are answered (with a 500) after the consumer gave up on them: wait until
    // nothing is in flight before counting duplicates.
    await waitForQuiet(stack, 8_000, 120_000);
    const t = tally(await landed(stack), ids);
    const after = stack.firehose.stats();
    const outcomes = Object.fromEntries(
      Object.entries(after.callsByOutcome).map(([k, v]) => [
        k,
        v + (beforeRestart.callsByOutcome[k as keyof typeof after.callsByOutcome] ?? 0),
      ]),
    );
    console.log(
      `faults e2e: sent=${ids.length} delivered=${t.distinct} lost=${t.missing.length} duplicated=${t.duplicates} ` +
        `calls=${after.calls + beforeRestart.calls} ${JSON.stringify(outcomes)}`,
    );
    // Every fault really hit a call: failed records, throttling, 500s, stalls, and calls made
    // while the endpoint was down (the consumer logs each batch's failed calls by code).
    expect((outcomes['partial'] ?? 0) + (outcomes['all_failed'] ?? 0)).toBeGreaterThan(0);
    expect(outcomes['throttled']).toBeGreaterThan(0);
    expect(outcomes['error_500']).toBeGreaterThan(0);
    expect(outcomes['stalled']).toBeGreaterThan(0);
    expect(logsDuringRestart.some((l) => l.includes('NetworkError'))).toBe(true);
    expect(t.missing.slice(0, 10)).toEqual([]);
    expect(t.distinct).toBe(ids.length);
    // No call here lands records and then loses its answer, so nothing may land twice.
    expect(t.duplicates).toBe(0);
  }, 400_000);
});
