// Privacy on the ingest path, through the real app inside workerd: a policy and suppressions
// saved through the admin API, then events sent and what reaches the queue read back. Checks
// each rule and their combinations on what would be stored, the sinks carried in the message
// header, the answers (200 whatever was withheld), the metrics and the debugger's view.
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { PrivacyCache } from '../../src/privacy/cache';
import { PlanCache } from '../../src/plans/cache';
import { capturedEvents } from '../../src/debugger/capture';
import { DebuggerTap } from '../../src/debugger/tap';
import { captureErrors } from '../support/console';
import { FIXED_NOW, basic, fixedDeps, harness, jsonPost, type Harness } from '../support/worker';
import { vector } from './vectors';

const ADMIN = { Authorization: 'Bearer test-admin-token', 'Content-Type': 'application/json' };

type Json = Record<string, unknown>;

/** A source of its own per test: the registry and KV are shared by the file's tests. */
function source(name: string): { overrides: Partial<Env>; auth: string } {
  const key = `key-${name}`;
  return { overrides: { WRITE_KEYS: `${key}=${name}` }, auth: basic(key) };
}

async function putPolicy(h: Harness, name: string, policy: unknown): Promise<void> {
  const res = await h.fetch(`/admin/privacy/${name}`, {
    method: 'PUT',
    headers: ADMIN,
    body: JSON.stringify(policy),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function suppress(h: Harness, body: Json): Promise<void> {
  const res = await h.fetch('/admin/suppressions', {
    method: 'POST',
    headers: ADMIN,
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

function track(messageId: string, extra: Json = {}): Json {
  return {
    type: 'track',
    event: 'Order Completed',
    messageId,
    userId: 'u-42',
    properties: { email: 'ada@example.com', total: 42 },
    context: {
      traits: { ssn: '123-45-6789', email: 'ada@example.com' },
      consent: { categoryPreferences: { analytics: true, advertising: false } },
    },
    ...extra,
  };
}

const GEO = {
  country: 'AU',
  city: 'Melbourne',
  postalCode: '3000',
  latitude: '-37.8',
  longitude: '144.9',
};

function post(body: unknown, auth: string, headers: Record<string, string> = {}) {
  return {
    ...jsonPost(body, { Authorization: auth, 'CF-Connecting-IP': '203.0.113.77', ...headers }),
    cf: GEO,
  } as RequestInit<CfProperties>;
}

const ISSUE_POLICY = {
  consent: { categories: { firehose: ['analytics'], forward: ['advertising'] }, missing: 'allow' },
  fields: [
    { path: '/properties/email', action: 'hash' },
    { path: '/context/traits/ssn', action: 'drop' },
  ],
  ip: 'truncate',
  location: 'country',
};

describe('a policy at ingest', () => {
  it('stores only what the policy leaves: hashed, dropped, truncated, reduced', async () => {
    const s = source('pi-fields');
    const h = harness();
    await putPolicy(h, 'pi-fields', ISSUE_POLICY);
    const res = await h.fetch('/v1/track', post(track('m1'), s.auth), s.overrides);
    expect(res.status).toBe(200);
    const [event] = h.queue.events();
    const properties = event?.['properties'] as Json;
    const context = event?.['context'] as Json;
    expect(properties['email']).toBe(vector('ada@example.com'));
    expect(properties['total']).toBe(42);
    expect(context['traits']).toEqual({ email: 'ada@example.com' });
    expect(context['ip']).toBe('203.0.113.0');
    expect(context['location']).toEqual({ country: 'AU' });
    const text = JSON.stringify(h.queue.calls);
    for (const secret of ['123-45-6789', '203.0.113.77', 'Melbourne', '3000', '144.9']) {
      expect(text).not.toContain(secret);
    }
  });

  it('applies to every event of a batch, the shared batch context hashed once per event', async () => {
    const s = source('pi-batch');
    const h = harness();
    await putPolicy(h, 'pi-batch', { fields: [{ path: '/context/traits/email', action: 'hash' }] });
    const batch = {
      batch: [track('b1'), track('b2', { context: {} })],
      context: { traits: { email: 'ada@example.com' } },
    };
    expect((await h.fetch('/v1/batch', post(batch, s.auth), s.overrides)).status).toBe(200);
    const emails = h.queue.events().map((e) => ((e['context'] as Json)['traits'] as Json)['email']);
    expect(emails).toEqual([vector('ada@example.com'), vector('ada@example.com')]);
  });

  it('puts consent in the header: firehose only; nothing queued when no sink is consented', async () => {
    const s = source('pi-consent');
    const h = harness();
    await putPolicy(h, 'pi-consent', ISSUE_POLICY);
    // The source is not forwarded: its only sink is Firehose.
    await h.fetch('/v1/track', post(track('c1'), s.auth), s.overrides);
    const refused = track('c2', { context: { consent: { categoryPreferences: {} } } });
    const answer = await h.fetch('/v1/track', post(refused, s.auth), s.overrides);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ success: true });
    const missing = track('c3', { context: {} });
    await h.fetch('/v1/track', post(missing, s.auth), s.overrides);
    const messages = h.queue.messages();
    expect(messages.map((m) => m.header.ids)).toEqual([['c1'], ['c3']]);
    // Only firehose exists for this source, and both events may go there: no restriction.
    expect(messages.map((m) => m.header.sinks)).toEqual([undefined, undefined]);
  });

  it('restricts a forwarded source: firehose-only and forward-only events in messages of their own', async () => {
    const s = source('pi-fwd');
    const h = harness();
    const overrides = { ...s.overrides, FORWARD_WRITE_KEYS: 'pi-fwd=dest' };
    await putPolicy(h, 'pi-fwd', ISSUE_POLICY);
    const analyticsOnly = track('f1');
    const advertisingOnly = track('f2', {
      context: { consent: { categoryPreferences: { advertising: true } } },
    });
    const both = track('f3', {
      context: { consent: { categoryPreferences: { analytics: true, advertising: true } } },
    });
    const neither = track('f4', { context: { consent: {} } });
    const batch = { batch: [analyticsOnly, advertisingOnly, both, neither] };
    expect((await h.fetch('/v1/batch', post(batch, s.auth), overrides)).status).toBe(200);
    const bySinks = h.queue.messages().map((m) => [m.header.sinks ?? 'all', m.header.ids] as const);
    expect(bySinks).toEqual(
      expect.arrayContaining([
        [['firehose'], ['f1']],
        [['forward'], ['f2']],
        ['all', ['f3']],
      ]),
    );
    expect(bySinks).toHaveLength(3);
  });

  it('missing: deny keeps an event without context.consent out', async () => {
    const s = source('pi-deny');
    const h = harness();
    await putPolicy(h, 'pi-deny', {
      consent: { categories: { firehose: ['analytics'] }, missing: 'deny' },
    });
    await h.fetch('/v1/track', post(track('d1', { context: {} }), s.auth), s.overrides);
    await h.fetch('/v1/track', post(track('d2'), s.auth), s.overrides);
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['d2']);
  });

  it('Sec-GPC: 1 drops the events of a gpc: drop source and anonymizes for gpc: anonymize', async () => {
    const drop = source('pi-gpc-drop');
    const anon = source('pi-gpc-anon');
    const h = harness();
    await putPolicy(h, 'pi-gpc-drop', { gpc: 'drop' });
    await putPolicy(h, 'pi-gpc-anon', { gpc: 'anonymize' });
    const gpc = { 'Sec-GPC': '1' };
    expect(
      (await h.fetch('/v1/track', post(track('g1'), drop.auth, gpc), drop.overrides)).status,
    ).toBe(200);
    await h.fetch('/v1/track', post(track('g2'), drop.auth), drop.overrides);
    await h.fetch('/v1/track', post(track('g3'), anon.auth, gpc), anon.overrides);
    const [g2, g3] = h.queue.events();
    expect(g2?.['messageId']).toBe('g2');
    expect(g2?.['userId']).toBe('u-42');
    expect(g3?.['messageId']).toBe('g3');
    expect(g3?.['userId']).toBe(vector('u-42'));
    const context = g3?.['context'] as Json;
    expect(context['traits']).toEqual({
      ssn: vector('123-45-6789'),
      email: vector('ada@example.com'),
    });
    expect(context).not.toHaveProperty('ip');
    expect(context['location']).toEqual({ country: 'AU' });
  });

  it('ANONYMIZE_IP=true reduces the location to the country whatever the policy', async () => {
    const s = source('pi-anon-ip');
    const h = harness();
    await putPolicy(h, 'pi-anon-ip', { location: 'full' });
    await h.fetch('/v1/track', post(track('a1'), s.auth), { ...s.overrides, ANONYMIZE_IP: 'true' });
    const context = h.queue.events()[0]?.['context'] as Json;
    expect(context['location']).toEqual({ country: 'AU' });
    expect(context['ip']).toBe('203.0.113.0');
  });

  it('answers 503 rather than hash without PRIVACY_HASH_KEY', async () => {
    const errors = captureErrors();
    const s = source('pi-nokey');
    const h = harness();
    await putPolicy(h, 'pi-nokey', ISSUE_POLICY);
    const res = await h.fetch('/v1/track', post(track('k1'), s.auth), {
      ...s.overrides,
      PRIVACY_HASH_KEY: '',
    });
    expect(res.status).toBe(503);
    expect(h.queue.calls).toEqual([]);
    expect(errors).toHaveBeenCalledWith(
      'privacy: PRIVACY_HASH_KEY is not set, and this source needs it',
    );
  });

  it('counts what it did in the metrics, by source, sink and action', async () => {
    const s = source('pi-metrics');
    const metrics = new MetricsBuffer();
    const h = harness({ deps: fixedDeps(FIXED_NOW, metrics) });
    await putPolicy(h, 'pi-metrics', ISSUE_POLICY);
    await suppress(h, { source: 'pi-metrics', userIds: ['u-gone'] });
    const batch = {
      batch: [
        track('x1'),
        track('x2', { userId: 'u-gone' }),
        track('x3', { context: { consent: { categoryPreferences: {} } } }),
      ],
    };
    await h.fetch('/v1/batch', post(batch, s.auth), s.overrides);
    const counters = metrics.drain().counters;
    expect(counters).toMatchObject({
      'ndc_segment_events_suppressed_total{source="pi-metrics"}': 1,
      'ndc_segment_events_consent_filtered_total{sink="firehose",source="pi-metrics"}': 1,
      'ndc_segment_fields_redacted_total{action="hash",source="pi-metrics"}': 1,
      'ndc_segment_fields_redacted_total{action="drop",source="pi-metrics"}': 2,
      'ndc_segment_fields_redacted_total{action="truncate",source="pi-metrics"}': 1,
    });
  });
});

describe('suppression at ingest', () => {
  it('answers 200 and queues nothing of a suppressed userId or anonymousId', async () => {
    const s = source('ps-web');
    const h = harness();
    await suppress(h, { source: 'ps-web', userIds: ['u-gone'], anonymousIds: ['a-gone'] });
    const gone = await h.fetch(
      '/v1/track',
      post(track('s1', { userId: 'u-gone' }), s.auth),
      s.overrides,
    );
    expect(gone.status).toBe(200);
    expect(await gone.json()).toEqual({ success: true });
    await h.fetch(
      '/v1/track',
      post(track('s2', { userId: undefined, anonymousId: 'a-gone' }), s.auth),
      s.overrides,
    );
    await h.fetch('/v1/track', post(track('s3', { userId: 'u-stays' }), s.auth), s.overrides);
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['s3']);
    expect(JSON.stringify(h.queue.calls)).not.toContain('gone');
  });

  it('applies "*" suppressions to every source, and lifts them on removal', async () => {
    const s = source('ps-any');
    const h = harness();
    await suppress(h, { source: '*', userIds: ['u-nowhere'] });
    await h.fetch('/v1/track', post(track('w1', { userId: 'u-nowhere' }), s.auth), s.overrides);
    expect(h.queue.calls).toEqual([]);
    const res = await h.fetch('/admin/suppressions/remove', {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ source: '*', userIds: ['u-nowhere'] }),
    });
    expect(res.status).toBe(200);
    await h.fetch('/v1/track', post(track('w2', { userId: 'u-nowhere' }), s.auth), s.overrides);
    expect(h.queue.events().map((e) => e['messageId'])).toEqual(['w2']);
  });

  it('reaches another isolate at its next index read, within PRIVACY_CACHE_SECONDS', async () => {
    const s = source('ps-later');
    let now = FIXED_NOW;
    const clock = (): number => now;
    const admin = harness();
    const other = harness({
      deps: {
        ...fixedDeps(),
        now: clock,
        privacy: new PrivacyCache(clock),
        plans: new PlanCache(clock),
      },
    });
    await other.fetch('/v1/track', post(track('l1', { userId: 'u-later' }), s.auth), s.overrides);
    await suppress(admin, { source: 'ps-later', userIds: ['u-later'] });
    // Within the cache's 30 s the other isolate goes on with the index it has.
    now += 10_000;
    await other.fetch('/v1/track', post(track('l2', { userId: 'u-later' }), s.auth), s.overrides);
    // Past it, the request that notices starts a refresh; the one after sees the suppression.
    now += 30_000;
    await other.fetch('/v1/track', post(track('l3', { userId: 'u-later' }), s.auth), s.overrides);
    await other.fetch('/v1/track', post(track('l4', { userId: 'u-later' }), s.auth), s.overrides);
    const ids = other.queue.events().map((e) => e['messageId']);
    expect(ids).toContain('l1');
    expect(ids).not.toContain('l4');
  });
});

describe('the debugger', () => {
  it('captures events as the policy left them, and never a withheld one', async () => {
    const s = source('pd-web');
    const tap = new DebuggerTap(() => FIXED_NOW);
    const h = harness();
    await putPolicy(h, 'pd-web', ISSUE_POLICY);
    await suppress(h, { source: 'pd-web', userIds: ['u-gone'] });
    // The trace the tap would get: taken from a harness whose deps carry a tap that records it.
    const traces: unknown[] = [];
    const deps = { ...fixedDeps(), tap };
    tap.capture = (trace) => {
      traces.push(trace);
    };
    const watched = harness({ deps });
    const batch = {
      batch: [
        track('t1'),
        track('t2', { userId: 'u-gone' }),
        track('t3', { context: { consent: { categoryPreferences: {} } } }),
        { type: 'track', userId: 'u-42', properties: { email: 'ada@example.com' } },
      ],
    };
    await watched.fetch('/v1/batch', post(batch, s.auth), s.overrides);
    const [trace] = traces as Parameters<typeof capturedEvents>[0][];
    const shown = capturedEvents(trace as Parameters<typeof capturedEvents>[0]);
    expect(shown.map((e) => [e.status, e.messageId])).toEqual([
      ['accepted', 't1'],
      ['rejected', null],
    ]);
    const [accepted, rejected] = shown;
    const payload = accepted?.payload as Json;
    expect((payload['properties'] as Json)['email']).toBe(vector('ada@example.com'));
    expect((payload['context'] as Json)['traits']).toEqual({ email: 'ada@example.com' });
    // A rejected call is shown as received only for a source without privacy rules.
    expect(rejected?.payload).toBe('[withheld: the source has a privacy policy]');
    expect(rejected?.error?.code).toBe('missing_field');
    const text = JSON.stringify(shown);
    for (const secret of ['123-45-6789', 'u-gone', '"t2"', '"t3"']) {
      expect(text).not.toContain(secret);
    }
  });

  it('shows a body refused before privacy ran, unless its source has privacy rules', async () => {
    const plain = source('pd-plain');
    const guarded = source('pd-guarded');
    const admin = harness();
    await putPolicy(admin, 'pd-guarded', { ip: 'drop' });
    const traces: Array<Parameters<typeof capturedEvents>[0]> = [];
    const tap = new DebuggerTap(() => FIXED_NOW);
    tap.capture = (trace) => void traces.push(trace);
    const bad = (auth: string) => post('{"event": "x", "email": "ada@', auth);
    // Privacy not bound: nothing to withhold, even before anything was read.
    await harness({ deps: { ...fixedDeps(), tap } }).fetch('/v1/track', bad(plain.auth), {
      ...plain.overrides,
      PRIVACY: undefined,
    });
    // Bound, in a new isolate that has not read its rules yet: withheld, to be safe.
    const fresh = harness({ deps: { ...fixedDeps(), tap } });
    await fresh.fetch('/v1/track', bad(plain.auth), plain.overrides);
    // Once read: shown for a source without rules, withheld for one with.
    await fresh.fetch('/v1/track', post(track('ok'), plain.auth), plain.overrides);
    await fresh.fetch('/v1/track', bad(plain.auth), plain.overrides);
    await fresh.fetch('/v1/track', bad(guarded.auth), guarded.overrides);
    const payloads = traces.map((t) => capturedEvents(t)[0]?.payload);
    expect(payloads).toEqual([
      '{"event": "x", "email": "ada@',
      '[withheld: the source has a privacy policy]',
      expect.objectContaining({ messageId: 'ok' }),
      '{"event": "x", "email": "ada@',
      '[withheld: the source has a privacy policy]',
    ]);
  });
});
