// Observability end to end: exact counters after real traffic through the Worker and its
// consumer, promtool on the real /metrics output, and /health turning red under a failing
// sink and green again after recovery.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  metricSum,
  postInBatches,
  postSingles,
  startTestStack,
  until,
  waitForAll,
  type TestStack,
} from './support';

describe('observability', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      stream: 'e2e-metrics',
      vars: { HEALTH_MAX_DELIVERY_DELAY_SECONDS: '3' },
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const metrics = async (): Promise<string> => (await fetch(`${stack.workerUrl}/metrics`)).text();

  it('shows exactly the N events received and delivered, and passes promtool', async () => {
    const ids = Array.from({ length: 600 }, (_v, i) => `obs-${i}`);
    const events = ids.map((messageId, i) => ({
      // Single calls go to /v1/track, so pages travel only in batches.
      type: i >= 200 && i % 3 === 0 ? 'page' : 'track',
      event: 'Viewed',
      name: 'Home',
      anonymousId: `a-${i}`,
      messageId,
    }));
    await Promise.all([
      postSingles(stack, events.slice(0, 200), 8),
      postInBatches(stack, events.slice(200), 50),
    ]);
    expect((await waitForAll(stack, ids, 60_000)).missing).toEqual([]);

    // The consumer's counters arrive within a flush interval of its last batch.
    const text = await until(
      'every delivery counted',
      async () => {
        const t = await metrics();
        return metricSum(t, 'ndc_segment_events_delivered_total') === ids.length ? t : undefined;
      },
      30_000,
    );
    console.log(
      `observability e2e: posted=${ids.length} received=${metricSum(text, 'ndc_segment_events_received_total')} delivered=${metricSum(text, 'ndc_segment_events_delivered_total')}`,
    );
    expect(metricSum(text, 'ndc_segment_events_received_total')).toBe(ids.length);
    const pages = events.filter((e) => e.type === 'page').length;
    expect(pages).toBeGreaterThan(100);
    expect(metricSum(text, 'ndc_segment_events_received_total', 'type="page"')).toBe(pages);
    expect(metricSum(text, 'ndc_segment_events_delivered_total', 'stream="e2e-metrics"')).toBe(
      ids.length,
    );
    expect(metricSum(text, 'delivery_success_total', 'stream="e2e-metrics"')).toBe(ids.length);
    expect(metricSum(text, 'ndc_segment_delivery_latency_seconds_count')).toBe(ids.length);
    expect(metricSum(text, 'ndc_segment_batch_events_count')).toBe(200 + 8);
    expect(metricSum(text, 'ndc_segment_requests_total', 'route="/v1/batch",status="200"')).toBe(8);
    expect(metricSum(text, 'ndc_segment_requests_total', 'route="/v1/track",status="200"')).toBe(
      200,
    );

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('turns /health red while the sink fails and green after it recovers', async () => {
    expect((await fetch(`${stack.workerUrl}/health`)).status).toBe(200);
    await fetch(`${stack.firehose.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ throttle: 1 }),
    });
    const ids = ['health-1', 'health-2'];
    await postSingles(
      stack,
      ids.map((messageId) => ({ type: 'track', event: 'x', userId: 'u', messageId })),
      2,
    );
    const red = await until(
      '/health to turn red',
      async () => {
        const res = await fetch(`${stack.workerUrl}/health`);
        const body = (await res.json()) as { status: string };
        return res.status === 503 ? body : undefined;
      },
      60_000,
    );
    expect(red.status).toBe('fail');

    await fetch(`${stack.firehose.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ throttle: 0 }),
    });
    await until(
      '/health to turn green',
      async () => ((await fetch(`${stack.workerUrl}/health`)).status === 200 ? true : undefined),
      60_000,
    );
    expect((await waitForAll(stack, ids, 30_000)).missing).toEqual([]);
    const text = await metrics();
    expect(metricSum(text, 'ndc_segment_firehose_calls_total', 'outcome="retry"')).toBeGreaterThan(
      0,
    );
    expect(metricSum(text, 'delivery_failure_total')).toBeGreaterThan(0);
  });
});
