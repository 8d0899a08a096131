// Bodies: media types, gzip (and gzip bombs), UTF-8, JSON, and the size limits at and just
// over each edge, with and without Content-Length.
import { describe, expect, it, vi } from 'vitest';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { BODY_READ_TIMEOUT_MS } from '../../src/routes/body';
import { BATCH_MAX_BYTES, BATCH_MAX_EVENTS, EVENT_MAX_BYTES } from '../../src/segment/limits';
import { VALID_CALLS, callOfSize } from '../fixtures/calls';
import { basic, fixedDeps, gzip, harness, jsonPost } from '../support/worker';

const AUTH = { Authorization: basic('test-key-1') };

async function code(res: Response): Promise<[number, string]> {
  const json = await res.json<{ error?: { code: string } }>();
  return [res.status, json.error?.code ?? 'ok'];
}

/** A body with no Content-Length: the runtime sends it chunked. */
function chunked(text: string | Uint8Array): ReadableStream<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
      controller.close();
    },
  });
}

describe('media types', () => {
  it.each([
    ['application/json', 200],
    ['application/json; charset=utf-8', 200],
    ['text/plain', 200],
    ['text/plain;charset=UTF-8', 200],
    ['application/x-www-form-urlencoded', 200],
    ['application/vnd.segment+json', 200],
    ['application/xml', 415],
    ['multipart/form-data; boundary=x', 415],
  ])('Content-Type %s → %i', async (type, status) => {
    const h = harness();
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': type },
      body: JSON.stringify(VALID_CALLS.track),
    });
    expect(res.status).toBe(status);
    if (status === 415) expect((await code(res))[1]).toBe('unsupported_media_type');
  });

  it('accepts a body without Content-Type', async () => {
    const h = harness();
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify(VALID_CALLS.track),
    });
    expect(res.status).toBe(200);
  });
});

describe('bodies that are not a call', () => {
  it.each([
    ['invalid JSON', '{"type": "track",', 400, 'invalid_json'],
    ['an empty body', '', 400, 'invalid_body'],
    ['a JSON string', '"hello"', 400, 'invalid_body'],
  ])('answers %s with %i %s', async (_n, body, status, reason) => {
    const h = harness();
    expect(await code(await h.fetch('/v1/track', jsonPost(body, AUTH)))).toEqual([status, reason]);
  });

  it('answers invalid UTF-8 with 400 invalid_encoding', async () => {
    const h = harness();
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"anonymousId":"'),
      0xc3,
      0x28,
      ...new TextEncoder().encode('","event":"x"}'),
    ]);
    expect(
      await code(await h.fetch('/v1/track', { method: 'POST', headers: AUTH, body: bytes })),
    ).toEqual([400, 'invalid_encoding']);
  });

  it('does not echo the body in a JSON error', async () => {
    const h = harness();
    const res = await h.fetch('/v1/track', jsonPost('{"writeKey":"test-key-1" oops', AUTH));
    expect(await res.text()).not.toContain('test-key-1');
  });
});

describe('gzip', () => {
  it('inflates a gzip body', async () => {
    const h = harness();
    const res = await h.fetch('/v1/batch', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: await gzip(JSON.stringify({ batch: [VALID_CALLS.track, VALID_CALLS.identify] })),
    });
    expect(res.status).toBe(200);
    expect(h.queue.events()).toHaveLength(2);
  });

  it('refuses a gzip bomb (10 KB inflating to 10 MB) with 413 without inflating it all', async () => {
    const h = harness();
    const bomb = await gzip(new Uint8Array(10 * 1024 * 1024).fill(0x20));
    expect(bomb.length).toBeLessThan(20_000);
    const res = await h.fetch('/v1/batch', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Encoding': 'gzip' },
      body: bomb,
    });
    expect(await code(res)).toEqual([413, 'payload_too_large']);
    expect(h.queue.calls).toHaveLength(0);
  });

  it('refuses, with 413, a chunked gzip body over the limit as sent that inflates to a tiny call', async () => {
    // RFC 1952: FCOMMENT (flag 0x10) adds a zero-terminated comment after the 10-byte header,
    // which inflation skips. 40 KB of comment, then a valid 100-byte call.
    const member = await gzip(JSON.stringify(VALID_CALLS.track));
    const comment = new Uint8Array(40_000).fill(0x61);
    const padded = new Uint8Array(member.length + comment.length + 1);
    padded.set(member.subarray(0, 10), 0);
    padded[3] = (padded[3] ?? 0) | 0x10;
    padded.set(comment, 10);
    padded.set(member.subarray(10), 10 + comment.length + 1);
    const metrics = new MetricsBuffer();
    const h = harness({ deps: fixedDeps(undefined, metrics) });
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Encoding': 'gzip' },
      body: chunked(padded),
    });
    expect(await code(res)).toEqual([413, 'payload_too_large']);
    expect(h.queue.calls).toHaveLength(0);
    // The same body under the limit as sent is inflated and counted in both sizes.
    const small = new Uint8Array(padded.length - 39_000);
    small.set(padded.subarray(0, 1010), 0);
    small[1010] = 0;
    small.set(member.subarray(10), 1011);
    const ok = await h.fetch('/v1/track', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Encoding': 'gzip' },
      body: chunked(small.subarray(0, 1011 + member.length - 10)),
    });
    expect(ok.status).toBe(200);
    expect(metrics.drain().counters['ndc_segment_request_compressed_bytes_total']).toBe(
      1011 + member.length - 10,
    );
  });

  it('answers truncated gzip with 400 invalid_gzip', async () => {
    const h = harness();
    const whole = await gzip(JSON.stringify(VALID_CALLS.track));
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Encoding': 'gzip' },
      body: whole.slice(0, whole.length - 6),
    });
    expect(await code(res)).toEqual([400, 'invalid_gzip']);
  });

  it('answers plain text labelled gzip with 400 invalid_gzip', async () => {
    const h = harness();
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Encoding': 'gzip' },
      body: JSON.stringify(VALID_CALLS.track),
    });
    expect(await code(res)).toEqual([400, 'invalid_gzip']);
  });

  it('answers an unknown Content-Encoding with 415', async () => {
    const h = harness();
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Encoding': 'br' },
      body: 'x',
    });
    expect(await code(res)).toEqual([415, 'unsupported_encoding']);
  });
});

describe('size limits', () => {
  const atLimit = JSON.stringify(callOfSize(VALID_CALLS.track, EVENT_MAX_BYTES));
  const overLimit = JSON.stringify(callOfSize(VALID_CALLS.track, EVENT_MAX_BYTES + 1));

  it('accepts a single call of exactly 32 KiB', async () => {
    const h = harness();
    expect(atLimit.length).toBe(EVENT_MAX_BYTES);
    expect((await h.fetch('/v1/track', jsonPost(atLimit, AUTH))).status).toBe(200);
  });

  it('refuses a single call one byte over 32 KiB with 413 from Content-Length', async () => {
    const h = harness();
    expect(await code(await h.fetch('/v1/track', jsonPost(overLimit, AUTH)))).toEqual([
      413,
      'payload_too_large',
    ]);
  });

  it('refuses a chunked single call one byte over 32 KiB with 413 while streaming', async () => {
    const h = harness();
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: AUTH,
      body: chunked(overLimit),
    });
    expect(await code(res)).toEqual([413, 'payload_too_large']);
  });

  it('accepts a chunked single call of exactly 32 KiB', async () => {
    const h = harness();
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: AUTH,
      body: chunked(atLimit),
    });
    expect(res.status).toBe(200);
  });

  it('refuses a single call over 32 KiB after gzip inflation', async () => {
    const h = harness();
    const res = await h.fetch('/v1/track', {
      method: 'POST',
      headers: { ...AUTH, 'Content-Encoding': 'gzip' },
      body: await gzip(overLimit),
    });
    expect(await code(res)).toEqual([413, 'payload_too_large']);
  });

  function batchOfSize(bytes: number): string {
    const item = callOfSize(VALID_CALLS.track, 20_000);
    const items = new Array(Math.floor(bytes / 20_001)).fill(item);
    const envelope = { batch: items, pad: '' };
    envelope.pad = 'p'.repeat(bytes - JSON.stringify(envelope).length);
    const text = JSON.stringify(envelope);
    if (text.length !== bytes) throw new Error('sizing');
    return text;
  }

  it('accepts a batch of exactly 500 KiB', async () => {
    const h = harness();
    const res = await h.fetch('/v1/batch', jsonPost(batchOfSize(BATCH_MAX_BYTES), AUTH));
    expect(res.status).toBe(200);
  });

  it('refuses a batch one byte over 500 KiB with 413, with or without Content-Length', async () => {
    const h = harness();
    const text = batchOfSize(BATCH_MAX_BYTES + 1);
    expect(await code(await h.fetch('/v1/batch', jsonPost(text, AUTH)))).toEqual([
      413,
      'payload_too_large',
    ]);
    const streamed = await h.fetch('/v1/batch', {
      method: 'POST',
      headers: AUTH,
      body: chunked(text),
    });
    expect(await code(streamed)).toEqual([413, 'payload_too_large']);
    expect(h.queue.calls).toHaveLength(0);
  });

  it('accepts 2,500 events and refuses 2,501 with 413', async () => {
    const h = harness();
    const item = { type: 'track', userId: 'u', event: 'e' };
    const ok = await h.fetch(
      '/v1/batch',
      jsonPost({ batch: new Array(BATCH_MAX_EVENTS).fill(item) }, AUTH),
    );
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ success: true, accepted: BATCH_MAX_EVENTS });
    expect(h.queue.events()).toHaveLength(BATCH_MAX_EVENTS);
    const over = await h.fetch(
      '/v1/batch',
      jsonPost({ batch: new Array(BATCH_MAX_EVENTS + 1).fill(item) }, AUTH),
    );
    expect(await code(over)).toEqual([413, 'too_many_events']);
  });

  it('rejects only the oversized item inside an acceptable batch', async () => {
    const h = harness();
    const res = await h.fetch(
      '/v1/batch',
      jsonPost({ batch: [VALID_CALLS.track, JSON.parse(overLimit), JSON.parse(atLimit)] }, AUTH),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      success: true,
      accepted: 2,
      rejected: [
        {
          index: 1,
          code: 'event_too_large',
          message: `an event is at most ${EVENT_MAX_BYTES} bytes`,
        },
      ],
    });
  });
});

describe('slow bodies', () => {
  it('answers 408 when a body with a declared Content-Length stalls', async () => {
    vi.useFakeTimers();
    try {
      const h = harness();
      const { readable, writable } = new FixedLengthStream(100);
      const writer = writable.getWriter();
      void writer.write(new TextEncoder().encode('{"type":"track",'));
      const pending = h.fetch('/v1/track', {
        method: 'POST',
        headers: { ...AUTH, 'Content-Length': '100' },
        body: readable,
      });
      await vi.advanceTimersByTimeAsync(BODY_READ_TIMEOUT_MS + 1);
      expect(await code(await pending)).toEqual([408, 'request_timeout']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('answers 408 when the body stalls, instead of hanging', async () => {
    vi.useFakeTimers();
    try {
      const h = harness();
      const stalled = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"type":"track",'));
          // Never closed: the sender stalls mid-body.
        },
      });
      const pending = h.fetch('/v1/track', { method: 'POST', headers: AUTH, body: stalled });
      await vi.advanceTimersByTimeAsync(BODY_READ_TIMEOUT_MS + 1);
      const res = await pending;
      expect(await code(res)).toEqual([408, 'request_timeout']);
    } finally {
      vi.useRealTimers();
    }
  });
});
