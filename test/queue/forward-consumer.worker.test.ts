// The forward queue's consumer inside workerd against the real local Segment-compatible
// endpoint (which checks the Basic write key and Segment's size limits): per-source write keys,
// batching within 500 KB, events too large dead-lettered, every retry class and the dead-letter
// path.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env';
import { FORWARD_MAX_BODY_BYTES, FORWARD_MAX_EVENT_BYTES } from '../../src/forward/limits';
import type { ConsumerDeps } from '../../src/queue/consumer';
import { forwardBatch } from '../../src/queue/forward-consumer';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { FORWARD_QUEUE_MAX_RETRIES } from '../../src/queue/retry';
import {
  forwardEndpoint,
  forwardedEvents,
  keyStats,
  setKeyFaults,
  uniqueKey,
} from '../support/segment';
import { captureErrors } from '../support/console';
import { recordingQueue } from '../support/worker';

const RECEIVED = Date.parse('2026-11-29T10:00:00.000Z');
const deps: ConsumerDeps = { now: () => RECEIVED + 1000, random: () => 0.5, newId: () => 'id' };

/** A forward queue message of `source`; an id `name:N` pads that event with N bytes. */
function copy(source: string, ids: string[], padAll = 0): string {
  const events = ids.map((spec) => {
    const [id = spec, own] = spec.split(':');
    const pad = own === undefined ? padAll : Number(own);
    return {
      line: JSON.stringify({
        type: 'track',
        event: 'E',
        messageId: id,
        source,
        receivedAt: '2026-11-29T10:00:00.000Z',
        sentAt: '2026-11-29T10:00:00.500Z',
        timestamp: '2026-11-29T09:59:59.000Z',
        context: { ip: '203.0.113.7' },
        ...(pad > 0 ? { pad: 'p'.repeat(pad) } : {}),
      }),
      messageId: id,
    };
  });
  const [m] = packMessages(events, { source, receivedAt: RECEIVED }, Number.MAX_SAFE_INTEGER);
  if (m === undefined) throw new Error('pack');
  return m.body;
}

interface Run {
  result: FetcherQueueResult;
  delays: Map<string, number | undefined>;
  report: Awaited<ReturnType<typeof forwardBatch>>;
  dlq: ReturnType<typeof recordingQueue>;
}

async function run(
  bodies: unknown[],
  overrides: Partial<Env>,
  options: { attempts?: number; dlq?: ReturnType<typeof recordingQueue> } = {},
): Promise<Run> {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-forward',
    bodies.map((body, i) => ({
      id: `f${i}`,
      timestamp: new Date(RECEIVED),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  const delays = new Map<string, number | undefined>();
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    vi.spyOn(m, 'retry').mockImplementation((o) => {
      delays.set(m.id, o?.delaySeconds);
      retry(o);
    });
  }
  const dlq = options.dlq ?? recordingQueue();
  const testEnv = {
    ...(env as unknown as Env),
    FORWARD_ENDPOINT: forwardEndpoint(),
    FORWARD_DLQ: dlq.queue as Queue<unknown>,
    ...overrides,
  };
  const report = await forwardBatch(batch, testEnv, deps);
  return { result: await getQueueResult(batch, ctx), delays, report, dlq };
}

const ids = (events: Array<Record<string, unknown>>): string[] =>
  events.map((e) => String(e['messageId'])).sort();

describe('forwardBatch', () => {
  it("posts each source's events with its own destination write key, and acks", async () => {
    const web = uniqueKey('web');
    const ios = uniqueKey('ios');
    const { result, report } = await run(
      [copy('web', ['a', 'b']), copy('ios', ['c']), copy('web', ['d'])],
      { FORWARD_WRITE_KEYS: `web=${web},ios=${ios}` },
    );
    expect(result.explicitAcks.sort()).toEqual(['f0', 'f1', 'f2']);
    expect(ids(await forwardedEvents(web))).toEqual(['a', 'b', 'd']);
    expect(ids(await forwardedEvents(ios))).toEqual(['c']);
    // One call per source: messages of one source share a call.
    expect((await keyStats(web))?.calls).toBe(1);
    expect(report).toEqual({
      events: [
        { source: 'web', outcome: 'ok', events: 3 },
        { source: 'ios', outcome: 'ok', events: 1 },
      ],
      okCalls: 2,
      failedCalls: [],
      notConfigured: 0,
    });
  });

  it('forwards events as delivered, less source, receivedAt and sentAt', async () => {
    const key = uniqueKey('shape');
    await run([copy('web', ['s1'])], { FORWARD_WRITE_KEYS: `web=${key}` });
    const [event] = await forwardedEvents(key);
    expect(event).toEqual({
      type: 'track',
      event: 'E',
      messageId: 's1',
      timestamp: '2026-11-29T09:59:59.000Z',
      context: { ip: '203.0.113.7' },
    });
  });

  it('keeps every call within 500,000 bytes, a message whole in one call', async () => {
    const key = uniqueKey('big');
    // 40 messages of 3 events of ~6 KB: ~720 KB, so at least two calls.
    const bodies = Array.from({ length: 40 }, (_v, m) =>
      copy('web', [`m${m}-0`, `m${m}-1`, `m${m}-2`], 6_000),
    );
    const { result } = await run(bodies, { FORWARD_WRITE_KEYS: `web=${key}` });
    expect(result.explicitAcks).toHaveLength(40);
    const stats = await keyStats(key);
    expect(stats?.calls).toBeGreaterThan(1);
    expect(stats?.maxBodyBytes).toBeLessThanOrEqual(FORWARD_MAX_BODY_BYTES);
    expect(stats?.maxBodyBytes).toBeGreaterThan(FORWARD_MAX_BODY_BYTES * 0.9);
    const landed = ids(await forwardedEvents(key));
    expect(landed).toHaveLength(120);
    expect(new Set(landed).size).toBe(120);
  });

  it('dead-letters an event over 32,000 bytes with its reason, sends the rest, and acks', async () => {
    const key = uniqueKey('too-large');
    const big = copy('web', ['mid', `huge:${FORWARD_MAX_EVENT_BYTES}`]);
    const { result, report, dlq } = await run([copy('web', ['small']), big], {
      FORWARD_WRITE_KEYS: `web=${key}`,
    });
    expect(result.explicitAcks.sort()).toEqual(['f0', 'f1']);
    expect(ids(await forwardedEvents(key))).toEqual(['mid', 'small']);
    const letters = dlq.calls.flat().map((b) => decodeMessage(b));
    expect(letters.map((l) => l?.header.ids)).toEqual([['huge']]);
    expect(letters[0]?.header.deadLetter?.reason).toMatch(
      /^event_too_large: \d+ bytes, over the destination's 32000$/,
    );
    expect(report.events).toContainEqual({ source: 'web', outcome: 'dead_lettered', events: 1 });
    expect(report.events).toContainEqual({ source: 'web', outcome: 'ok', events: 2 });
  });

  it('retries a message whose too-large event the forward DLQ refused, never acking it unsent', async () => {
    const key = uniqueKey('too-large-dlq-down');
    const errors = captureErrors();
    const { result } = await run(
      [copy('web', [`huge:${FORWARD_MAX_EVENT_BYTES}`])],
      { FORWARD_WRITE_KEYS: `web=${key}` },
      { dlq: recordingQueue({ fail: true }) },
    );
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['f0']);
    expect(errors).toHaveBeenCalledWith('forward dead-letter send failed', expect.any(String));
  });

  it('retries a 429 after the Retry-After it was given', async () => {
    const key = uniqueKey('throttled');
    await setKeyFaults(key, { throttle: 1, retryAfterSeconds: 37 });
    const { result, delays, report } = await run([copy('web', ['a'])], {
      FORWARD_WRITE_KEYS: `web=${key}`,
    });
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['f0']);
    expect(delays.get('f0')).toBe(37);
    expect(report.failedCalls).toEqual(['http_429']);
    expect(report.events).toEqual([{ source: 'web', outcome: 'retried', events: 1 }]);
  });

  it('retries a 500 with backoff', async () => {
    const key = uniqueKey('e500');
    await setKeyFaults(key, { error500: 1 });
    const { result, delays } = await run([copy('web', ['a']), copy('web', ['b'])], {
      FORWARD_WRITE_KEYS: `web=${key}`,
    });
    expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual(['f0', 'f1']);
    // attempts 1 with random 0.5: between half and all of the 2 s base delay, rounded up.
    expect([delays.get('f0'), delays.get('f1')]).toEqual([2, 2]);
    expect(await forwardedEvents(key)).toEqual([]);
  });

  it('abandons a call after FORWARD_TIMEOUT_SECONDS and retries it', async () => {
    const key = uniqueKey('stall');
    await setKeyFaults(key, { stall: 1, stallMs: 5_000 });
    const { result, report } = await run([copy('web', ['a'])], {
      FORWARD_WRITE_KEYS: `web=${key}`,
      FORWARD_TIMEOUT_SECONDS: '1',
    });
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['f0']);
    expect(report.failedCalls).toEqual(['Timeout']);
  });

  it('retries on a network error: the endpoint down', async () => {
    const key = uniqueKey('down');
    await setKeyFaults(key, { down: 1 });
    const { result, report } = await run([copy('web', ['a'])], {
      FORWARD_WRITE_KEYS: `web=${key}`,
    });
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['f0']);
    expect(report.failedCalls).toEqual(['NetworkError']);
    const refused = await run([copy('web', ['a'])], {
      FORWARD_WRITE_KEYS: `web=${key}`,
      FORWARD_ENDPOINT: 'http://127.0.0.1:9/v1/batch',
    });
    expect(refused.report.failedCalls).toEqual(['NetworkError']);
  });

  it('dead-letters, with the reason, a batch the endpoint refuses with a 400', async () => {
    const key = uniqueKey('refused');
    await setKeyFaults(key, { badRequest: 1 });
    const big = copy('web', ['b', `huge:${FORWARD_MAX_EVENT_BYTES}`]);
    const { result, dlq, report } = await run([copy('web', ['a']), big], {
      FORWARD_WRITE_KEYS: `web=${key}`,
    });
    // Both messages were in the refused call (the huge event was left out, b was sent).
    expect(result.explicitAcks.sort()).toEqual(['f0', 'f1']);
    expect(result.retryMessages).toEqual([]);
    const letters = dlq.calls.flat().map((b) => decodeMessage(b));
    expect(letters.map((l) => l?.header.deadLetter?.reason)).toEqual([
      'http_400: {"success":false,"message":"Bad request (injected)"}',
      'http_400: {"success":false,"message":"Bad request (injected)"}',
    ]);
    // A letter keeps every event of its message, the one no call carried too.
    expect(letters.map((l) => l?.header.ids)).toEqual([['a'], ['b', 'huge']]);
    expect(report.events).toEqual([{ source: 'web', outcome: 'dead_lettered', events: 3 }]);
  });

  it('dead-letters after the last attempt instead of retrying forever', async () => {
    const key = uniqueKey('exhausted');
    await setKeyFaults(key, { error500: 1 });
    const { result, dlq } = await run(
      [copy('web', ['a'])],
      { FORWARD_WRITE_KEYS: `web=${key}` },
      { attempts: FORWARD_QUEUE_MAX_RETRIES + 1 },
    );
    expect(result.explicitAcks).toEqual(['f0']);
    expect(decodeMessage(dlq.calls.flat()[0])?.header.deadLetter?.reason).toBe(
      'retries_exhausted: http_500',
    );
    const before = await run(
      [copy('web', ['a'])],
      { FORWARD_WRITE_KEYS: `web=${key}` },
      { attempts: FORWARD_QUEUE_MAX_RETRIES },
    );
    expect(before.result.retryMessages.map((r) => r.msgId)).toEqual(['f0']);
  });

  it('retries instead of acking when the dead-letter send fails', async () => {
    const key = uniqueKey('dlq-down');
    await setKeyFaults(key, { badRequest: 1 });
    const errors = captureErrors();
    const { result, report } = await run(
      [copy('web', ['a'])],
      { FORWARD_WRITE_KEYS: `web=${key}` },
      { dlq: recordingQueue({ fail: true }) },
    );
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(['f0']);
    expect(report.events).toEqual([{ source: 'web', outcome: 'retried', events: 1 }]);
    expect(errors).toHaveBeenCalledWith(
      'forward dead-letter send failed',
      'Queue sendBatch failed: simulated outage',
    );
  });

  it('retries, calling nothing, while forwarding is off or a source has no write key', async () => {
    const off = await run([copy('web', ['a'])], { FORWARD_ENDPOINT: '' });
    expect(off.result.retryMessages.map((r) => r.msgId)).toEqual(['f0']);
    expect(off.report.notConfigured).toBe(1);
    expect(off.dlq.calls).toEqual([]);
    const unkeyed = await run([copy('android', ['a'])], { FORWARD_WRITE_KEYS: 'web=k' });
    expect(unkeyed.result.retryMessages.map((r) => r.msgId)).toEqual(['f0']);
    expect(unkeyed.report).toMatchObject({ okCalls: 0, failedCalls: [], notConfigured: 1 });
  });

  it('dead-letters a message that is not ours, as it came', async () => {
    const { result, dlq } = await run(['not a queue message'], { FORWARD_WRITE_KEYS: 'web=k' });
    expect(result.explicitAcks).toEqual(['f0']);
    expect(dlq.calls.flat()).toEqual(['not a queue message']);
  });
});
