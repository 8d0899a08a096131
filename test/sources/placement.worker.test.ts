// Routes against a real env inside workerd: a route's queues carry its source's events and no
// other's, a route naming a binding this Worker lacks fails the first request with the name,
// and a routed source's Durable Objects live apart (its jurisdiction's namespace).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { resolvePlacement } from '../../src/sources/placement';
import { VALID_CALLS } from '../fixtures/calls';
import { captureErrors } from '../support/console';
import { basic, harness, jsonPost, recordingQueue } from '../support/worker';

const base = env as unknown as Env;
const WRITE_KEYS = 'key-eu=eu-web,key-us=us-web';
const ROUTES = JSON.stringify({
  'eu-web': {
    region: 'eu-west-1',
    streams: ['eu-events-1'],
    queues: ['EVENTS_EU'],
    jurisdiction: 'eu',
  },
});

describe('routes at ingest', () => {
  it("puts a routed source's events on its route's queues only, and no other source's", async () => {
    const eu = recordingQueue();
    const h = harness();
    const overrides = { WRITE_KEYS, FIREHOSE_ROUTES: ROUTES, EVENTS_EU: eu.queue } as Partial<Env>;
    for (let i = 0; i < 20; i++) {
      for (const key of ['key-eu', 'key-us']) {
        const res = await h.fetch(
          '/v1/track',
          jsonPost(VALID_CALLS.track, { Authorization: basic(key) }),
          overrides,
        );
        expect(res.status).toBe(200);
      }
    }
    expect(eu.events().map((e) => e['source'])).toEqual(Array(20).fill('eu-web'));
    expect(h.queue.events().map((e) => e['source'])).toEqual(Array(20).fill('us-web'));
  });

  it('fails the first request with the name of a binding a route names and the Worker lacks', async () => {
    const h = harness();
    const errors = captureErrors();
    const res = await h.fetch(
      '/v1/track',
      jsonPost(VALID_CALLS.track, { Authorization: basic('key-us') }),
      { WRITE_KEYS, FIREHOSE_ROUTES: ROUTES },
    );
    expect(errors).toHaveBeenCalledWith('FIREHOSE_ROUTES', expect.stringContaining('EVENTS_EU'));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      success: false,
      error: {
        code: 'misconfigured',
        message:
          'FIREHOSE_ROUTES["eu-web"].queues names EVENTS_EU, which is not a queue producer binding of this Worker',
      },
    });
    expect(h.queue.calls).toHaveLength(0);
  });
});

describe('resolvePlacement', () => {
  it('names a missing archive binding, and accepts the bound one', () => {
    const missing = resolvePlacement({
      ...base,
      FIREHOSE_ROUTES: { 'eu-web': { streams: ['s'], archive: 'ARCHIVE_EU' } },
    });
    expect(!missing.ok && missing.error).toBe(
      'FIREHOSE_ROUTES["eu-web"].archive names ARCHIVE_EU, which is not an R2 binding of this Worker',
    );
    const bound = resolvePlacement({
      ...base,
      ARCHIVE_EU: base.ARCHIVE,
      FIREHOSE_ROUTES: { 'eu-web': { streams: ['s'], archive: 'ARCHIVE_EU' } },
    } as Env);
    if (!bound.ok) throw new Error(bound.error);
    expect(bound.value.archiveFor('eu-web').name).toBe('ARCHIVE_EU');
    expect(bound.value.archiveFor('other').name).toBe('ARCHIVE');
  });

  it("gives a routed source its region and streams, the others AWS_REGION and FIREHOSE_STREAM's", () => {
    const resolved = resolvePlacement({
      ...base,
      AWS_REGION: 'us-east-2',
      FIREHOSE_STREAM: 'main-1, main-2',
      FIREHOSE_ROUTES: {
        'eu-web': { region: 'eu-west-1', streams: ['eu-1'] },
        big: { streams: ['b'] },
      },
    });
    if (!resolved.ok) throw new Error(resolved.error);
    expect(resolved.value.firehoseFor('eu-web')).toEqual({
      region: 'eu-west-1',
      streams: ['eu-1'],
    });
    expect(resolved.value.firehoseFor('big')).toEqual({ region: 'us-east-2', streams: ['b'] });
    expect(resolved.value.firehoseFor('web')).toEqual({
      region: 'us-east-2',
      streams: ['main-1', 'main-2'],
    });
  });

  it("keeps a routed source's Durable Objects apart from the unrestricted ones", async () => {
    const resolved = resolvePlacement({
      ...base,
      FIREHOSE_ROUTES: { 'eu-web': { streams: ['s'], jurisdiction: 'eu' } },
    });
    if (!resolved.ok) throw new Error(resolved.error);
    const eu = resolved.value.dedupeFor('eu');
    const plain = resolved.value.dedupeFor(undefined);
    if (eu === undefined || plain === undefined) throw new Error('no DEDUPE');
    // workerd outside Cloudflare has no jurisdictions: a namespace of the route's own stands in.
    expect(eu.idFromName('shard-0').equals(plain.idFromName('shard-0'))).toBe(false);
    expect(resolved.value.debuggerFor('eu-web')).not.toBe(resolved.value.debuggerFor('web'));
  });
});
