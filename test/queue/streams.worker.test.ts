// One source over several Firehose streams, inside workerd against the real local Firehose
// endpoint: the source uses every stream it is given, each event lands once, and a throttled
// stream's load moves to the others (src/firehose/spread.ts).
import { createMessageBatch, getQueueResult, createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { signPutRecordBatch } from '../../src/firehose/client';
import { deliverBatch, firehoseSettings, type ConsumerDeps } from '../../src/queue/consumer';
import { TEST_FIREHOSE } from '../support/firehose-credentials';
import { packMessages } from '../../src/queue/pack';
import { landedEvents, setStreamFaults, streamStats, uniqueStream } from '../support/firehose';
import { recordingQueue } from '../support/worker';

const RECEIVED = Date.parse('2026-12-01T10:00:00.000Z');
const deps: ConsumerDeps = { now: () => RECEIVED + 1000, random: () => 0.5, newId: () => 'id' };

/** A queue message of one event, as a one-event request makes. */
function oneEvent(source: string, id: string): string {
  const line = JSON.stringify({ type: 'track', event: 'Viewed', messageId: id });
  const [m] = packMessages([{ line, messageId: id }], { source, receivedAt: RECEIVED });
  if (m === undefined) throw new Error('pack');
  return m.body;
}

/**
 * Delivers `ids` (one message each) in batches of 100, as the consumer gets them, and again
 * whatever was retried (attempt by attempt) until every message is acked. Returns the rounds.
 */
async function deliverAll(source: string, ids: string[], overrides: Partial<Env>): Promise<number> {
  let pending = ids;
  let rounds = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > 5) throw new Error(`${pending.length} messages still retried after 5 attempts`);
    rounds = attempt;
    const retried: string[] = [];
    for (let at = 0; at < pending.length; at += 100) {
      const slice = pending.slice(at, at + 100);
      const batch = createMessageBatch<unknown>(
        'ndc-segment-events',
        slice.map((id) => ({
          id,
          timestamp: new Date(RECEIVED),
          attempts: attempt,
          body: oneEvent(source, id),
        })),
      );
      const testEnv = {
        ...(env as unknown as Env),
        DLQ: recordingQueue().queue as Queue<unknown>,
        EVENTS: recordingQueue().queue,
        ...overrides,
      };
      await deliverBatch(batch, testEnv, deps);
      const result = await getQueueResult(batch, createExecutionContext());
      expect(result.explicitAcks.length + result.retryMessages.length).toBe(slice.length);
      retried.push(...result.retryMessages.map((r) => r.msgId));
    }
    pending = retried;
  }
  return rounds;
}

const idsOf = (events: Array<Record<string, unknown>>): string[] =>
  events.map((e) => String(e['messageId']));

describe('one source over several streams', () => {
  it('puts 2,000 one-event messages of one source on both of its streams, each event once', async () => {
    const a = uniqueStream('spread-a');
    const b = uniqueStream('spread-b');
    const ids = Array.from({ length: 2000 }, (_v, i) => `e${i}`);
    const rounds = await deliverAll('big-site', ids, { FIREHOSE_STREAM: `${a},${b}` });
    expect(rounds).toBe(1);
    const onA = idsOf(await landedEvents(a));
    const onB = idsOf(await landedEvents(b));
    // 20 batches of one record each, dealt in turn: 10 records per stream.
    expect(onA.length).toBe(1000);
    expect(onB.length).toBe(1000);
    expect([...onA, ...onB].sort()).toEqual([...ids].sort());
    expect((await streamStats(a))?.calls).toBe(10);
    expect((await streamStats(b))?.calls).toBe(10);
  });

  it("moves a throttled stream's load to the other stream, every event still once", async () => {
    const a = uniqueStream('throttled');
    const b = uniqueStream('healthy');
    await setStreamFaults(a, { throttle: 1 });
    const ids = Array.from({ length: 2000 }, (_v, i) => `t${i}`);
    const rounds = await deliverAll('big-site', ids, { FIREHOSE_STREAM: `${a},${b}` });
    const onB = idsOf(await landedEvents(b));
    expect(onB.sort()).toEqual([...ids].sort());
    expect(await landedEvents(a)).toEqual([]);
    // The first call to the throttled stream marks it; no batch after that is dealt to it.
    expect((await streamStats(a))?.calls ?? 0).toBeLessThanOrEqual(1);
    expect(rounds).toBeLessThanOrEqual(2);
  });
});

describe('a route to another region', () => {
  it("signs a routed source's calls for its region and sends them to its stream only", async () => {
    const eu = uniqueStream('eu-events');
    const main = uniqueStream('main');
    const routes = { 'eu-web': { region: TEST_FIREHOSE.routedRegion, streams: [eu] } };
    const ids = Array.from({ length: 100 }, (_v, i) => `r${i}`);
    const overrides = { FIREHOSE_STREAM: main, FIREHOSE_ROUTES: JSON.stringify(routes) };
    await deliverAll('eu-web', ids.slice(0, 50), overrides);
    await deliverAll('web', ids.slice(50), overrides);
    expect(idsOf(await landedEvents(eu)).sort()).toEqual(ids.slice(0, 50).sort());
    expect(idsOf(await landedEvents(main)).sort()).toEqual(ids.slice(50).sort());
    // The local endpoint verified each signature for the region it names.
    expect((await streamStats(eu))?.regions).toEqual({ [TEST_FIREHOSE.routedRegion]: 1 });
    expect((await streamStats(main))?.regions).toEqual({ [TEST_FIREHOSE.region]: 1 });
  });

  it("calls the region's own endpoint unless FIREHOSE_ENDPOINT overrides it", async () => {
    const testEnv = { ...(env as unknown as Env), FIREHOSE_ENDPOINT: '' };
    const settings = firehoseSettings(testEnv, 'eu-west-1');
    if (typeof settings === 'string') throw new Error(settings);
    expect(settings.endpoint).toBe('https://firehose.eu-west-1.amazonaws.com/');
    const signed = await signPutRecordBatch(settings, '{}', '20261201T100000Z');
    expect(new URL(signed.url).host).toBe('firehose.eu-west-1.amazonaws.com');
    expect(signed.headers.get('Authorization')).toContain(
      '/20261201/eu-west-1/firehose/aws4_request',
    );
    const local = firehoseSettings(
      { ...testEnv, FIREHOSE_ENDPOINT: 'http://127.0.0.1:4573/' },
      'eu-west-1',
    );
    if (typeof local === 'string') throw new Error(local);
    expect(local).toMatchObject({ endpoint: 'http://127.0.0.1:4573/', region: 'eu-west-1' });
  });
});
