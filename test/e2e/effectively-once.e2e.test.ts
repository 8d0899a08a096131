// Effectively once, end to end: 100,000 events posted in batches and single calls, 30% of them
// sent a second time with the same messageIds (what an SDK does when an answer is lost), while
// the local Firehose fails records, throttles, answers 500, accepts calls and answers them after
// the consumer's timeout, refuses the credentials for ~10 s, and is restarted. Nothing may be
// lost or dead-lettered, and an event may land twice only if an earlier copy sat in a call
// whose answer came too late (the endpoint lists those), the one duplicate no sender can avoid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  landed,
  metricSum,
  metricsText,
  postAccepted,
  tally,
  until,
  waitForAll,
  waitForQuiet,
  startTestStack,
  type TestStack,
} from './support';

const EVENTS = 100_000;
// 90% in batches of 100, 10% as single calls: as many requests as 20,000 events half and half,
// so the run stays within a few minutes on two cores.
const BATCHED = 90_000;
const BATCH = 100;
const RESEND_SHARE = 0.3;

/** Runs `jobs` with `concurrency` workers. */
async function pool(jobs: Array<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) await (jobs[next++] as () => Promise<void>)();
    }),
  );
}

describe('effectively-once delivery under every fault', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      stream: 'e2e-once',
      faults: {
        failRecords: 0.2,
        throttle: 0.1,
        error500: 0.05,
        lateAnswer: 0.05,
        lateAnswerMs: 8_000,
      },
      vars: { FIREHOSE_TIMEOUT_SECONDS: '5' },
      // On a loaded two-core machine an answer can come late with no fault at all: the endpoint
      // lists as late every call it answered 4 s or more after it was signed (the consumer
      // gives up at 5 s), as well as calls whose client left before the answer.
      firehoseSlowAnswerMs: 4_000,
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('loses nothing, dead-letters nothing, and duplicates only what a late answer hid', async () => {
    const ids = Array.from({ length: EVENTS }, (_v, i) => `once-${i}`);
    const event = (i: number): Record<string, unknown> => ({
      type: 'track',
      event: 'Checkout Step',
      anonymousId: `anon-${i % 997}`,
      messageId: ids[i],
      properties: { step: i % 7 },
    });
    // Batches and single calls; 30% of each sent twice, the copy after the first answer (a
    // client that timed out waiting for it).
    const jobs: Array<() => Promise<void>> = [];
    let resent = 0;
    for (let i = 0; i < BATCHED; i += BATCH) {
      const body = JSON.stringify({ batch: ids.slice(i, i + BATCH).map((_id, k) => event(i + k)) });
      const twice = (i / BATCH) % 10 < RESEND_SHARE * 10;
      if (twice) resent += BATCH;
      jobs.push(async () => {
        await postAccepted(stack, '/v1/batch', body);
        if (twice) await postAccepted(stack, '/v1/batch', body);
      });
    }
    for (let i = BATCHED; i < EVENTS; i++) {
      const body = JSON.stringify(event(i));
      const twice = i % 10 < RESEND_SHARE * 10;
      if (twice) resent += 1;
      jobs.push(async () => {
        await postAccepted(stack, '/v1/track', body);
        if (twice) await postAccepted(stack, '/v1/track', body);
      });
    }
    const posting = pool(jobs, 16);

    // Mid-run: the credentials are refused for 10 s (and /health says so), then the endpoint
    // goes away for 3 s and comes back on the same port.
    await new Promise((r) => setTimeout(r, 3_000));
    await fetch(`${stack.firehose.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ expiredToken: 1 }),
    });
    const credentials = await until(
      '/health to report refused credentials',
      async () => {
        const body = (await (await fetch(`${stack.workerUrl}/health`)).json()) as {
          checks: { credentials: { status: string } };
        };
        return body.checks.credentials.status === 'fail' ? body.checks.credentials : undefined;
      },
      15_000,
    );
    await new Promise((r) => setTimeout(r, 10_000));
    await fetch(`${stack.firehose.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ expiredToken: 0 }),
    });
    // The late list lives in the endpoint's memory: read the stopped one's after it closed
    // (calls cut short by the stop are listed too).
    const stopped = stack.firehose;
    await stack.restartFirehose(3_000);
    const before = stopped.stats();
    const lateBefore = stopped.late(stack.stream).messageIds;
    await posting;

    expect((await waitForAll(stack, ids, 300_000)).missing.slice(0, 10)).toEqual([]);
    // Counted only once nothing is left in flight: a late duplicate would still arrive.
    await waitForQuiet(stack, 8_000, 240_000);
    const after = stack.firehose.stats();
    const late = new Set([...lateBefore, ...stack.firehose.late(stack.stream).messageIds]);
    const t = tally(await landed(stack), ids);
    const counts = new Map<string, number>();
    for (const e of await landed(stack)) {
      const id = String(e['messageId']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    const unexplained = duplicated.filter((id) => !late.has(id));
    const text = await until(
      'the metrics to settle',
      async () => {
        const m = await metricsText(stack);
        return metricSum(m, 'ndc_segment_events_deduplicated_total') > 0 ? m : undefined;
      },
      30_000,
    );
    const outcome = (k: keyof typeof after.callsByOutcome): number =>
      (before.callsByOutcome[k] ?? 0) + (after.callsByOutcome[k] ?? 0);
    const figures = {
      sent: EVENTS,
      resentByClient: resent,
      landedDistinct: t.distinct,
      lost: t.missing.length,
      duplicated: t.duplicates,
      duplicatedInLateCalls: duplicated.length - unexplained.length,
      unexplainedDuplicates: unexplained.length,
      lateCallEvents: late.size,
      deduplicated: metricSum(text, 'ndc_segment_events_deduplicated_total'),
      ambiguous: metricSum(text, 'ndc_segment_events_ambiguous_total'),
      deadLettered: metricSum(text, 'ndc_segment_events_dead_lettered_total'),
      archived: metricSum(text, 'ndc_segment_events_archived_total'),
      requeued: metricSum(text, 'ndc_segment_events_requeued_total'),
      calls: before.calls + after.calls,
      partialOrFailedRecords: outcome('partial') + outcome('all_failed'),
      throttled: outcome('throttled'),
      error500: outcome('error_500'),
      late: outcome('late'),
      expiredToken: outcome('expired_token'),
    };
    console.log(`effectively-once e2e: ${JSON.stringify(figures)}`);

    // Every fault really hit a call.
    expect(figures.partialOrFailedRecords).toBeGreaterThan(0);
    expect(figures.throttled).toBeGreaterThan(0);
    expect(figures.error500).toBeGreaterThan(0);
    expect(figures.late).toBeGreaterThan(0);
    expect(figures.expiredToken).toBeGreaterThan(0);
    expect(credentials.status).toBe('fail');
    expect(after.calls).toBeGreaterThan(0);
    // The guarantees.
    expect(figures.lost).toBe(0);
    expect(figures.deadLettered).toBe(0);
    expect(figures.archived).toBe(0);
    expect(unexplained.slice(0, 10)).toEqual([]);
    // The client's resends were recognised: far fewer duplicates than resent events.
    expect(figures.deduplicated).toBeGreaterThan(resent * 0.9);
  }, 600_000);
});
