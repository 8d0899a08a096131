// Outages an operator or the platform must fix, outlasting the retry budget: the consumer runs
// round after round as Queues would run it (test/support/queue-driver.ts), with a short budget
// (6 attempts, DELIVERY_RETRY_MAX_SECONDS=2), against the real local Firehose and real dedupe
// shards. Credentials refused, or a dedupe shard that throws or hangs, for 3× the budget, then
// fixed: every event lands once, nothing reaches the dead-letter queue (so nothing is archived),
// and Queues never has to move a message there itself. Then the stale-release race, replayed.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { Outbox, flushOutbox, type DedupeSettings } from '../../src/dedupe/client';
import type { Env } from '../../src/env';
import { deliverBatch, type ConsumerDeps } from '../../src/queue/consumer';
import { packMessages } from '../../src/queue/pack';
import { captureErrors } from '../support/console';
import { landedEvents, setStreamFaults, uniqueStream } from '../support/firehose';
import { QueueDriver } from '../support/queue-driver';
import { recordingQueue } from '../support/worker';

const START = Date.parse('2026-11-29T10:00:00.000Z');
const BUDGET = 6;
const CAP_SECONDS = 2;

function message(source: string, ids: string[]): string {
  const events = ids.map((id) => ({
    line: JSON.stringify({ type: 'track', messageId: id, source }),
    messageId: id,
  }));
  const [m] = packMessages(events, { source, receivedAt: START });
  if (m === undefined) throw new Error('pack');
  return m.body;
}

function shards(): {
  settings: DedupeSettings;
  outbox: Outbox;
  down: { mode: 'up' | 'throws' | 'hangs' };
} {
  const namespace = (env as unknown as Env).DEDUPE;
  if (namespace === undefined) throw new Error('no DEDUPE binding');
  const run = crypto.randomUUID();
  const down = { mode: 'up' as 'up' | 'throws' | 'hangs' };
  return {
    down,
    settings: {
      shards: 3,
      timeoutMs: 100,
      io: {
        call: (shard, request) => {
          // Shard 1 is the one that fails; the others keep answering.
          if (shard === 1 && down.mode === 'throws')
            return Promise.reject(new Error('Durable Object reset'));
          if (shard === 1 && down.mode === 'hangs') return new Promise(() => undefined);
          return namespace.get(namespace.idFromName(`${run}-${shard}`)).apply(request);
        },
      },
    },
    outbox: new Outbox(),
  };
}

/** 24 messages of three sources, 60 events, 8 of them a client's resend of an earlier one. */
function traffic(driver: QueueDriver): string[] {
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const source = ['web', 'ios', 'android'][i % 3] as string;
    const batch = [`${source}-${i}-a`, `${source}-${i}-b`, `${source}-${i}-c`];
    ids.push(...batch);
    driver.send(message(source, batch));
    if (i % 5 === 0) driver.send(message(source, batch));
  }
  return ids;
}

interface Outage {
  stream: string;
  driver: QueueDriver;
  ids: string[];
  peakWaiting: number;
}

/** Runs the traffic through `failing` rounds of the outage, then until nothing is pending. */
async function outage(
  failing: number,
  start: (stream: string) => Promise<void>,
  fix: (stream: string) => Promise<void>,
  dedupe: ReturnType<typeof shards>,
): Promise<Outage> {
  const stream = uniqueStream('outage');
  let clock = START;
  const driver = new QueueDriver(BUDGET, () => clock);
  const deps: ConsumerDeps = { now: () => clock, random: () => 0.5, newId: () => 'id' };
  const testEnv: Env = {
    ...(env as unknown as Env),
    FIREHOSE_STREAM: stream,
    DELIVERY_RETRY_MAX_SECONDS: String(CAP_SECONDS),
  };
  const ids = traffic(driver);
  await start(stream);
  let peakWaiting = 0;
  for (let round = 0; round < failing; round++) {
    await driver.round(testEnv, deps, dedupe);
    await flushOutbox(dedupe.settings.io, dedupe.outbox, dedupe.settings.timeoutMs);
    peakWaiting = Math.max(peakWaiting, driver.waitingEvents());
    clock += CAP_SECONDS * 1000;
  }
  await fix(stream);
  for (let round = 0; round < 4 && driver.pending.length > 0; round++) {
    await driver.round(testEnv, deps, dedupe);
    await flushOutbox(dedupe.settings.io, dedupe.outbox, dedupe.settings.timeoutMs);
    clock += CAP_SECONDS * 1000;
  }
  return { stream, driver, ids, peakWaiting };
}

async function expectDeliveredOnce(o: Outage): Promise<void> {
  const landed = (await landedEvents(o.stream)).map((e) => String(e['messageId'])).sort();
  // Everything landed once: the client's resends were dropped, nothing was lost.
  expect(landed).toEqual([...o.ids].sort());
  expect(o.driver.pending).toEqual([]);
  // Nothing dead-lettered, nothing left for Queues to move to the DLQ, so nothing archived.
  expect(o.driver.dlq.calls).toEqual([]);
  expect(o.driver.movedByQueues).toBe(0);
  // The outage outlasted the budget: messages were requeued, more than once each.
  expect(o.driver.requeued).toBeGreaterThan(o.ids.length / 3);
  // Held back while it lasted; nothing left waiting once it was fixed.
  expect(o.peakWaiting).toBeGreaterThan(0);
  expect(o.driver.waitingEvents()).toBe(0);
  // No retry waited longer than DELIVERY_RETRY_MAX_SECONDS: delivery resumes within it.
  expect(Math.max(...o.driver.delays)).toBeLessThanOrEqual(CAP_SECONDS);
}

describe('an outage that outlasts the retry budget', () => {
  it('delivers everything once after credentials refused for 3× the budget, dead-lettering nothing', async () => {
    const d = shards();
    const o = await outage(
      3 * BUDGET,
      (stream) => setStreamFaults(stream, { expiredToken: 1 }),
      (stream) => setStreamFaults(stream, { expiredToken: 0 }),
      d,
    );
    await expectDeliveredOnce(o);
    const reasons = new Set(
      o.driver.reports.flatMap((r) => (r.requeued ?? []).map((q) => q.reason)),
    );
    expect([...reasons]).toEqual(['credentials']);
  });

  it('delivers everything once after a dedupe shard threw for 3× the budget, sending nothing unchecked', async () => {
    const d = shards();
    const errors = captureErrors();
    const o = await outage(
      3 * BUDGET,
      async () => {
        d.down.mode = 'throws';
      },
      async () => {
        d.down.mode = 'up';
      },
      d,
    );
    await expectDeliveredOnce(o);
    expect(errors).toHaveBeenCalledWith('dedupe shard call failed', 'Durable Object reset');
  });

  it('delivers everything once after a dedupe shard hung for 3× the budget, each call abandoned', async () => {
    const d = shards();
    const errors = captureErrors();
    const o = await outage(
      3 * BUDGET,
      async () => {
        d.down.mode = 'hangs';
      },
      async () => {
        d.down.mode = 'up';
      },
      d,
    );
    await expectDeliveredOnce(o);
    expect(errors).toHaveBeenCalledWith(
      'dedupe shard call failed',
      'dedupe shard 1 did not answer within 100 ms',
    );
  });
});

describe('the stale-release race', () => {
  it("keeps the later attempt's reservation when an earlier attempt's release arrives late: no second copy", async () => {
    const stream = uniqueStream('stale-release');
    const namespace = (env as unknown as Env).DEDUPE;
    if (namespace === undefined) throw new Error('no DEDUPE binding');
    const run = crypto.randomUUID();
    const settings: DedupeSettings = {
      shards: 2,
      io: { call: (s, r) => namespace.get(namespace.idFromName(`${run}-${s}`)).apply(r) },
    };
    const deps: ConsumerDeps = { now: () => START + 1000, random: () => 0.5, newId: () => 'id' };
    const attempt = async (
      id: string,
      attempts: number,
      outbox: Outbox,
      over: Partial<Env> = {},
    ): Promise<FetcherQueueResult> => {
      const batch = createMessageBatch<unknown>('ndc-segment-events', [
        { id, timestamp: new Date(START), attempts, body: message('web', ['a']) },
      ]);
      const ctx = createExecutionContext();
      const testEnv: Env = {
        ...(env as unknown as Env),
        FIREHOSE_STREAM: stream,
        EVENTS: recordingQueue().queue,
        DLQ: recordingQueue().queue,
        ...over,
      };
      await deliverBatch(batch, testEnv, deps, settings, outbox);
      return getQueueResult(batch, ctx);
    };
    const isolateX = new Outbox();
    const isolateY = new Outbox();
    // Attempt 1 of m0, in isolate X: Firehose throttles it; its release waits in X's outbox.
    await setStreamFaults(stream, { throttle: 1 });
    await attempt('m0', 1, isolateX);
    expect(isolateX.isEmpty).toBe(false);
    // Attempt 2, in isolate Y: its call lands but the answer comes after the timeout, so its
    // reservation must hold (the record may have landed).
    await setStreamFaults(stream, { throttle: 0, lateAnswer: 1, lateAnswerMs: 2_000 });
    const second = await attempt('m0', 2, isolateY, { FIREHOSE_TIMEOUT_SECONDS: '1' });
    expect(second.retryMessages.map((r) => r.msgId)).toEqual(['m0']);
    await setStreamFaults(stream, { lateAnswer: 0 });
    // Now X's release of attempt 1 arrives.
    await flushOutbox(settings.io, isolateX);
    // A client's resend of the event, in a third isolate, is held back: not a second copy.
    const resend = await attempt('n0', 1, new Outbox());
    expect(resend.retryMessages.map((r) => r.msgId)).toEqual(['n0']);
    const landed = (await landedEvents(stream)).map((e) => e['messageId']);
    expect(landed).toEqual(['a']);
  });
});
