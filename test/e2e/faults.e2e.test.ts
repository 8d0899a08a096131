// Nothing lost under every fault the local endpoint can inject at once — failed records,
// throttled calls, 500s, stalls longer than the call timeout — and with the endpoint itself
// stopped and restarted mid-run. Prints lost (must be 0) and duplicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postInBatches, postSingles, startTestStack, waitForAll, type TestStack } from './support';

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

  it('delivers all 20,000 events at least once across an endpoint restart', async () => {
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
    await stack.restartFirehose(3_000);
    await posting;

    const t = await waitForAll(stack, ids, 280_000);
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
    // The faults really happened.
    expect((outcomes['partial'] ?? 0) + (outcomes['all_failed'] ?? 0)).toBeGreaterThan(0);
    expect(outcomes['throttled']).toBeGreaterThan(0);
    expect(t.missing.slice(0, 10)).toEqual([]);
    expect(t.distinct).toBe(ids.length);
  }, 400_000);
});
