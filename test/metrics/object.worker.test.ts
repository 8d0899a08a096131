// The metrics Durable Object, the /metrics and /health routes, and Analytics Engine points,
// inside workerd.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { MetricsBuffer } from '../../src/metrics/buffer';
import type { FlushBatch } from '../../src/metrics/flush';
import { forgetScrape, isolateScheduler, scrapeReads } from '../../src/metrics/isolate';
import { MetricsShard } from '../../src/metrics/object';
import { VALID_CALLS } from '../fixtures/calls';
import { eventually } from '../support/firehose';
import { basic, harness } from '../support/worker';

const testEnv = env as unknown as Env;

describe('MetricsShard', () => {
  const batch = (isolate: string, seq: number, m: MetricsBuffer): FlushBatch => ({
    isolate,
    entries: [{ seq, delta: m.drain() }],
  });

  it('adds flushes, persists them from its alarm, and reloads them when the object restarts', async () => {
    const stub = testEnv.METRICS.get(testEnv.METRICS.idFromName(`unit-${crypto.randomUUID()}`));
    const m = new MetricsBuffer();
    m.inc('ndc_segment_events_retried_total', {}, 3);
    m.observe('ndc_segment_batch_events', {}, 100);
    m.max('ndc_segment_last_enqueue_timestamp_seconds', {}, 1_700_000_000);
    await stub.apply(batch('iso-a', 1, m));
    m.inc('ndc_segment_events_retried_total', {}, 2);
    await stub.apply(batch('iso-a', 2, m));
    const snapshot = await stub.snapshot();
    expect(snapshot.counters['ndc_segment_events_retried_total']).toBe(5);
    expect(snapshot.histograms['ndc_segment_batch_events']?.count).toBe(1);

    // Nothing is written until the alarm; then one snapshot row.
    const before = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec('SELECT count(*) AS n FROM snapshot').one(),
    );
    expect(before['n']).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec('SELECT count(*) AS n FROM snapshot').one(),
    );
    expect(rows['n']).toBe(1);

    // A fresh instance over the same storage reads the snapshot back.
    const reloaded = await runInDurableObject(stub, (_instance, state) =>
      new MetricsShard(state, testEnv).snapshot(),
    );
    expect(reloaded).toEqual(snapshot);
  });

  it('applies a resent flush once, even across a restart', async () => {
    const stub = testEnv.METRICS.get(testEnv.METRICS.idFromName(`resend-${crypto.randomUUID()}`));
    const m = new MetricsBuffer();
    m.inc('ndc_segment_events_retried_total', {}, 4);
    const once = batch('iso-b', 7, m);
    await stub.apply(structuredClone(once));
    await runDurableObjectAlarm(stub);
    await stub.apply(structuredClone(once));
    const restarted = await runInDurableObject(stub, (_instance, state) => {
      const shard = new MetricsShard(state, testEnv);
      return shard.apply(structuredClone(once)).then(() => shard.snapshot());
    });
    expect(restarted.counters['ndc_segment_events_retried_total']).toBe(4);
  });

  it("keeps the status page's minutes: once per flush, in its snapshot row, across a restart", async () => {
    const stub = testEnv.METRICS.get(testEnv.METRICS.idFromName(`status-${crypto.randomUUID()}`));
    const m = new MetricsBuffer();
    m.minute('web', 29_000_000, { received: 5, delivered: 4, lagSumSeconds: 8, lagMaxSeconds: 3 });
    const once = batch('iso-s', 1, m);
    await stub.apply(structuredClone(once));
    await stub.apply(structuredClone(once));
    m.minute('web', 29_000_000, { received: 1, lagMaxSeconds: 9 });
    await stub.apply(batch('iso-s', 2, m));
    const expected = { '29000000': { web: [6, 4, 0, 0, 8, 9] } };
    expect(await stub.statusMinutes()).toEqual(expected);
    // The snapshot carries the minutes: still one row.
    await runDurableObjectAlarm(stub);
    const rows = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec('SELECT count(*) AS n FROM snapshot').one(),
    );
    expect(rows['n']).toBe(1);
    const reloaded = await runInDurableObject(stub, (_instance, state) =>
      new MetricsShard(state, testEnv).statusMinutes(),
    );
    expect(reloaded).toEqual(expected);
    // ...and never the counters' state nor the Analytics Engine interval.
    expect(await stub.snapshot()).not.toHaveProperty('status');
  });

  it('ignores a garbage delta instead of throwing', async () => {
    const stub = testEnv.METRICS.get(testEnv.METRICS.idFromName(`garbage-${crypto.randomUUID()}`));
    await stub.apply({
      counters: { nope: 1, ndc_segment_events_retried_total: -5 },
      histograms: 3,
    } as never);
    const snapshot = await stub.snapshot();
    expect(snapshot.counters).toEqual({});
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with every catalogued family', async () => {
    const res = await exports.default.fetch('https://collector.test/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    for (const family of [
      'ndc_segment_events_received_total',
      'ndc_segment_delivery_latency_seconds',
      'delivery_success_total',
      'delivery_failure_total',
    ]) {
      expect(text).toContain(`# TYPE ${family} `);
    }
  });

  it('counts this isolate’s requests exactly, flushed in one go', async () => {
    const read = async (): Promise<number> => {
      const text = await (await exports.default.fetch('https://collector.test/metrics')).text();
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('ndc_segment_events_received_total{') &&
            l.includes('source="metrics-src"') &&
            l.includes('type="track"'),
        );
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const before = await read();
    const flushesBefore = isolateScheduler.flushes;
    const posts = Array.from({ length: 20 }, () =>
      exports.default.fetch('https://collector.test/v1/batch', {
        method: 'POST',
        headers: { Authorization: basic('test-key-metrics') },
        body: JSON.stringify({ batch: [VALID_CALLS.track, VALID_CALLS.track, VALID_CALLS.page] }),
      }),
    );
    for (const res of await Promise.all(posts)) expect(res.status).toBe(200);
    // Exact once this isolate's flush (METRICS_FLUSH_SECONDS=1 here) and the scrape cache turn.
    await eventually(async () => ((await read()) === before + 40 ? true : undefined), 10_000);
    // 20 requests and the scrapes: far fewer flushes than requests.
    expect(isolateScheduler.flushes - flushesBefore).toBeLessThanOrEqual(6);
  });

  it('answers 200 concurrent scrapes with one read of the shards per cache window', async () => {
    forgetScrape();
    const before = scrapeReads.count;
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => exports.default.fetch('https://collector.test/metrics')),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await Promise.all(answers.map((a) => a.text()));
    // One read for the flood (two if the 1 s window turned while it was served).
    expect(scrapeReads.count - before).toBeGreaterThanOrEqual(1);
    expect(scrapeReads.count - before).toBeLessThanOrEqual(2);
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    const h = harness();
    const env = { METRICS_TOKEN: 'scrape-me' };
    expect((await h.fetch('/metrics', {}, env)).status).toBe(401);
    expect(
      (await h.fetch('/metrics', { headers: { Authorization: 'Bearer nope' } }, env)).status,
    ).toBe(401);
    expect(
      (await h.fetch('/metrics', { headers: { Authorization: 'Bearer scrape-me' } }, env)).status,
    ).toBe(200);
    expect((await h.fetch('/metrics')).status).toBe(200);
  });
});

describe('GET /health', () => {
  it('answers with the delivery and backlog checks', async () => {
    const res = await exports.default.fetch('https://collector.test/health');
    const body = await res.json<{
      status: string;
      checks: { delivery: unknown; backlog: { status: string } };
    }>();
    expect([200, 503]).toContain(res.status);
    expect(body.status).toBe(res.status === 200 ? 'pass' : 'fail');
    expect(body.checks.backlog.status).not.toBe('unknown');
  });
});

describe('GET /health with forwarding', () => {
  type Body = { status: string; checks: { forwarding?: { status: string; output?: string } } };

  it('has no forwarding check while FORWARD_ENDPOINT is empty', async () => {
    const res = await harness().fetch('/health', {}, { FORWARD_ENDPOINT: '' });
    expect((await res.json<Body>()).checks.forwarding).toBeUndefined();
  });

  it('checks forwarding, with the forward queue it reads, when FORWARD_ENDPOINT is set', async () => {
    const res = await harness().fetch('/health', {}, { FORWARD_WRITE_KEYS: 'web=k' });
    const body = await res.json<Body & { checks: { forwarding?: { messages: number | null } } }>();
    expect(body.checks.forwarding).toMatchObject({ messages: expect.any(Number) });
  });

  it.each<[string, Partial<Env>, string]>([
    ['a FORWARD_ENDPOINT that is not a URL', { FORWARD_ENDPOINT: 'nope' }, 'not an absolute URL'],
    ['no source to forward', { FORWARD_WRITE_KEYS: '' }, 'names no source'],
    ['a FORWARD_WRITE_KEYS item it cannot read', { FORWARD_WRITE_KEYS: 'web=k,oops' }, '1 item(s)'],
    ['the FORWARD binding missing', { FORWARD: undefined }, 'FORWARD queue binding'],
  ])('is 503 with the reason for %s', async (_n, overrides, reason) => {
    const res = await harness().fetch('/health', {}, overrides);
    const body = await res.json<Body>();
    expect(res.status).toBe(503);
    expect(body.checks.forwarding?.status).toBe('fail');
    expect(body.checks.forwarding?.output).toContain(reason);
  });
});
