// Property-based checks of the HTTP edge inside workerd: arbitrary bodies, headers, encodings
// and paths are answered with a 2xx or the right 4xx and a JSON reason, never a 500, and good
// events sent alongside are still queued.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VALID_CALLS } from '../fixtures/calls';
import { basic, gzip, harness } from '../support/worker';

const KEY = 'test-key-1';
const PATHS = [
  '/v1/track',
  '/v1/t',
  '/v1/identify',
  '/v1/page',
  '/v1/batch',
  '/v1/b',
  '/v1/import',
  '/v1/alias',
  '/v1/group',
];

async function expectCleanAnswer(res: Response): Promise<void> {
  expect(res.status).toBeLessThan(500);
  const text = await res.text();
  const body = JSON.parse(text) as { success: boolean; error?: { code: string; message: string } };
  if (res.status >= 400) {
    expect(body.success).toBe(false);
    expect(body.error?.code).toMatch(/^[a-z_]+$/);
    expect(body.error?.message.length).toBeGreaterThan(0);
  } else {
    expect(body.success).toBe(true);
  }
}

describe('the Worker on arbitrary requests', () => {
  it('answers random JSON bodies on every ingest route without a 500', async () => {
    const h = harness();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        fc.jsonValue({ maxDepth: 5 }),
        async (path, value) => {
          const res = await h.fetch(path, {
            method: 'POST',
            headers: { Authorization: basic(KEY) },
            body: JSON.stringify(value),
          });
          await expectCleanAnswer(res);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers random bytes, random Content-Type and Content-Encoding without a 500', async () => {
    const h = harness();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        fc.uint8Array({ maxLength: 2000 }),
        fc.option(
          fc.constantFrom(
            'application/json',
            'text/plain',
            'application/xml',
            'multipart/form-data',
            '',
            'a/b;c=d',
          ),
          { nil: undefined },
        ),
        fc.option(fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'x-gzip', 'gzip, gzip'), {
          nil: undefined,
        }),
        async (path, bytes, type, encoding) => {
          const headers: Record<string, string> = { Authorization: basic(KEY) };
          if (type !== undefined) headers['Content-Type'] = type;
          if (encoding !== undefined) headers['Content-Encoding'] = encoding;
          await expectCleanAnswer(await h.fetch(path, { method: 'POST', headers, body: bytes }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers garbled Authorization headers with 401, never a 500', async () => {
    const h = harness();
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 3000 }), fc.boolean(), async (garbage, prefixed) => {
        const value = (prefixed ? `Basic ${garbage}` : garbage).replace(/[\r\n\0]/g, '');
        let res: Response;
        try {
          res = await h.fetch('/v1/track', {
            method: 'POST',
            headers: { Authorization: value },
            body: JSON.stringify(VALID_CALLS.track),
          });
        } catch {
          // Not a header value the Headers API accepts at all: nothing reached the Worker.
          return;
        }
        expect([200, 401]).toContain(res.status);
        await expectCleanAnswer(res);
      }),
      { numRuns: 300 },
    );
  });

  it('answers truncated gzip of valid calls with 400 and still takes the good ones', async () => {
    const h = harness();
    const whole = await gzip(JSON.stringify({ batch: [VALID_CALLS.track, VALID_CALLS.page] }));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: whole.length - 1 }), async (cut) => {
        const res = await h.fetch('/v1/batch', {
          method: 'POST',
          headers: { Authorization: basic(KEY), 'Content-Encoding': 'gzip' },
          body: whole.slice(0, cut),
        });
        expect([400]).toContain(res.status);
        await expectCleanAnswer(res);
      }),
      { numRuns: Math.min(100, whole.length - 1) },
    );
    const good = await h.fetch('/v1/batch', {
      method: 'POST',
      headers: { Authorization: basic(KEY), 'Content-Encoding': 'gzip' },
      body: whole,
    });
    expect(good.status).toBe(200);
    expect(h.queue.events()).toHaveLength(2);
  });

  it('answers random paths and methods with JSON 404/405, never a 500', async () => {
    const h = harness();
    await fc.assert(
      fc.asyncProperty(
        fc.webPath(),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        async (path, method) => {
          const res = await h.fetch(path.startsWith('/') ? path : `/${path}`, { method });
          expect(res.status).toBeLessThan(500);
          if (
            method !== 'HEAD' &&
            res.status >= 400 &&
            res.headers.get('Content-Type')?.includes('json')
          ) {
            await expectCleanAnswer(res);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
