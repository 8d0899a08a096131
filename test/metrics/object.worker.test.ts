// The metrics Durable Object, the /metrics and /health routes, and Analytics Engine points,
// inside workerd.
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { isolateScheduler } from '../../src/metrics/isolate';
import { MetricsShard } from '../../src/metrics/object';
import { VALID_CALLS } from '../fixtures/calls';
import { basic, fixedDeps, harness, jsonPost } from '../support/worker';

const testEnv = env as unknown as Env;

describe('MetricsShard', () => {
  it('adds deltas, persists them, and reloads them when the object restarts', async () => {
    const id = testEnv.METRICS.idFromName(`unit-${crypto.randomUUID()}`);
    const stub = testEnv.METRICS.get(id);
    const m = new MetricsBuffer();
    m.inc('ndc_segment_events_retried_total', {}, 3);
    m.observe('ndc_segment_batch_events', {}, 100);
    m.max('ndc_segment_last_enqueue_timestamp_seconds', {}, 1_700_000_000);
    await stub.apply(m.drain());
    m.inc('ndc_segment_events_retried_total', {}, 2);
    await stub.apply(m.drain());
    const snapshot = await stub.snapshot();
    expect(snapshot.counters['ndc_segment_events_retried_total']).toBe(5);
    expect(snapshot.histograms['ndc_segment_batch_events']?.count).toBe(1);

    // A fresh instance over the same storage reads the rows back.
    const reloaded = await runInDurableObject(stub, (_instance, state) =>
      new MetricsShard(state, testEnv).snapshot(),
    );
    expect(reloaded).toEqual(snapshot);
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
    expect(await read()).toBe(before + 40);
    // 20 requests, then /metrics: far fewer flushes than requests.
    expect(isolateScheduler.flushes - flushesBefore).toBeLessThanOrEqual(3);
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

describe('Analytics Engine', () => {
  it('writes one data point per ingest request, with source, types, events and bytes', async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const ANALYTICS = {
      writeDataPoint: (p?: AnalyticsEngineDataPoint) => void (p && points.push(p)),
    };
    const h = harness({ deps: fixedDeps() });
    const body = JSON.stringify({ batch: [VALID_CALLS.track, VALID_CALLS.identify] });
    await h.fetch('/v1/batch', jsonPost(body, { Authorization: basic('test-key-1') }), {
      ANALYTICS,
    });
    await h.fetch('/v1/track', jsonPost('{', { Authorization: basic('test-key-1') }), {
      ANALYTICS,
    });
    expect(points).toEqual([
      {
        indexes: ['web'],
        blobs: ['ingest', '/v1/batch', '200', 'web', 'track,identify'],
        doubles: [2, body.length, 0],
      },
    ]);
  });
});
