// Forwarding end to end: the Worker under wrangler dev with its real local queues, the local
// Firehose endpoint and a local Segment-compatible endpoint (which checks the Basic write key
// and Segment's limits) as FORWARD_ENDPOINT. Every event lands in both, each once; and with
// the forward endpoint down for 20 s, Firehose delivery keeps its pace while the forward
// endpoint gets everything once it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forwarded,
  landed,
  metricSum,
  metricsText,
  postInBatches,
  postSingles,
  startTestStack,
  tally,
  until,
  waitForQuiet,
  waitForSegmentQuiet,
  type TestStack,
} from './support';

// track.json's key is source ndc-demo in the test stack; its events go to this destination key.
const DEST_KEY = 'dest-e2e-key';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

describe('forwarding to a Segment-compatible endpoint', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      stream: 'e2e-forwarding',
      forwardWriteKeys: `ndc-demo=${DEST_KEY}`,
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('lands 5,000 events in Firehose and at the forward endpoint, each once', async () => {
    const ids = Array.from({ length: 5_000 }, (_v, i) => `fwd-${i}`);
    const events = ids.map((messageId, i) => ({
      type: 'track',
      event: 'Forwarded',
      anonymousId: `anon-${i % 307}`,
      messageId,
      properties: { n: i },
    }));
    const started = Date.now();
    await Promise.all([
      postSingles(stack, events.slice(0, 2_000), 16),
      postInBatches(stack, events.slice(2_000), 50),
    ]);
    const posted = Date.now();
    const inFirehose = await until(
      'every event in Firehose',
      async () => (tally(await landed(stack), ids).missing.length === 0 ? Date.now() : undefined),
      120_000,
    );
    const atEndpoint = await until(
      'every event at the forward endpoint',
      async () =>
        tally(await forwarded(stack, DEST_KEY), ids).missing.length === 0 ? Date.now() : undefined,
      120_000,
    );
    await Promise.all([
      waitForQuiet(stack, 6_000, 60_000),
      waitForSegmentQuiet(stack, 8_000, 60_000),
    ]);
    const firehose = tally(await landed(stack), ids);
    const forward = tally(await forwarded(stack, DEST_KEY), ids);
    const stats = stack.segment?.stats().keys[DEST_KEY];
    const text = await until(
      'forwarded events counted',
      async () => {
        const m = await metricsText(stack);
        return metricSum(m, 'ndc_segment_events_forwarded_total', 'outcome="ok"') >= ids.length
          ? m
          : undefined;
      },
      30_000,
    );
    console.log(
      `forwarding e2e: sent=${ids.length} in ${posted - started} ms; ` +
        `firehose landed=${firehose.distinct} duplicated=${firehose.duplicates} ` +
        `(all in ${inFirehose - started} ms); forward landed=${forward.distinct} ` +
        `duplicated=${forward.duplicates} (all in ${atEndpoint - started} ms); ` +
        `forward calls=${stats?.calls} max body=${stats?.maxBodyBytes} B ` +
        `max events/call=${stats?.maxEventsPerCall}`,
    );
    expect(firehose.missing).toEqual([]);
    expect(forward.missing).toEqual([]);
    expect(firehose.duplicates).toBe(0);
    expect(forward.duplicates).toBe(0);
    expect(stats?.maxBodyBytes).toBeLessThanOrEqual(500_000);
    expect(metricSum(text, 'ndc_segment_events_forwarded_total', 'outcome="ok"')).toBe(ids.length);
    // As delivered, less our own fields.
    const [sample] = await forwarded(stack, DEST_KEY);
    expect(sample).toMatchObject({
      type: 'track',
      event: 'Forwarded',
      context: expect.any(Object),
    });
    expect(sample).not.toHaveProperty('source');
    expect(sample).not.toHaveProperty('receivedAt');
  });

  it('keeps Firehose at its pace with the forward endpoint down for 20 s, then forwards everything', async () => {
    const BATCHES = 70;
    const SIZE = 40;
    const EVERY_MS = 500;
    const ids = Array.from({ length: BATCHES * SIZE }, (_v, i) => `down-${i}`);
    const postedAt = new Map<number, number>();
    const seenAt = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = Date.now();
        for (const e of await landed(stack)) {
          const id = String(e['messageId']);
          if (id.startsWith('down-') && !seenAt.has(id)) seenAt.set(id, now);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const poster = (async () => {
      for (let b = 0; b < BATCHES; b++) {
        const next = Date.now() + EVERY_MS;
        postedAt.set(b, Date.now());
        await postInBatches(
          stack,
          ids.slice(b * SIZE, (b + 1) * SIZE).map((messageId) => ({
            type: 'track',
            event: 'While Down',
            userId: 'u',
            messageId,
          })),
          SIZE,
        );
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
    })();
    // The endpoint goes away (connections refused) 5 s in, for 20 s.
    await new Promise((r) => setTimeout(r, 5_000));
    const downAt = Date.now();
    await stack.restartSegment(20_000);
    const upAt = Date.now();
    // What was posted before the endpoint came back: the backlog it must catch up on.
    const backlog = ids.slice(0, postedAt.size * SIZE);
    const backlogForwarded = until(
      'the backlog at the forward endpoint',
      async () =>
        tally(await forwarded(stack, DEST_KEY), backlog).missing.length === 0
          ? Date.now()
          : undefined,
      120_000,
    );
    await poster;
    await until(
      'every event in Firehose',
      () => (ids.every((id) => seenAt.has(id)) ? true : undefined),
      120_000,
    );
    sampling = false;
    await sampler;
    const allForwardedAt = await until(
      'every event at the forward endpoint after it came back',
      async () =>
        tally(await forwarded(stack, DEST_KEY), ids).missing.length === 0 ? Date.now() : undefined,
      120_000,
    );
    const backlogAt = await backlogForwarded;
    await waitForSegmentQuiet(stack, 8_000, 60_000);
    const forward = tally(await forwarded(stack, DEST_KEY), ids);
    const firehose = tally(await landed(stack), ids);

    // Firehose latency of each batch: first seen (250 ms polling) less the time it was posted.
    const latency = (b: number): number =>
      Math.max(...ids.slice(b * SIZE, (b + 1) * SIZE).map((id) => seenAt.get(id) ?? Infinity)) -
      (postedAt.get(b) ?? 0);
    const batches = [...postedAt.keys()];
    const whileDown = batches.filter((b) => {
      const at = postedAt.get(b) ?? 0;
      return at >= downAt && at < upAt;
    });
    const whileUp = batches.filter((b) => !whileDown.includes(b));
    const down = whileDown.map(latency);
    const up = whileUp.map(latency);
    const landedWhileDown = [...seenAt.values()].filter((t) => t >= downAt && t < upAt).length;
    console.log(
      `forwarding down e2e: ${ids.length} events in ${BATCHES} batches every ${EVERY_MS} ms; ` +
        `endpoint down ${upAt - downAt} ms; Firehose latency per batch while down ` +
        `median ${median(down)} ms max ${Math.max(...down)} ms (${down.length} batches), ` +
        `while up median ${median(up)} ms max ${Math.max(...up)} ms; ` +
        `Firehose landed ${landedWhileDown} events while down (${Math.round((landedWhileDown * 1000) / (upAt - downAt))}/s); ` +
        `forward endpoint had the ${backlog.length} events posted before it came back ` +
        `${backlogAt - upAt} ms after, and all ${forward.distinct} ${allForwardedAt - upAt} ms after ` +
        `(posting ended ${postedAt.size > 0 ? Math.max(...postedAt.values()) - upAt : 0} ms after), ` +
        `duplicated=${forward.duplicates}; firehose duplicated=${firehose.duplicates}`,
    );
    expect(down.length).toBeGreaterThanOrEqual(30);
    expect(firehose.missing).toEqual([]);
    expect(firehose.duplicates).toBe(0);
    expect(forward.missing).toEqual([]);
    // Usual pace: batches posted while the endpoint was down land as fast as the others.
    expect(median(down)).toBeLessThanOrEqual(median(up) + 2_000);
    expect(Math.max(...down)).toBeLessThanOrEqual(Math.max(...up) + 5_000);
  });
});
