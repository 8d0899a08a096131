// Privacy end to end: the Worker under wrangler dev with its real queues, registry object and KV,
// the local Firehose endpoint and the local Segment endpoint it forwards to, and the debugger
// API. A policy and a suppression go in through the admin API; then consented, refused,
// missing-consent, suppressed and `Sec-GPC: 1` events. What lands in Firehose, at the forward
// endpoint and in the debugger is exactly what the policy lets through, redacted as it says
// (hashes checked against node:crypto); the suppression listing never holds an id.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  forwarded,
  landed,
  metricSum,
  metricsText,
  SEED_KEY,
  startTestStack,
  until,
  waitForQuiet,
  waitForSegmentQuiet,
  type TestStack,
} from './support';

const TOKEN = 'e2e-admin-token-for-privacy';
const HASH_KEY = 'e2e-privacy-hash-key';
const DEST_KEY = 'dest-privacy-key';
const SOURCE = 'ndc-demo'; // the seed key's source
const ADMIN = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

const hmac = (text: string): string => createHmac('sha256', HASH_KEY).update(text).digest('hex');

type Json = Record<string, unknown>;

const POLICY = {
  consent: { categories: { firehose: ['analytics'], forward: ['advertising'] }, missing: 'allow' },
  gpc: 'anonymize',
  fields: [
    { path: '/properties/email', action: 'hash' },
    { path: '/context/traits/ssn', action: 'drop' },
    { path: '/properties/items/*/coupon', action: 'drop' },
  ],
  ip: 'truncate',
  location: 'country',
};

const SECRETS = {
  email: 'ada.lovelace@example.com',
  ssn: '078-05-1120',
  coupon: 'SECRET-COUPON-42',
  city: 'Kalgoorlie',
  postalCode: '6430',
  suppressedUser: 'u-suppressed-e2e',
  suppressedAnon: 'a-suppressed-e2e',
};

const run = `${Date.now().toString(36)}`;
const id = (name: string): string => `privacy-${run}-${name}`;

function event(name: string, extra: Json = {}, consent?: Json | null): Json {
  return {
    type: 'track',
    event: 'Signed Up',
    messageId: id(name),
    userId: `u-${name}`,
    properties: {
      email: SECRETS.email,
      items: [{ sku: 'x', coupon: SECRETS.coupon }],
    },
    context: {
      traits: { ssn: SECRETS.ssn, name: 'Ada' },
      location: { country: 'AU', city: SECRETS.city, postalCode: SECRETS.postalCode },
      ...(consent === null ? {} : { consent: { categoryPreferences: consent ?? {} } }),
    },
    ...extra,
  };
}

const BOTH = { analytics: true, advertising: true };
const EVENTS: Array<{ name: string; body: Json; gpc?: boolean }> = [
  { name: 'both', body: event('both', {}, BOTH) },
  { name: 'analytics', body: event('analytics', {}, { analytics: true, advertising: false }) },
  { name: 'advertising', body: event('advertising', {}, { advertising: true }) },
  { name: 'refused', body: event('refused', {}, {}) },
  { name: 'missing', body: event('missing', {}, null) },
  {
    name: 'suppressed-user',
    body: event('x', { userId: SECRETS.suppressedUser, messageId: id('suppressed-user') }, BOTH),
  },
  {
    name: 'suppressed-anon',
    body: event(
      'y',
      { userId: undefined, anonymousId: SECRETS.suppressedAnon, messageId: id('suppressed-anon') },
      BOTH,
    ),
  },
  { name: 'gpc', body: event('gpc', {}, BOTH), gpc: true },
];

const IN_FIREHOSE = ['both', 'analytics', 'missing', 'gpc'].map(id).sort();
const IN_FORWARD = ['both', 'advertising', 'missing', 'gpc'].map(id).sort();
const IN_DEBUGGER = ['both', 'analytics', 'advertising', 'missing', 'gpc'].map(id).sort();

const mine = (events: Json[]): Json[] =>
  events.filter((e) => String(e['messageId']).startsWith(`privacy-${run}-`));
const ids = (events: Json[]): string[] =>
  mine(events)
    .map((e) => String(e['messageId']))
    .sort();

/** What the policy must have left of a kept event, wherever it is read back. */
function expectRedacted(e: Json): void {
  const name = String(e['messageId']).slice(`privacy-${run}-`.length);
  const properties = e['properties'] as Json;
  const context = e['context'] as Json;
  expect(properties['email']).toBe(hmac(SECRETS.email));
  expect(properties['items']).toEqual([{ sku: 'x' }]);
  expect(context['location']).toEqual({ country: 'AU' });
  if (name === 'gpc') {
    // gpc: anonymize: the ids and every trait hashed, no IP at all.
    expect(e['userId']).toBe(hmac('u-gpc'));
    expect(context['traits']).toEqual({ name: hmac('Ada') });
    expect(context).not.toHaveProperty('ip');
  } else {
    expect(e['userId']).toBe(`u-${name}`);
    expect(context['traits']).toEqual({ name: 'Ada' });
    if (typeof context['ip'] === 'string') expect(context['ip']).toMatch(/\.0$|::$/);
  }
}

describe('privacy at the edge', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      stream: 'e2e-privacy',
      forwardWriteKeys: `${SOURCE}=${DEST_KEY}`,
      vars: { ADMIN_TOKEN: TOKEN, PRIVACY_HASH_KEY: HASH_KEY },
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('stores in Firehose, the forward copy and the debugger exactly what the policy lets through', async () => {
    const url = stack.workerUrl;
    const saved = await fetch(`${url}/admin/privacy/${SOURCE}`, {
      method: 'PUT',
      headers: ADMIN,
      body: JSON.stringify(POLICY),
    });
    expect(saved.status, await saved.clone().text()).toBe(200);
    const suppressed = await fetch(`${url}/admin/suppressions`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({
        source: SOURCE,
        userIds: [SECRETS.suppressedUser],
        anonymousIds: [SECRETS.suppressedAnon],
      }),
    });
    expect(await suppressed.json()).toMatchObject({ added: 2 });
    const listing = await (
      await fetch(`${url}/admin/suppressions?source=${SOURCE}`, { headers: ADMIN })
    ).text();
    expect(JSON.parse(listing)).toEqual({
      success: true,
      suppressions: { [SOURCE]: { userIds: 1, anonymousIds: 1 } },
    });
    expect(listing).not.toContain(SECRETS.suppressedUser);
    expect(listing).not.toContain(SECRETS.suppressedAnon);

    // The debugger captures from the first read of the source on.
    const debuggerRead = () =>
      fetch(`${url}/debugger/events?source=${SOURCE}&limit=500`, { headers: ADMIN });
    expect((await debuggerRead()).status).toBe(200);

    for (const e of EVENTS) {
      const res = await fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: {
          Authorization: basic(SEED_KEY),
          'Content-Type': 'application/json',
          ...(e.gpc === true ? { 'Sec-GPC': '1' } : {}),
        },
        body: JSON.stringify(e.body),
      });
      // Withheld or not, every call is answered as accepted.
      expect(await res.json(), e.name).toEqual({ success: true });
    }

    await until(
      'the kept events in Firehose',
      async () => (ids(await landed(stack)).length >= IN_FIREHOSE.length ? true : undefined),
      120_000,
    );
    await until(
      'the kept events at the forward endpoint',
      async () =>
        ids(await forwarded(stack, DEST_KEY)).length >= IN_FORWARD.length ? true : undefined,
      120_000,
    );
    await Promise.all([
      waitForQuiet(stack, 6_000, 60_000),
      waitForSegmentQuiet(stack, 8_000, 60_000),
    ]);

    const firehose = mine(await landed(stack));
    const forward = mine(await forwarded(stack, DEST_KEY));
    expect(ids(firehose)).toEqual(IN_FIREHOSE);
    expect(ids(forward)).toEqual(IN_FORWARD);
    for (const e of [...firehose, ...forward]) expectRedacted(e);

    const captured = await until(
      'the kept events in the debugger',
      async () => {
        const body = (await (await debuggerRead()).json()) as { events: Json[] };
        const events = body.events.filter((e) =>
          String(e['messageId']).startsWith(`privacy-${run}-`),
        );
        return events.length >= IN_DEBUGGER.length ? events : undefined;
      },
      30_000,
    );
    expect(captured.map((e) => String(e['messageId'])).sort()).toEqual(IN_DEBUGGER);
    for (const e of captured) expectRedacted(e['payload'] as Json);

    const stored = JSON.stringify([firehose, forward, captured]);
    for (const secret of Object.values(SECRETS)) expect(stored).not.toContain(secret);
    for (const name of ['refused', 'suppressed-user', 'suppressed-anon'])
      expect(stored).not.toContain(id(name));

    const text = await until(
      'the privacy metrics',
      async () => {
        const m = await metricsText(stack);
        return metricSum(m, 'ndc_segment_events_suppressed_total') >= 2 ? m : undefined;
      },
      30_000,
    );
    expect(metricSum(text, 'ndc_segment_events_suppressed_total', `source="${SOURCE}"`)).toBe(2);
    // firehose: advertising-only and refused; forward: analytics-only and refused.
    expect(metricSum(text, 'ndc_segment_events_consent_filtered_total', 'sink="firehose"')).toBe(2);
    expect(metricSum(text, 'ndc_segment_events_consent_filtered_total', 'sink="forward"')).toBe(2);
    expect(
      metricSum(text, 'ndc_segment_fields_redacted_total', 'action="hash"'),
    ).toBeGreaterThanOrEqual(5);
    console.log(
      `privacy e2e: sent=${EVENTS.length}; firehose=${firehose.length} (${IN_FIREHOSE.length} expected); ` +
        `forward=${forward.length} (${IN_FORWARD.length}); debugger=${captured.length} ` +
        `(${IN_DEBUGGER.length}); suppressed=2 refused=1; no secret in any stored copy`,
    );
  });
});
