// Hostile input against the running Worker (wrangler dev, real queues, local Firehose): every
// class is answered with the right 4xx and a JSON reason, never a 500 and never a hang, and the
// good events sent alongside are all delivered. Then no secret appears in any queued event,
// Firehose record, log line or error body.
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../scripts/stack';
import {
  basic,
  landed,
  landedText,
  SEED_KEY,
  startTestStack,
  waitForAll,
  type TestStack,
} from './support';

const ADMIN_TOKEN = 'e2e-admin-token-do-not-leak';
const METRICS_TOKEN = 'e2e-metrics-token-do-not-leak';
const SECOND_KEY = 'e2e-second-write-key-do-not-leak';

interface Answer {
  status: number;
  text: string;
}

/** One request over raw HTTP: full control of framing, headers and pacing. */
function send(
  stack: TestStack,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    chunks?: Array<Buffer | string>;
    pauseMs?: number;
  },
): Promise<Answer> {
  const url = new URL(stack.workerUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'POST',
        headers: options.headers ?? {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${path} within 30 s`)));
    const chunks = options.chunks ?? [];
    if (options.pauseMs === undefined) {
      for (const c of chunks) req.write(c);
      req.end();
    } else {
      // A slow sender: the first chunk, then nothing.
      if (chunks[0] !== undefined) req.write(chunks[0]);
    }
  });
}

const json = (
  body: unknown,
  extra: Record<string, string> = {},
): { headers: Record<string, string>; chunks: string[] } => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    headers: {
      Authorization: basic(SEED_KEY),
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
      ...extra,
    },
    chunks: [text],
  };
};

const ISO =
  /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$/;
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): boolean =>
  (typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isFinite(v));

/**
 * Whether README "Validation" accepts a track call `{type, event, userId}` with `field` set to
 * `value` as received (after JSON): the test's oracle, written from the README, not the code.
 */
function acceptedByReadme(field: string, value: unknown): boolean {
  const absent = value === undefined || value === null;
  switch (field) {
    case 'type':
      return absent || value === 'track';
    case 'userId':
      // Without userId (null), there is no anonymousId either.
      return !absent && isId(value);
    case 'anonymousId':
      return absent || isId(value);
    case 'event':
      return typeof value === 'string' && value.length > 0;
    case 'properties':
    case 'context':
    case 'integrations':
      return value === undefined || isObject(value);
    case 'timestamp':
    case 'sentAt':
      return (
        value === undefined ||
        (typeof value === 'string' &&
          ISO.test(value) &&
          !Number.isNaN(Date.parse(value.replace(' ', 'T'))))
      );
    case 'messageId':
      return absent || (typeof value === 'string' && value.length > 0 && value.length <= 256);
    default:
      return true;
  }
}

describe('hostile input against the running Worker', () => {
  let stack: TestStack;
  const tally = new Map<string, { tried: number; statuses: Set<number> }>();
  const errorBodies: string[] = [];
  const good: string[] = [];

  /** Sends one hostile input, checks it is a clean refusal (or acceptance), and counts it. */
  async function probe(cls: string, allowed: number[], answer: Promise<Answer>): Promise<Answer> {
    const a = await answer;
    const entry = tally.get(cls) ?? { tried: 0, statuses: new Set<number>() };
    entry.tried += 1;
    entry.statuses.add(a.status);
    tally.set(cls, entry);
    expect(allowed, `${cls}: ${a.status} ${a.text.slice(0, 200)}`).toContain(a.status);
    const body = JSON.parse(a.text) as {
      success: boolean;
      error?: { code: string; message: string };
    };
    if (a.status >= 400) {
      expect(body.error?.code, cls).toMatch(/^[a-z_]+$/);
      errorBodies.push(a.text);
    }
    return a;
  }

  /** A good event between hostile ones: it must land. */
  async function goodEvent(): Promise<void> {
    const messageId = `good-${good.length}`;
    good.push(messageId);
    const a = await send(
      stack,
      '/v1/track',
      json({ type: 'track', event: 'Good', userId: 'u', messageId }),
    );
    expect(a.status).toBe(200);
  }

  beforeAll(async () => {
    stack = await startTestStack({
      stream: 'e2e-hostile',
      writeKeys: `${SEED_KEY}=ndc-demo,${SECOND_KEY}=second`,
      vars: { ADMIN_TOKEN, METRICS_TOKEN },
    });
  });
  afterAll(async () => {
    console.log(
      'hostile e2e: ' +
        [...tally]
          .map(([cls, t]) => `${cls}=${t.tried}[${[...t.statuses].sort().join('/')}]`)
          .join(' '),
    );
    await stack?.cleanup();
  });

  it('answers random JSON and wrong-typed fields with clean 4xx, never 500', async () => {
    const paths = [
      '/v1/track',
      '/v1/identify',
      '/v1/page',
      '/v1/batch',
      '/v1/b',
      '/v1/alias',
      '/v1/group',
    ];
    const randomJson = fc.sample(
      fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 4 })),
      { numRuns: 150, seed: 1 },
    );
    for (const [path, value] of randomJson) {
      // No random JSON value is a valid call (each needs a type or route, an id and, for track,
      // an event): the README promises a 4xx with a reason, never a 200.
      await probe('random-json', [400, 413], send(stack, path, json(value)));
    }
    await goodEvent();
    const fields = [
      'type',
      'userId',
      'anonymousId',
      'event',
      'properties',
      'context',
      'integrations',
      'timestamp',
      'sentAt',
      'messageId',
    ];
    const wrongTypes = fc.sample(
      fc.tuple(fc.constantFrom(...fields), fc.anything({ maxDepth: 2 })),
      { numRuns: 150, seed: 2 },
    );
    for (const [field, value] of wrongTypes) {
      const call = { type: 'track', event: 'e', userId: 'u', [field]: value };
      const text = JSON.stringify(call) ?? '{}';
      // What reaches the Worker is the JSON: undefined values and functions vanish from it.
      const sent = (JSON.parse(text) as Record<string, unknown>)[field];
      await probe(
        'wrong-type',
        [acceptedByReadme(field, sent) ? 200 : 400],
        send(stack, '/v1/track', json(text)),
      );
    }
    await goodEvent();
  });

  it('refuses huge strings and arrays by size, and survives deep nesting', async () => {
    await probe(
      'huge',
      [413],
      send(
        stack,
        '/v1/track',
        json({ type: 'track', event: 'e', userId: 'u', properties: { s: 'x'.repeat(40_000) } }),
      ),
    );
    // Its only item is over 32 KiB: rejected alone, and a batch with no valid item is a 400.
    await probe(
      'huge',
      [400],
      send(
        stack,
        '/v1/batch',
        json({
          batch: [
            {
              type: 'track',
              event: 'e',
              userId: 'u',
              properties: { a: new Array(200_000).fill(1) },
            },
          ],
        }),
      ),
    );
    await probe(
      'huge',
      [200],
      send(
        stack,
        '/v1/batch',
        json({
          batch: [
            {
              type: 'track',
              event: 'e',
              userId: 'u',
              properties: { a: new Array(20_000).fill(1) },
            },
            { type: 'track', event: 'ok', userId: 'u' },
          ],
        }),
      ),
    );
    // Nesting is accepted while the event is within 32 KiB (100,000 levels are 200 KB: that
    // item is rejected, and a batch without a valid item is a 400).
    for (const [depth, status] of [
      [1_000, 200],
      [10_000, 200],
      [100_000, 400],
    ] as const) {
      const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      await probe(
        'deep-nesting',
        [status],
        send(
          stack,
          '/v1/batch',
          json(`{"batch":[{"type":"track","event":"e","userId":"u","properties":{"x":${deep}}}]}`),
        ),
      );
    }
    await goodEvent();
  });

  it('keeps __proto__ and constructor keys as plain data', async () => {
    const messageId = 'proto-1';
    const body = `{"type":"track","event":"e","userId":"u","messageId":"${messageId}","properties":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}},"context":{"__proto__":{"ip":"6.6.6.6"}}}`;
    await probe('proto-keys', [200], send(stack, '/v1/track', json(body)));
    good.push(messageId);
  });

  it('refuses broken encodings: invalid UTF-8, truncated gzip, gzip bombs', async () => {
    const invalid = Buffer.concat([
      Buffer.from('{"type":"track","event":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('","userId":"u"}'),
    ]);
    await probe(
      'invalid-utf8',
      [400],
      send(stack, '/v1/track', {
        headers: { Authorization: basic(SEED_KEY), 'Content-Length': String(invalid.length) },
        chunks: [invalid],
      }),
    );
    const zipped = gzipSync(
      JSON.stringify({ batch: [{ type: 'track', event: 'e', userId: 'u' }] }),
    );
    for (const cut of [5, 12, zipped.length - 4]) {
      const part = zipped.subarray(0, cut);
      await probe(
        'truncated-gzip',
        [400],
        send(stack, '/v1/batch', {
          headers: {
            Authorization: basic(SEED_KEY),
            'Content-Encoding': 'gzip',
            'Content-Length': String(part.length),
          },
          chunks: [part],
        }),
      );
    }
    for (const size of [1, 10, 100]) {
      const bomb = gzipSync(Buffer.alloc(size * 1024 * 1024, 0x20));
      await probe(
        'gzip-bomb',
        [413],
        send(stack, '/v1/batch', {
          headers: {
            Authorization: basic(SEED_KEY),
            'Content-Encoding': 'gzip',
            'Content-Length': String(bomb.length),
          },
          chunks: [bomb],
        }),
      );
    }
    await goodEvent();
  });

  it('refuses missing, garbled and oversized Authorization, and wrong Content-Types', async () => {
    const call = { type: 'track', event: 'e', userId: 'u' };
    for (const auth of [
      undefined,
      'Basic',
      'Basic !!!!',
      'Bearer x',
      `Basic ${'A'.repeat(9_000)}`,
      basic('unknown-key'),
      `Basic ${Buffer.from(':').toString('base64')}`,
    ]) {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (auth !== undefined) headers['Authorization'] = auth;
      await probe(
        'authorization',
        [401, 431],
        send(stack, '/v1/track', { headers, chunks: [JSON.stringify(call)] }),
      );
    }
    for (const type of [
      'application/xml',
      'multipart/form-data; boundary=x',
      'image/png',
      'text/html',
    ]) {
      await probe(
        'content-type',
        [415],
        send(stack, '/v1/track', json(call, { 'Content-Type': type })),
      );
    }
    await goodEvent();
  });

  it('takes chunked bodies without Content-Length, and caps them', async () => {
    const ok = JSON.stringify({
      type: 'track',
      event: 'Good',
      userId: 'u',
      messageId: 'chunked-1',
    });
    await probe(
      'chunked',
      [200],
      send(stack, '/v1/track', {
        headers: { Authorization: basic(SEED_KEY), 'Transfer-Encoding': 'chunked' },
        chunks: [ok.slice(0, 10), ok.slice(10)],
      }),
    );
    good.push('chunked-1');
    const big = JSON.stringify({
      type: 'track',
      event: 'e',
      userId: 'u',
      properties: { s: 'y'.repeat(40_000) },
    });
    const pieces = big.match(/[\s\S]{1,4096}/g) ?? [];
    await probe(
      'chunked',
      [413],
      send(stack, '/v1/track', {
        headers: { Authorization: basic(SEED_KEY), 'Transfer-Encoding': 'chunked' },
        chunks: pieces,
      }),
    );
    // The connection the refused upload used stays healthy for the next request.
    await goodEvent();
  });

  it('answers a stalled body with 408 instead of hanging', async () => {
    const started = Date.now();
    const a = await probe(
      'slow-body',
      [408],
      send(stack, '/v1/track', {
        headers: { Authorization: basic(SEED_KEY), 'Content-Type': 'application/json' },
        chunks: ['{"type":"track",'],
        pauseMs: 60_000,
      }),
    );
    expect(a.status).toBe(408);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('delivers every good event sent alongside, and leaks no secret anywhere', async () => {
    const t = await waitForAll(stack, good, 60_000);
    expect(t.missing).toEqual([]);
    const events = await landed(stack);
    const proto = events.find((e) => e['messageId'] === 'proto-1');
    expect(Object.keys(proto?.['properties'] as object)).toEqual(['__proto__', 'constructor']);
    expect(JSON.stringify(proto)).toContain('"polluted":true');

    // Error bodies for bad keys must not echo them; admin and metrics refuse without tokens.
    const bad = await send(
      stack,
      '/v1/track',
      json(
        { type: 'track', event: 'e', userId: 'u', writeKey: SECOND_KEY.toUpperCase() },
        { Authorization: '' },
      ),
    );
    errorBodies.push(bad.text);
    const admin = await send(stack, '/admin/replay', {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}x` },
      chunks: ['{}'],
    });
    expect(admin.status).toBe(401);
    errorBodies.push(admin.text);
    const metrics = await send(stack, '/metrics', {
      method: 'GET',
      headers: { Authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` },
    });
    expect(metrics.status).toBe(401);
    errorBodies.push(metrics.text);
    // A call authenticated by the second key, in the body, reaches Firehose without it.
    const second = await send(
      stack,
      '/v1/track',
      json(
        { type: 'track', event: 'k', userId: 'u', messageId: 'second-1', writeKey: SECOND_KEY },
        { Authorization: '' },
      ),
    );
    expect(second.status).toBe(200);
    expect((await waitForAll(stack, ['second-1'], 30_000)).missing).toEqual([]);

    const secrets = [
      SEED_KEY,
      SECOND_KEY,
      SECOND_KEY.toUpperCase(),
      ADMIN_TOKEN,
      METRICS_TOKEN,
      LOCAL_CREDENTIALS.secretAccessKey,
    ];
    const records = await landedText(stack);
    const logs = stack.logs.join('\n');
    for (const secret of secrets) {
      expect(records.includes(secret), `a Firehose record holds ${secret.slice(0, 4)}…`).toBe(
        false,
      );
      expect(logs.includes(secret), `a log line holds ${secret.slice(0, 4)}…`).toBe(false);
      expect(
        errorBodies.some((b) => b.includes(secret)),
        `an error body holds ${secret.slice(0, 4)}…`,
      ).toBe(false);
    }
    expect(logs.includes(LOCAL_CREDENTIALS.accessKeyId)).toBe(false);
    expect(errorBodies.length).toBeGreaterThan(150);
    expect(stack.logs.length).toBeGreaterThan(10);
  });
});
