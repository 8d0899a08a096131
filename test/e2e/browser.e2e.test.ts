// analytics.js in a real browser end to end: headless Chromium (playwright-core) loads a page
// from another loopback origin with Segment's snippet and the unmodified analytics-next
// standalone bundle, which fetches its settings from the Worker and posts every call to it
// cross-origin (CORS preflight, text/plain, Basic auth): in batches by default (the Worker's
// settings say so), one call at a time when the snippet asks for the standard strategy, and in
// the snippet's own batches when it passes its own.
// Every call must land in the local Firehose files once, enriched from the browser's request.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, CDPSession, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectEnriched,
  isJson,
  isoMillis,
  startPageServer,
  type Json,
  type PageServer,
} from './sdk-support';
import { launchChromium, type Chromium } from './chromium';
import { landed, SEED_KEY, startTestStack, until, waitForAll, type TestStack } from './support';

const SOURCE = 'ndc-demo';
const TYPES = ['page', 'identify', 'track', 'group', 'alias'] as const;
const ROUNDS = 4;
// What the Worker's settings tell analytics.js (wrangler.toml BROWSER_BATCH_SIZE and
// BROWSER_BATCH_TIMEOUT_MS).
const SERVED_STRATEGY = { strategy: 'batching', config: { size: 10, timeout: 5000 } };
// A snippet's own strategy, which wins over the served one.
const BATCH_SIZE = 5;
const BATCH_TIMEOUT_MS = 500;
// analytics.js posts single calls to /v1/<first letter of the type>, batches to /v1/b.
const SINGLE_PATHS = new Set(TYPES.map((t) => `/v1/${t.charAt(0)}`));

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** One HTTP exchange the page made, as Playwright and the DevTools protocol saw it. */
interface Exchange {
  url: string;
  method: string;
  status: number;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  postData: string | null;
  response: Response;
  /** Read before the page closes, for the Worker's answers only. */
  responseBody?: string;
}

interface Preflight {
  url: string;
  status: number;
  headers: Record<string, string>;
}

interface Run {
  origin: string;
  userAgent: string;
  libraryVersion: string;
  ids: Map<string, (typeof TYPES)[number]>;
  exchanges: Exchange[];
  preflights: Preflight[];
  /** Every URL the page asked for, including ones that never got an answer. */
  urls: string[];
  failed: string[];
  consoleErrors: string[];
}

/** URLs whose preflight an earlier page of this browser already made. */
const preflighted = new Set<string>();

const lowerKeys = (h: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));

/** Records what a page does on the network: Playwright events plus CORS preflights via CDP. */
async function record(page: Page, cdp: CDPSession, run: Run): Promise<void> {
  page.on('request', (req) => run.urls.push(req.url()));
  page.on('requestfailed', (req) => run.failed.push(`${req.method()} ${req.url()}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') run.consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('response', (res) => {
    const req = res.request();
    run.exchanges.push({
      url: req.url(),
      method: req.method(),
      status: res.status(),
      requestHeaders: lowerKeys(req.headers()),
      responseHeaders: lowerKeys(res.headers()),
      postData: req.postData(),
      response: res,
    });
  });
  // Playwright does not surface CORS preflights; Chromium's DevTools protocol does (type Preflight).
  const preflightUrls = new Map<string, string>();
  cdp.on('Network.requestWillBeSent', (e) => {
    run.urls.push(e.request.url);
    if (e.type === 'Preflight' || e.request.method === 'OPTIONS')
      preflightUrls.set(e.requestId, e.request.url);
  });
  cdp.on('Network.responseReceived', (e) => {
    const url = preflightUrls.get(e.requestId);
    if (url === undefined) return;
    run.preflights.push({ url, status: e.response.status, headers: lowerKeys(e.response.headers) });
  });
  await cdp.send('Network.enable');
}

interface AnalyticsLike {
  page(category: string, name: string, properties: Json, options: Json): unknown;
  identify(userId: string, traits: Json, options: Json): unknown;
  track(event: string, properties: Json, options: Json): unknown;
  group(groupId: string, traits: Json, options: Json): unknown;
  alias(to: string, from: string, options: Json): unknown;
}

describe('analytics.js (analytics-next standalone) in headless Chromium', () => {
  let stack: TestStack;
  let server: PageServer;
  let chromium: Chromium;
  let browser: BrowserContext;

  beforeAll(async () => {
    stack = await startTestStack({ stream: 'e2e-browser' });
    const template = await readFile(join(here, 'fixtures', 'analytics-page.html'), 'utf8');
    const bundle = await readFile(
      require.resolve('@segment/analytics-next/dist/umd/standalone.js'),
      'utf8',
    );
    const scriptSrc = `/analytics.js/v1/${SEED_KEY}/analytics.min.js`;
    const page = (loadOptions: Json): { contentType: string; body: string } => {
      const config = { writeKey: SEED_KEY, cdn: stack.workerUrl, scriptSrc, loadOptions };
      // JSON inside a script element: `<` escaped so no string can close the element.
      const json = JSON.stringify(config).replace(/</g, '\\u003c');
      return {
        contentType: 'text/html; charset=utf-8',
        body: template.replace('/*NDC_CONFIG*/ null', json),
      };
    };
    server = await startPageServer({
      '/default.html': page({}),
      '/standard.html': page({
        integrations: { 'Segment.io': { deliveryStrategy: { strategy: 'standard' } } },
      }),
      '/batching.html': page({
        integrations: {
          'Segment.io': {
            deliveryStrategy: {
              strategy: 'batching',
              config: { size: BATCH_SIZE, timeout: BATCH_TIMEOUT_MS },
            },
          },
        },
      }),
      [scriptSrc]: { contentType: 'text/javascript; charset=utf-8', body: bundle },
    });
    chromium = await launchChromium({ online: true });
    browser = chromium.context;
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await stack?.cleanup();
  });

  /** Loads `path`, makes ROUNDS × every call type with our messageIds, waits for the answers. */
  async function runPage(path: string, prefix: string): Promise<Run> {
    const page = await browser.newPage();
    const cdp = await browser.newCDPSession(page);
    const run: Run = {
      origin: server.origin,
      userAgent: '',
      libraryVersion: '',
      ids: new Map(),
      exchanges: [],
      preflights: [],
      urls: [],
      failed: [],
      consoleErrors: [],
    };
    await record(page, cdp, run);
    await page.goto(`${server.origin}${path}`, { waitUntil: 'load' });
    run.userAgent = await page.evaluate(() => navigator.userAgent);

    for (let round = 0; round < ROUNDS; round++) {
      for (const type of TYPES) run.ids.set(`${prefix}-${type}-${round}`, type);
    }
    // Called on whatever window.analytics is now: the snippet's stub, which buffers until
    // analytics.js has loaded its settings, or analytics.js itself.
    await page.evaluate(
      ({ prefix, rounds }) => {
        const a = (window as unknown as { analytics: AnalyticsLike }).analytics;
        for (let r = 0; r < rounds; r++) {
          const id = (type: string): Json => ({ messageId: `${prefix}-${type}-${r}` });
          a.page('Docs', `Home ${r}`, { round: r }, id('page'));
          a.identify(`user-${r}`, { round: r, email: `u${r}@example.com` }, id('identify'));
          a.track('Order Completed', { round: r, revenue: r + 0.99 }, id('track'));
          a.group(`group-${r}`, { round: r, plan: 'enterprise' }, id('group'));
          a.alias(`user-${r}`, `anon-${r}`, id('alias'));
        }
      },
      { prefix, rounds: ROUNDS },
    );

    // Done when every messageId has been posted to the Worker and answered.
    const posted = (): Set<string> => {
      const seen = new Set<string>();
      for (const x of postsTo(run, stack.workerUrl)) {
        if (x.status !== 200) continue;
        for (const e of sentEvents(x).events) seen.add(String(e['messageId']));
      }
      return seen;
    };
    try {
      await until(
        `${prefix} posts`,
        () => ([...run.ids.keys()].every((id) => posted().has(id)) ? true : undefined),
        30_000,
      );
    } catch (e) {
      const answers = run.exchanges.map((x) => `${x.method} ${x.url} ${x.status}`);
      throw new Error(
        `${String(e)}\nanswers: ${answers.join('; ')}\nconsole: ${run.consoleErrors.join('; ')}`,
        { cause: e },
      );
    }
    for (const x of run.exchanges) {
      if (x.url.startsWith(`${stack.workerUrl}/`) && x.method !== 'OPTIONS')
        x.responseBody = await x.response.text();
    }
    run.libraryVersion = await page.evaluate(
      () => (window as unknown as { analytics: { VERSION: string } }).analytics.VERSION,
    );
    await cdp.detach();
    await page.close();
    return run;
  }

  /** Asserts the network side of a run: loopback only, settings, preflights, text/plain POSTs. */
  async function expectNetwork(run: Run, postPaths: ReadonlySet<string>): Promise<void> {
    const worker = new URL(stack.workerUrl);
    expect(run.urls.length).toBeGreaterThan(0);
    expect(run.urls.filter((u) => new URL(u).hostname !== '127.0.0.1')).toEqual([]);
    expect(run.failed).toEqual([]);
    expect(run.consoleErrors).toEqual([]);

    // Settings come from the Worker and name it as the only destination.
    const settingsUrl = `${stack.workerUrl}/v1/projects/${SEED_KEY}/settings`;
    const settings = run.exchanges.filter((x) => x.url === settingsUrl);
    expect(settings.length).toBeGreaterThan(0);
    expect(settings.map((x) => x.status)).toEqual(settings.map(() => 200));
    const body = JSON.parse(settings[0]?.responseBody ?? 'null') as Json;
    expect(body['integrations']).toEqual({
      'Segment.io': {
        apiKey: SEED_KEY,
        apiHost: `${worker.host}/v1`,
        protocol: 'http',
        deliveryStrategy: SERVED_STRATEGY,
      },
    });
    expect(settings[0]?.responseHeaders['access-control-allow-origin']).toBe(run.origin);

    const posts = postsTo(run, stack.workerUrl);
    expect(new Set(posts.map((x) => new URL(x.url).pathname))).toEqual(postPaths);
    for (const x of posts) {
      expect(x.status).toBe(200);
      expect(x.requestHeaders['content-type']).toMatch(/^text\/plain/);
      expect(x.requestHeaders['authorization']).toBe(
        `Basic ${Buffer.from(`${SEED_KEY}:`).toString('base64')}`,
      );
      expect(x.responseHeaders['access-control-allow-origin']).toBe(run.origin);
      const answer = JSON.parse(x.responseBody ?? 'null') as Json;
      const { batch, events } = sentEvents(x);
      expect(answer).toEqual(
        batch ? { success: true, accepted: events.length } : { success: true },
      );
    }

    // Basic auth makes each POST non-simple: Chromium asks first, at least once per URL (requests
    // made before the first answer is cached each ask).
    for (const url of new Set(posts.map((x) => x.url))) {
      const asked = run.preflights.filter((p) => p.url === url);
      // Chromium caches a preflight's answer (Access-Control-Max-Age) across the pages of one
      // browser: a URL an earlier page asked for is not asked again.
      if (asked.length === 0) expect(preflighted.has(url), `preflight for ${url}`).toBe(true);
      preflighted.add(url);
      for (const p of asked) {
        expect(p.status).toBe(204);
        expect(p.headers['access-control-allow-origin']).toBe(run.origin);
        expect(p.headers['access-control-allow-methods']).toContain('POST');
      }
    }
  }

  /**
   * Asserts every event of a run landed once, as sent, enriched from the browser's request;
   * `heldMs`: how long analytics.js may hold a call before sending it (a batch's timeout).
   */
  async function expectLanded(run: Run, label: string, heldMs = 0): Promise<void> {
    const ids = [...run.ids.keys()];
    const t = await waitForAll(stack, ids, 60_000);
    const events = await landed(stack);
    const posts = postsTo(run, stack.workerUrl);
    console.log(
      `browser e2e (${label}): sent=${ids.length} posts=${posts.length} ` +
        `preflights=${run.preflights.length} landed=${t.distinct} missing=${t.missing.length} ` +
        `duplicates=${t.duplicates}`,
    );
    expect(t.missing).toEqual([]);
    expect(t.duplicates).toBe(0);

    // What the page put on the wire, by messageId, with the sentAt that applies.
    const onWire = new Map<string, { sent: Json; sentAt: string }>();
    for (const x of posts) {
      const { events: sent, sentAt } = sentEvents(x);
      for (const e of sent) {
        // Single calls carry their own sentAt; batch items have theirs removed for the batch's.
        const own = e['sentAt'];
        onWire.set(String(e['messageId']), {
          sent: e,
          sentAt: typeof own === 'string' ? own : String(sentAt),
        });
      }
    }
    const byId = new Map(events.map((e) => [String(e['messageId']), e]));
    expect(run.userAgent).toMatch(/Chrome\/\d+/);
    for (const [id, type] of run.ids) {
      const got = byId.get(id);
      const wire = onWire.get(id);
      if (got === undefined || wire === undefined) throw new Error(`no ${id}`);
      expect(got['type']).toBe(type);
      expectEnriched(got, { ...wire, ip: '127.0.0.1', userAgent: run.userAgent }, SOURCE);
      // Skew-corrected on the server's clock: within a few seconds of receipt, plus the time
      // the call waited in its batch.
      const drift = Math.abs(isoMillis(got['timestamp']) - isoMillis(got['receivedAt']));
      expect(drift).toBeLessThan(5_000 + heldMs);
      const context = got['context'];
      if (!isJson(context)) throw new Error(`${id} has no context`);
      expect(context['library']).toEqual({
        name: 'analytics.js',
        version: expect.stringContaining(run.libraryVersion),
      });
      expect(context['page']).toMatchObject({ url: expect.stringContaining(run.origin) });
    }
    // The calls' own fields, as the page made them.
    const sample = (type: string): Json | undefined => byId.get(`${label}-${type}-1`);
    expect(sample('track')).toMatchObject({
      event: 'Order Completed',
      properties: { round: 1, revenue: 1.99 },
    });
    expect(sample('identify')).toMatchObject({
      userId: 'user-1',
      traits: { round: 1, email: 'u1@example.com' },
    });
    expect(sample('page')).toMatchObject({ category: 'Docs', name: 'Home 1' });
    expect(sample('group')).toMatchObject({ groupId: 'group-1', traits: { plan: 'enterprise' } });
    // analytics-next sets every event's userId to the user identified when the event is
    // finished (EventFactory.addIdentity), so round 1's alias may carry a later round's user.
    expect(sample('alias')).toMatchObject({
      userId: expect.stringMatching(/^user-[1-3]$/),
      previousId: 'anon-1',
    });
    expect(JSON.stringify(events)).not.toContain(SEED_KEY);
  }

  it("batches every call type as the Worker's settings say, through /v1/b", async () => {
    const run = await runPage('/default.html', 'default');
    await expectNetwork(run, new Set(['/v1/b']));
    const posts = postsTo(run, stack.workerUrl);
    const sizes = posts.map((x) => sentEvents(x).events.length);
    console.log(`browser e2e (default): ${run.ids.size} calls in ${posts.length} POSTs`);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(run.ids.size);
    // 20 calls made at once: a POST per 10 buffered (the served size).
    expect(sizes).toContain(SERVED_STRATEGY.config.size);
    expect(posts.length).toBeLessThanOrEqual(Math.ceil(run.ids.size / 10) + 1);
    await expectLanded(run, 'default', SERVED_STRATEGY.config.timeout);
  });

  it("sends one POST per call when the snippet's deliveryStrategy says standard", async () => {
    const run = await runPage('/standard.html', 'standard');
    await expectNetwork(run, SINGLE_PATHS);
    // One request per call, each to its type's path.
    const posts = postsTo(run, stack.workerUrl);
    expect(posts).toHaveLength(run.ids.size);
    for (const x of posts) {
      const { events } = sentEvents(x);
      expect(events).toHaveLength(1);
      const type = String(events[0]?.['type']);
      expect(new URL(x.url).pathname).toBe(`/v1/${type.charAt(0)}`);
    }
    await expectLanded(run, 'standard');
  });

  it('delivers every call type with the batching strategy through /v1/b', async () => {
    const run = await runPage('/batching.html', 'batching');
    await expectNetwork(run, new Set(['/v1/b']));
    const posts = postsTo(run, stack.workerUrl);
    const sizes = posts.map((x) => sentEvents(x).events.length);
    console.log(`browser e2e (batching): batch sizes ${sizes.join(', ')}`);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(run.ids.size);
    // `size` triggers a flush of what is buffered (it is not a cap); the rest follows after
    // `timeout` (analytics-next batched-dispatcher.ts).
    expect(sizes).toContain(BATCH_SIZE);
    expect(posts.length).toBeGreaterThan(1);
    await expectLanded(run, 'batching', BATCH_TIMEOUT_MS);
  });
});

/** The page's POSTs to the Worker. */
function postsTo(run: Run, workerUrl: string): Exchange[] {
  return run.exchanges.filter((x) => x.method === 'POST' && x.url.startsWith(`${workerUrl}/`));
}

/** The events a POST carried, and the batch's sentAt when it was a batch. */
function sentEvents(x: Exchange): { batch: boolean; events: Json[]; sentAt?: string } {
  const body = JSON.parse(x.postData ?? 'null') as unknown;
  if (!isJson(body)) throw new Error(`POST ${x.url} without a JSON body`);
  if (Array.isArray(body['batch'])) {
    return {
      batch: true,
      events: body['batch'].filter(isJson),
      sentAt: String(body['sentAt']),
    };
  }
  return { batch: false, events: [body] };
}
