// Credentials refused for longer than the whole retry budget, end to end: with
// DELIVERY_RETRY_MAX_SECONDS=1 a message's 21 attempts span about 25 s, and the local Firehose
// refuses every call with ExpiredTokenException for 60 s. The events wait (requeued as fresh
// copies, never dead-lettered), /health is red and says why, the waiting gauges show them, and
// once the credentials are accepted again everything lands within seconds, on its own: nothing
// dead-lettered, nothing lost, nothing duplicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  landed,
  metricSum,
  metricsText,
  postInBatches,
  postSingles,
  startTestStack,
  tally,
  until,
  waitForAll,
  waitForQuiet,
  type TestStack,
} from './support';

const REFUSED_MS = 60_000;

interface HealthBody {
  status: string;
  checks: { waiting: { status: string; events: number; output?: string } };
}

describe('credentials refused for longer than the retry budget', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      stream: 'e2e-outage',
      faults: { expiredToken: 1 },
      vars: { DELIVERY_RETRY_MAX_SECONDS: '1' },
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('holds every event back, dead-letters nothing, and delivers each once after the fix', async () => {
    const refusedFrom = Date.now();
    const ids = Array.from({ length: 3_000 }, (_v, i) => `outage-${i}`);
    const events = ids.map((messageId, i) => ({
      type: 'track',
      event: 'Signed Up',
      anonymousId: `anon-${i % 101}`,
      messageId,
    }));
    await Promise.all([
      postSingles(stack, events.slice(0, 500), 8),
      postInBatches(stack, events.slice(500), 50),
    ]);

    // While refused: /health red with the reason, the gauges up, nothing landed.
    const health = await until(
      '/health to report events held back',
      async () => {
        const body = (await (await fetch(`${stack.workerUrl}/health`)).json()) as HealthBody;
        return body.checks.waiting.status === 'fail' ? body : undefined;
      },
      30_000,
    );
    expect(health.status).toBe('fail');
    expect(health.checks.waiting.output).toContain('credentials');
    const during = await until(
      'the waiting gauge to count every event',
      async () => {
        const m = await metricsText(stack);
        const waiting = metricSum(m, 'ndc_segment_delivery_waiting_events', 'reason="credentials"');
        return waiting >= ids.length ? m : undefined;
      },
      30_000,
    );
    expect(metricSum(during, 'ndc_segment_delivery_blocked_seconds')).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, Math.max(0, REFUSED_MS - (Date.now() - refusedFrom))));
    const refusedCalls = stack.firehose.stats().callsByOutcome.expired_token ?? 0;
    expect(tally(await landed(stack), ids).distinct).toBe(0);

    // The fix: delivery resumes on its own.
    await fetch(`${stack.firehose.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ expiredToken: 0 }),
    });
    const fixedAt = Date.now();
    expect((await waitForAll(stack, ids, 120_000)).missing.slice(0, 10)).toEqual([]);
    const resumedWithinMs = Date.now() - fixedAt;
    await waitForQuiet(stack, 6_000, 120_000);
    const t = tally(await landed(stack), ids);
    const text = await until(
      'the waiting gauge to empty',
      async () => {
        const m = await metricsText(stack);
        return metricSum(m, 'ndc_segment_delivery_waiting_events') === 0 ? m : undefined;
      },
      30_000,
    );
    const after = (await (await fetch(`${stack.workerUrl}/health`)).json()) as HealthBody;
    const figures = {
      sent: ids.length,
      refusedForSeconds: Math.round((fixedAt - refusedFrom) / 1000),
      refusedCalls,
      landedDistinct: t.distinct,
      lost: t.missing.length,
      duplicated: t.duplicates,
      deadLettered: metricSum(text, 'ndc_segment_events_dead_lettered_total'),
      archived: metricSum(text, 'ndc_segment_events_archived_total'),
      requeued: metricSum(text, 'ndc_segment_events_requeued_total', 'reason="credentials"'),
      retried: metricSum(text, 'ndc_segment_events_retried_total'),
      resumedWithinMs,
    };
    console.log(`outage e2e: ${JSON.stringify(figures)}`);
    expect(figures.refusedCalls).toBeGreaterThan(0);
    // Each message outlived its 21 attempts: requeued before they ran out, more than once.
    expect(figures.requeued).toBeGreaterThan(ids.length);
    expect(figures.lost).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.deadLettered).toBe(0);
    expect(figures.archived).toBe(0);
    expect(after.checks.waiting.status).toBe('pass');
  }, 400_000);
});
