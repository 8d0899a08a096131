// Delivery end to end: the Worker under wrangler dev, its real local queues, and the local
// Firehose endpoint failing 30% of records and throttling 10% of calls. Every event posted
// must land at least once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  landed,
  postInBatches,
  postSingles,
  SEED_KEY,
  startTestStack,
  waitForAll,
  type TestStack,
} from './support';

describe('delivery under injected faults', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      faults: { failRecords: 0.3, throttle: 0.1 },
      stream: 'e2e-faults',
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('lands a curl-style track.json call as one NDJSON line', async () => {
    const res = await fetch(`${stack.workerUrl}/v1/track`, {
      method: 'POST',
      headers: { Authorization: basic(SEED_KEY) },
      body: JSON.stringify({ type: 'track', event: 'NDC', anonymousId: 'a', messageId: 'curl-1' }),
    });
    expect(await res.json()).toEqual({ success: true });
    const t = await waitForAll(stack, ['curl-1'], 60_000);
    expect(t.missing).toEqual([]);
  });

  it('delivers all 10,000 events at least once despite 30% failed records and 10% throttled calls', async () => {
    const ids = Array.from({ length: 10_000 }, (_v, i) => `fault-${i}`);
    const events = ids.map((messageId, i) => ({
      type: 'track',
      event: 'Order Completed',
      userId: `user-${i % 997}`,
      messageId,
      properties: { orderId: i, revenue: (i % 100) + 0.99, currency: 'AUD' },
      context: { library: { name: 'e2e', version: '1' } },
    }));
    // Half as single calls (many small consumer batches, so many Firehose calls to fail),
    // half as batches of 100.
    await Promise.all([
      postSingles(stack, events.slice(0, 5_000), 16),
      postInBatches(stack, events.slice(5_000), 100),
    ]);
    const t = await waitForAll(stack, ids, 240_000);
    const stats = stack.firehose.stats();
    console.log(
      `delivery e2e: sent=${ids.length} delivered=${t.distinct} lost=${t.missing.length} ` +
        `duplicated=${t.duplicates} calls=${stats.calls} throttled=${stats.callsByOutcome.throttled} ` +
        `recordsFailed=${stats.recordsFailed} recordsAccepted=${stats.recordsAccepted}`,
    );
    expect(t.missing).toEqual([]);
    expect(t.distinct).toBe(10_000);
    // The faults really happened.
    expect(stats.recordsFailed).toBeGreaterThan(0);
    expect(stats.callsByOutcome.throttled).toBeGreaterThan(0);
    // Our retries never duplicate: only a record Firehose itself accepted twice could.
    expect(t.duplicates).toBe(0);
    const sample = (await landed(stack)).find((e) => e['messageId'] === 'fault-1');
    expect(sample).toMatchObject({ source: 'ndc-demo', type: 'track', event: 'Order Completed' });
  });
});
