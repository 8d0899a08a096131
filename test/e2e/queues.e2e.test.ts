// Past one queue's 5,000 messages/s: the Worker with two events queues
// (test/fixtures/wrangler.two-queues.toml: wrangler.toml with its EVENTS_1 blocks uncommented),
// under wrangler dev's real local queues. Every event lands once and both queues carry traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  metricSum,
  metricsText,
  postInBatches,
  postSingles,
  startTestStack,
  until,
  waitForAll,
  waitForQuiet,
  tally,
  landed,
  type TestStack,
} from './support';

describe('two events queues', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      stream: 'e2e-queues',
      configPath: 'test/fixtures/wrangler.two-queues.toml',
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('lands 5,000 events once, spread over EVENTS and EVENTS_1', async () => {
    const ids = Array.from({ length: 5_000 }, (_v, i) => `two-queues-${i}`);
    const events = ids.map((messageId, i) => ({
      type: 'track',
      event: 'Spread',
      anonymousId: `anon-${i % 211}`,
      messageId,
    }));
    await Promise.all([
      postSingles(stack, events.slice(0, 2_000), 16),
      postInBatches(stack, events.slice(2_000), 50),
    ]);
    expect((await waitForAll(stack, ids, 120_000)).missing).toEqual([]);
    await waitForQuiet(stack, 6_000, 60_000);
    const t = tally(await landed(stack), ids);
    const text = await until(
      'both queues counted',
      async () => {
        const m = await metricsText(stack);
        return metricSum(m, 'ndc_segment_events_delivered_total') >= ids.length ? m : undefined;
      },
      30_000,
    );
    const first = metricSum(text, 'ndc_segment_queue_messages_sent_total', 'queue="EVENTS"');
    const second = metricSum(text, 'ndc_segment_queue_messages_sent_total', 'queue="EVENTS_1"');
    console.log(
      `queues e2e: sent=${ids.length} landed=${t.distinct} duplicated=${t.duplicates} ` +
        `messages EVENTS=${first} EVENTS_1=${second}`,
    );
    expect(t.duplicates).toBe(0);
    // 2,000 single calls and 60 batches, one message each, split between the two queues.
    expect(first + second).toBe(2_060);
    expect(first).toBeGreaterThan(2_060 * 0.4);
    expect(second).toBeGreaterThan(2_060 * 0.4);
  });
});
