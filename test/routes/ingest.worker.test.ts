// Single calls and batches through the Worker's app in workerd, with a fixed clock: what is
// answered, and exactly what reaches the queue.
import { exports } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { DebuggerTap } from '../../src/debugger/tap';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { PATH_TYPES } from '../../src/segment/types';
import { SEED_TRACK, VALID_CALLS } from '../fixtures/calls';
import { basic, FIXED_NOW, fixedDeps, harness, jsonPost } from '../support/worker';
import { captureErrors } from '../support/console';

const KEY = 'test-key-1'; // source "web" in vitest.config.ts

describe('single-call routes', () => {
  it.each(Object.entries(PATH_TYPES))('POST /v1/%s queues one %s event', async (path, type) => {
    const h = harness();
    const { type: _t, ...body } = VALID_CALLS[type];
    const res = await h.fetch(`/v1/${path}`, jsonPost(body, { Authorization: basic(KEY) }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    const events = h.queue.events();
    expect(events).toHaveLength(1);
    expect(events[0]?.['type']).toBe(type);
    expect(events[0]?.['source']).toBe('web');
  });

  it('answers 400 type_mismatch when the body type disagrees with the path', async () => {
    const h = harness();
    const res = await h.fetch('/v1/t', jsonPost(VALID_CALLS.page, { Authorization: basic(KEY) }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      success: false,
      error: {
        code: 'type_mismatch',
        message: 'type "page" does not match the track route',
        field: '.type',
      },
    });
    expect(h.queue.calls).toHaveLength(0);
  });

  it.each([
    ['track without event', '/v1/track', { anonymousId: 'a' }, 'missing_field', '.event'],
    ['group without groupId', '/v1/group', { userId: 'u' }, 'missing_field', '.groupId'],
    ['identify without ids', '/v1/identify', { traits: {} }, 'missing_field', '.userId'],
    ['alias without previousId', '/v1/alias', { userId: 'u' }, 'missing_field', '.previousId'],
    ['array traits', '/v1/identify', { userId: 'u', traits: [1] }, 'invalid_field', '.traits'],
    [
      'bad timestamp',
      '/v1/page',
      { userId: 'u', timestamp: 'noon' },
      'invalid_timestamp',
      '.timestamp',
    ],
  ])('rejects %s with 400 naming the field', async (_n, path, body, code, field) => {
    const h = harness();
    const res = await h.fetch(path, jsonPost(body, { Authorization: basic(KEY) }));
    expect(res.status).toBe(400);
    const json = await res.json<{ error: { code: string; field: string } }>();
    expect([json.error.code, json.error.field]).toEqual([code, field]);
    expect(h.queue.calls).toHaveLength(0);
  });

  it('queues exactly the enriched seed track.json, writeKey replaced by the source', async () => {
    const h = harness();
    const res = await h.fetch(
      '/v1/track',
      jsonPost(SEED_TRACK, {
        'CF-Connecting-IP': '203.0.113.9',
        'User-Agent': 'analytics-go/3.0.0',
      }),
    );
    expect(res.status).toBe(200);
    expect(h.queue.calls).toHaveLength(1);
    const body = h.queue.calls[0]?.[0];
    const expectedEvent = {
      type: 'track',
      context: {
        library: { name: 'analytics-go', version: '3.0.0' },
        ip: '203.0.113.9',
        userAgent: 'analytics-go/3.0.0',
      },
      event: 'NDC',
      properties: { location: 'Melbourne' },
      anonymousId: 'b4018473-eb6e-4c97-93c4-816ff699b640',
      timestamp: '2017-08-09T13:24:25.615Z',
      source: 'ndc-demo',
      messageId: 'generated-1',
      receivedAt: '2026-11-29T10:00:00.000Z',
    };
    expect(body).toBe(
      `{"v":1,"source":"ndc-demo","receivedAt":${Date.parse('2026-11-29T10:00:00.000Z')},"events":1,"ids":["generated-1"]}\n` +
        `${JSON.stringify(expectedEvent)}\n`,
    );
    expect(body).not.toContain(SEED_TRACK.writeKey);
  });

  it('corrects client clock skew from sentAt with the server clock', async () => {
    const h = harness();
    await h.fetch(
      '/v1/track',
      jsonPost(
        {
          ...VALID_CALLS.track,
          timestamp: '2026-11-29T09:00:00.000Z',
          sentAt: '2026-11-29T09:00:05.000Z',
        },
        { Authorization: basic(KEY) },
      ),
    );
    const [event] = h.queue.events();
    expect(event?.['timestamp']).toBe('2026-11-29T09:59:55.000Z');
    expect(event?.['originalTimestamp']).toBe('2026-11-29T09:00:00.000Z');
  });

  it('adds context.location from request.cf', async () => {
    const h = harness();
    await h.fetch('/v1/page', {
      ...jsonPost(VALID_CALLS.page, { Authorization: basic(KEY) }),
      cf: {
        country: 'AU',
        region: 'Victoria',
        city: 'Melbourne',
        timezone: 'Australia/Melbourne',
        postalCode: '3000',
        latitude: '-37.81400',
        longitude: '144.96332',
      },
    });
    const [event] = h.queue.events();
    expect((event?.['context'] as Record<string, unknown>)['location']).toEqual({
      country: 'AU',
      region: 'Victoria',
      city: 'Melbourne',
      timezone: 'Australia/Melbourne',
      postalCode: '3000',
      latitude: -37.814,
      longitude: 144.96332,
    });
  });

  it('masks context.ip when ANONYMIZE_IP is set', async () => {
    const h = harness();
    await h.fetch(
      '/v1/track',
      jsonPost(VALID_CALLS.track, {
        Authorization: basic(KEY),
        'CF-Connecting-IP': '2001:db8:1:2:3:4:5:6',
      }),
      { ANONYMIZE_IP: 'true' },
    );
    const [event] = h.queue.events();
    expect((event?.['context'] as Record<string, unknown>)['ip']).toBe('2001:db8:1::');
  });
});

describe('batch routes', () => {
  it.each(['/v1/batch', '/v1/import', '/v1/b'])('%s queues every valid item', async (path) => {
    const h = harness();
    const batch = Object.values(VALID_CALLS);
    const res = await h.fetch(path, jsonPost({ batch, writeKey: KEY }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, accepted: 6 });
    expect(h.queue.events().map((e) => e['type'])).toEqual(batch.map((c) => c['type']));
  });

  it("takes analytics.js's unload flush: a 64 KB text/plain /v1/b, the batch's sentAt for all", async () => {
    const h = harness();
    // batched-dispatcher.ts: items lose their own sentAt, the body carries one; on pagehide the
    // buffer goes in keepalive chunks of up to 64 KB.
    const sentAt = new Date(FIXED_NOW - 2000).toISOString();
    const item = (i: number) => ({
      ...VALID_CALLS.track,
      messageId: `unload-${i}`,
      timestamp: new Date(FIXED_NOW - 3000).toISOString(),
      context: { library: { name: 'analytics.js', version: 'npm:next-1.84.3' } },
      properties: { pad: 'x'.repeat(500) },
    });
    const batch = Array.from({ length: 85 }, (_, i) => item(i));
    const body = JSON.stringify({ writeKey: KEY, batch, sentAt });
    expect(body.length).toBeGreaterThan(60_000);
    expect(body.length).toBeLessThanOrEqual(64 * 1024);
    const res = await h.fetch('/v1/b', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Authorization: basic(KEY) },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, accepted: batch.length });
    const events = h.queue.events();
    expect(events.map((e) => e['messageId'])).toEqual(batch.map((e) => e.messageId));
    for (const e of events) {
      expect(e['sentAt']).toBe(sentAt);
      // Skew-corrected by the batch's sentAt: 1 s before receipt.
      expect(e['timestamp']).toBe(new Date(FIXED_NOW - 1000).toISOString());
      expect(e).not.toHaveProperty('writeKey');
    }
  });

  it('keeps the valid items of a mixed batch and lists the rejected ones', async () => {
    const h = harness();
    const res = await h.fetch(
      '/v1/batch',
      jsonPost(
        { batch: [VALID_CALLS.track, { type: 'track', userId: 'u' }, 'junk'] },
        { Authorization: basic(KEY) },
      ),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      success: true,
      accepted: 1,
      rejected: [
        { index: 1, code: 'missing_field', message: 'track requires event', field: '.event' },
        { index: 2, code: 'invalid_body', message: 'a call must be a JSON object' },
      ],
    });
    expect(h.queue.events()).toHaveLength(1);
  });

  it('answers 400 when no item is valid, and queues nothing', async () => {
    const h = harness();
    const res = await h.fetch('/v1/batch', jsonPost({ batch: [{ type: 'nope' }], writeKey: KEY }));
    expect(res.status).toBe(400);
    const json = await res.json<{
      success: boolean;
      error: { code: string };
      rejected: unknown[];
    }>();
    expect(json.success).toBe(false);
    expect(json.error.code).toBe('invalid_body');
    expect(json.rejected).toEqual([
      { index: 0, code: 'unknown_type', message: expect.any(String), field: '.type' },
    ]);
    expect(h.queue.calls).toHaveLength(0);
  });

  it('merges batch context and integrations under each item, and applies the batch sentAt', async () => {
    const h = harness();
    await h.fetch(
      '/v1/batch',
      jsonPost(
        {
          batch: [
            {
              ...VALID_CALLS.track,
              timestamp: '2026-11-29T08:00:00.000Z',
              context: { library: { version: '9' } },
            },
            { ...VALID_CALLS.page, integrations: { All: true } },
          ],
          context: { library: { name: 'analytics-node', version: '3.1.0' }, locale: 'en' },
          integrations: { All: false, Mixpanel: true },
          sentAt: '2026-11-29T08:00:10.000Z',
          writeKey: KEY,
        },
        { 'CF-Connecting-IP': '198.51.100.4' },
      ),
    );
    const [first, second] = h.queue.events();
    expect(first?.['context']).toEqual({
      library: { name: 'analytics-node', version: '9' },
      locale: 'en',
      ip: '198.51.100.4',
    });
    expect(first?.['integrations']).toEqual({ All: false, Mixpanel: true });
    expect(first?.['timestamp']).toBe('2026-11-29T09:59:50.000Z');
    expect(first?.['sentAt']).toBe('2026-11-29T08:00:10.000Z');
    expect(second?.['integrations']).toEqual({ All: true, Mixpanel: true });
    expect(second?.['timestamp']).toBe('2026-11-29T10:00:00.000Z');
  });

  it('packs a large batch into several messages of at most 63,000 bytes sent in sendBatch calls', async () => {
    const h = harness();
    const item = { ...VALID_CALLS.track, properties: { blob: 'y'.repeat(4000) } };
    const res = await h.fetch(
      '/v1/batch',
      jsonPost({ batch: new Array(100).fill(item), writeKey: KEY }),
    );
    expect(res.status).toBe(200);
    const messages = h.queue.messages();
    expect(messages.length).toBeGreaterThan(5);
    expect(messages.reduce((n, m) => n + m.header.events, 0)).toBe(100);
    for (const body of h.queue.calls.flat())
      expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(63_000);
    expect(h.queue.calls.length).toBeGreaterThan(1);
    for (const call of h.queue.calls) expect(call.length).toBeLessThanOrEqual(100);
  });
});

describe('queue failures', () => {
  it('answers 503 with Retry-After when the queue refuses the send', async () => {
    const errors = captureErrors();
    const h = harness({ failQueue: true });
    const res = await h.fetch(
      '/v1/track',
      jsonPost(VALID_CALLS.track, { Authorization: basic(KEY) }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect(await res.json()).toEqual({
      success: false,
      error: { code: 'queue_unavailable', message: 'the event queue is unavailable; retry later' },
    });
    expect(errors).toHaveBeenCalledWith('queue send failed', 'Queue send failed: simulated outage');
  });

  it('answers 503 for a batch too', async () => {
    const errors = captureErrors();
    const h = harness({ failQueue: true });
    const res = await h.fetch('/v1/batch', jsonPost({ batch: [VALID_CALLS.track], writeKey: KEY }));
    expect(res.status).toBe(503);
    expect(errors).toHaveBeenCalledOnce();
  });
});

describe('the deployed Worker entry', () => {
  it('sends to the real EVENTS queue binding and answers the seed body', async () => {
    const res = await exports.default.fetch('https://collector.test/v1/track', {
      method: 'POST',
      headers: { Authorization: basic(KEY) },
      body: JSON.stringify(VALID_CALLS.track),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"success":true}');
  });

  it('answers name and version at GET /', async () => {
    const res = await exports.default.fetch('https://collector.test/');
    expect(await res.json()).toEqual({
      name: 'ndc-segment',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });
});

describe('the answer matches what was stored', () => {
  /** A debugger tap whose capture throws, as a bug in it would. */
  function brokenTap(): DebuggerTap {
    const tap = new DebuggerTap(() => FIXED_NOW);
    vi.spyOn(tap, 'capture').mockImplementation(() => {
      throw new Error('capture broke');
    });
    return tap;
  }

  it('answers 200 when the debugger capture throws after the events were queued', async () => {
    const h = harness({ deps: { ...fixedDeps(), tap: brokenTap() } });
    const errors = captureErrors();
    const res = await h.fetch('/v1/track', jsonPost(SEED_TRACK, { Authorization: basic(KEY) }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    expect(h.queue.events()).toHaveLength(1);
    expect(errors).toHaveBeenCalledWith('debugger capture failed', 'capture broke');
  });

  it('answers a refusal as it is when the debugger capture throws too', async () => {
    const h = harness({ deps: { ...fixedDeps(), tap: brokenTap() } });
    const errors = captureErrors();
    const res = await h.fetch('/v1/track', jsonPost(SEED_TRACK, { Authorization: basic('nope') }));
    expect(res.status).toBe(401);
    expect(h.queue.calls).toEqual([]);
    expect(errors).toHaveBeenCalledWith('debugger capture failed', 'capture broke');
  });

  it('answers 200 when recording the metrics throws after the events were queued', async () => {
    const metrics = new MetricsBuffer();
    const inc = metrics.inc.bind(metrics);
    vi.spyOn(metrics, 'inc').mockImplementation((name, labels, by) => {
      if (name === 'ndc_segment_events_received_total') throw new Error('metrics broke');
      inc(name, labels, by);
    });
    const h = harness({ deps: fixedDeps(FIXED_NOW, metrics) });
    const errors = captureErrors();
    const res = await h.fetch(
      '/v1/batch',
      jsonPost({ batch: [SEED_TRACK, SEED_TRACK] }, { Authorization: basic(KEY) }),
    );
    expect(res.status).toBe(200);
    expect(h.queue.events()).toHaveLength(2);
    expect(errors).toHaveBeenCalledWith('ingest metrics failed', 'metrics broke');
  });
});
