// The local Segment-compatible endpoint over real HTTP on loopback, called the way the
// forwarder calls it: POST /v1/batch with the write key as HTTP Basic user name.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_EVENT_BYTES } from '../../../scripts/local-segment/protocol';
import {
  createLocalSegment,
  type LocalSegment,
  type LocalSegmentOptions,
} from '../../../scripts/local-segment/server';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function start(options: Partial<LocalSegmentOptions> = {}): Promise<LocalSegment> {
  const dataDir = await mkdtemp(join(tmpdir(), 'local-segment-'));
  const segment = await createLocalSegment({ dataDir, ...options });
  cleanups.push(async () => {
    await segment.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return segment;
}

const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

function post(segment: LocalSegment, body: unknown, key = 'dest-key'): Promise<Response> {
  return fetch(`${segment.url}/v1/batch`, {
    method: 'POST',
    headers: { Authorization: basic(key), 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const track = (id: string, pad = 0) => ({
  type: 'track',
  event: 'E',
  userId: 'u',
  messageId: id,
  ...(pad > 0 ? { pad: 'p'.repeat(pad) } : {}),
});

describe('POST /v1/batch', () => {
  it('accepts a batch, writes its events under the write key and counts them', async () => {
    const segment = await start({ writeKeys: ['dest-key'] });
    const res = await post(segment, { batch: [track('a'), track('b')] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    const lines = segment.events('dest-key').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { messageId: string }).messageId)).toEqual([
      'a',
      'b',
    ]);
    const stats = segment.stats();
    expect(stats.eventsAccepted).toBe(2);
    expect(stats.keys['dest-key']).toMatchObject({
      calls: 1,
      eventsAccepted: 2,
      maxEventsPerCall: 2,
    });
    expect(stats.keys['dest-key']?.files[0]).toMatch(/dest-key\/\d{4}\/\d{2}\/\d{2}\/\d{2}\//);
  });

  it('answers 401 without Basic auth or for a key it does not know', async () => {
    const segment = await start({ writeKeys: ['dest-key'] });
    expect((await post(segment, { batch: [track('a')] }, 'other')).status).toBe(401);
    const bare = await fetch(`${segment.url}/v1/batch`, { method: 'POST', body: '{"batch":[]}' });
    expect(bare.status).toBe(401);
    expect(segment.stats().callsByOutcome.unauthorized).toBe(2);
    expect(segment.stats().eventsAccepted).toBe(0);
  });

  it("answers 400 past Segment's limits, for bad JSON and for an item without a type", async () => {
    const segment = await start();
    expect((await post(segment, { batch: [track('big', MAX_EVENT_BYTES)] })).status).toBe(400);
    const many = Array.from({ length: 40 }, (_v, i) => track(`m${i}`, 13_000));
    expect(JSON.stringify({ batch: many }).length).toBeGreaterThan(MAX_BODY_BYTES);
    expect((await post(segment, { batch: many })).status).toBe(400);
    expect((await post(segment, '{"batch": [')).status).toBe(400);
    expect((await post(segment, { batch: [{ event: 'no type' }] })).status).toBe(400);
    expect(segment.stats().callsByOutcome.invalid).toBe(4);
  });

  it('reads a body past four times the limit only to drain it, and names its size', async () => {
    const segment = await start();
    const bytes = MAX_BODY_BYTES * 4 + 1;
    const res = await post(segment, 'x'.repeat(bytes));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      success: false,
      message: `body of ${bytes} bytes exceeds ${MAX_BODY_BYTES}`,
    });
    expect(segment.stats().callsByOutcome.invalid).toBe(1);
  });

  it('injects faults at runtime, for one write key or for all', async () => {
    const segment = await start();
    const admin = (body: unknown) =>
      fetch(`${segment.url}/_local/faults`, { method: 'POST', body: JSON.stringify(body) });
    expect((await admin({ writeKey: 'slow', throttle: 1, retryAfterSeconds: 9 })).status).toBe(200);
    const throttled = await post(segment, { batch: [track('a')] }, 'slow');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('9');
    expect((await post(segment, { batch: [track('a')] }, 'fine')).status).toBe(200);

    await admin({ error500: 1 });
    expect((await post(segment, { batch: [track('b')] }, 'fine')).status).toBe(500);
    await admin({ error500: 0, badRequest: 1 });
    expect((await post(segment, { batch: [track('b')] }, 'fine')).status).toBe(400);
    await admin({ badRequest: 0, down: 1 });
    await expect(post(segment, { batch: [track('c')] }, 'fine')).rejects.toThrow();
    await admin({ down: 0 });
    expect((await post(segment, { batch: [track('c')] }, 'fine')).status).toBe(200);
    expect(segment.stats().callsByOutcome).toMatchObject({
      throttled: 1,
      error_500: 1,
      bad_request: 1,
      down: 1,
      ok: 2,
    });
    expect((await admin({ nope: 1 })).status).toBe(400);
  });

  it('holds a stalled call, then answers 500', async () => {
    const segment = await start({ faults: { stall: 1, stallMs: 300 } });
    const started = Date.now();
    expect((await post(segment, { batch: [track('a')] })).status).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('serves its stats and the events of a key over HTTP', async () => {
    const segment = await start();
    await post(segment, { batch: [track('x')] });
    const stats = (await (await fetch(`${segment.url}/_local/stats`)).json()) as {
      eventsAccepted: number;
    };
    expect(stats.eventsAccepted).toBe(1);
    const text = await (await fetch(`${segment.url}/_local/events?writeKey=dest-key`)).text();
    expect(text).toContain('"messageId":"x"');
  });
});
