// analytics.js served first-party, end to end: headless Chromium opens a page on its own
// loopback origin that pastes Segment's standard snippet exactly as docs/analytics-js.md shows
// it, pointed at the collector under wrangler dev. analytics.js, its settings and the chunk it
// loads on demand all come from the collector; the page's calls land in the local Firehose
// files; and every request the browser makes, seen through Playwright's routing and request
// events and the DevTools protocol, goes to the collector or the page's own origin.
// Two ways in, both the standard snippet with only its host changed: `npm start`'s (http: the
// entry file sets analytics.js's CDN, which it finds on its own from https URLs only) and a
// deployed Worker's (https), the latter with PUBLIC_HOST naming a second host for the events.
// analytics.js batches as the served settings say: 30 calls leave in a handful of requests to
// /v1/b, and calls made just before the page is left go in its pagehide flush.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack';
import {
  CHUNK_CACHE_CONTROL,
  CHUNKS_PATH,
  ENTRY_ASSET_PATH,
  ENTRY_CACHE_CONTROL,
} from '../../src/analytics-js/assets';
import { launchChromium, type Chromium } from './chromium';
import { isJson, startPageServer, type Json, type PageServer } from './sdk-support';
import { landed, SEED_KEY, startTestStack, until, type TestStack } from './support';

const here = dirname(fileURLToPath(import.meta.url));
const DOC = join(here, '..', '..', 'docs', 'analytics-js.md');

// The one name besides loopback that resolves: the second host the https collector answers on.
const EVENTS_HOST = 'collect.test';
const CALLS = 3;
// analytics-next loads its queryString chunk for `ajs_` parameters (src/browser/index.ts) and
// tracks `ajs_event` with `ajs_prop_*` as properties (src/core/query-string).
const QUERY = 'ajs_event=Signed%20Up&ajs_prop_plan=pro';
const QUERY_CHUNK = 'queryString.bundle.34b193ada8fe288d1bd1.js';

/** The two snippets of docs/analytics-js.md: for `npm start`, and for a deployed Worker. */
async function documentedSnippets(): Promise<{ local: string; deployed: string }> {
  const doc = await readFile(DOC, 'utf8');
  const blocks = [...doc.matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const local = blocks.find((b) => b.includes('http://localhost:8787'));
  const deployed = blocks.find((b) => b.includes('https://events.example.com'));
  if (local === undefined || deployed === undefined) throw new Error(`no snippets in ${DOC}`);
  return { local, deployed };
}

function pageWith(snippet: string): { contentType: string; body: string } {
  return {
    contentType: 'text/html; charset=utf-8',
    body: [
      '<!doctype html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8" />',
      '<title>ndc-segment first-party e2e</title>',
      // No favicon request: every request the page makes is one the test accounts for.
      '<link rel="icon" href="data:," />',
      snippet,
      '</head>',
      '<body><h1>first-party analytics.js</h1></body>',
      '</html>',
    ].join('\n'),
  };
}

interface Traffic {
  /** Every URL the page asked for (Playwright's request events and DevTools). */
  urls: string[];
  /** Requests the route handler refused because they were for another host. */
  blocked: string[];
  failed: string[];
  consoleErrors: string[];
  /** Status and headers of the page's responses, by URL. */
  responses: Map<string, { status: number; headers: Record<string, string> }>;
}

interface Run {
  label: string;
  traffic: Traffic;
  /** messageIds of the calls the test made. */
  ids: string[];
}

interface AnalyticsLike {
  track(event: string, properties: Json, options: Json): unknown;
  identify(userId: string, traits: Json, options: Json): unknown;
}

// How long the page stays after its last calls before it is left: long enough for analytics.js
// to take them into its batch on a busy machine, well short of the 5 s batch timeout.
const LEAVE_AFTER_MS = 1_000;

describe('analytics.js first-party, pasted from docs/analytics-js.md, in headless Chromium', () => {
  let chromium: Chromium;
  let browser: BrowserContext;
  let snippets: { local: string; deployed: string };

  beforeAll(async () => {
    snippets = await documentedSnippets();
    chromium = await launchChromium({
      loopbackHosts: [EVENTS_HOST],
      online: true,
      ignoreHTTPSErrors: true,
    });
    browser = chromium.context;
  });

  afterAll(async () => {
    await chromium?.close();
  });

  /**
   * Opens `url` with every request recorded, and requests to any origin but `allowed` refused,
   * then makes CALLS track and identify calls with our messageIds.
   */
  async function runPage(url: string, allowed: ReadonlySet<string>, label: string): Promise<Run> {
    const traffic: Traffic = {
      urls: [],
      blocked: [],
      failed: [],
      consoleErrors: [],
      responses: new Map(),
    };
    const page = await browser.newPage();
    await page.route('**/*', async (route) => {
      const target = route.request().url();
      if (target.startsWith('data:') || allowed.has(new URL(target).origin)) {
        await route.continue();
        return;
      }
      traffic.blocked.push(target);
      await route.abort('blockedbyclient');
    });
    page.on('request', (req) => traffic.urls.push(req.url()));
    page.on('requestfailed', (req) => traffic.failed.push(`${req.method()} ${req.url()}`));
    page.on('response', (res) =>
      traffic.responses.set(res.url(), { status: res.status(), headers: res.headers() }),
    );
    page.on('console', (msg) => {
      if (msg.type() === 'error') traffic.consoleErrors.push(msg.text());
    });
    // Requests Playwright does not surface (CORS preflights among them) still show in DevTools.
    const cdp = await browser.newCDPSession(page);
    cdp.on('Network.requestWillBeSent', (e) => traffic.urls.push(e.request.url));
    await cdp.send('Network.enable');

    await page.goto(url, { waitUntil: 'load' });
    const ids = Array.from({ length: CALLS }, (_, i) => [
      `${label}-track-${i}`,
      `${label}-identify-${i}`,
    ]).flat();
    await page.evaluate(
      ({ label, calls }) => {
        const a = (window as unknown as { analytics: AnalyticsLike }).analytics;
        for (let i = 0; i < calls; i++) {
          a.track('Order Completed', { i }, { messageId: `${label}-track-${i}` });
          a.identify(`user-${i}`, { i }, { messageId: `${label}-identify-${i}` });
        }
      },
      { label, calls: CALLS },
    );
    return { label, traffic, ids };
  }

  /** Waits until the run's calls, its snippet's page() and its query-string track landed. */
  async function landedFor(stack: TestStack, run: Run): Promise<Json[]> {
    const mine = (events: Json[]): Json[] =>
      events.filter((e) => {
        const context = e['context'];
        const pageContext = isJson(context) ? context['page'] : undefined;
        return isJson(pageContext) && String(pageContext['search']).includes(`run=${run.label}`);
      });
    try {
      return await until(
        `${run.label} events in the Firehose files`,
        async () => {
          // A request to another host fails the run now rather than at the timeout.
          if (run.traffic.blocked.length > 0) throw new Error('requests to another host');
          const events = mine(await landed(stack));
          return events.length >= run.ids.length + 2 ? events : undefined;
        },
        60_000,
      );
    } catch (e) {
      throw new Error(
        `${String(e)}\nrequests: ${run.traffic.urls.join(' ')}\n` +
          `console: ${run.traffic.consoleErrors.join('; ')}`,
        { cause: e },
      );
    }
  }

  /** Every event landed once: the page view, the query string's track, and our calls. */
  function expectAllLanded(events: Json[], run: Run): void {
    const byType = (type: string): Json[] => events.filter((e) => e['type'] === type);
    expect(byType('page')).toHaveLength(1);
    const fromQuery = byType('track').filter((e) => e['event'] === 'Signed Up');
    expect(fromQuery).toHaveLength(1);
    expect(fromQuery[0]?.['properties']).toEqual({ plan: 'pro' });
    const ids = events.map((e) => String(e['messageId']));
    expect(run.ids.filter((id) => ids.indexOf(id) !== ids.lastIndexOf(id))).toEqual([]);
    expect(run.ids.filter((id) => !ids.includes(id))).toEqual([]);
    expect(events).toHaveLength(run.ids.length + 2);
    for (const e of events) expect(e['source']).toBe('ndc-demo');
  }

  /** The browser talked to nothing but `allowed`, and nothing failed. */
  function expectOnly(run: Run, allowed: ReadonlySet<string>): void {
    const origins = new Set(
      run.traffic.urls.filter((u) => !u.startsWith('data:')).map((u) => new URL(u).origin),
    );
    expect([...origins].filter((o) => !allowed.has(o))).toEqual([]);
    expect(run.traffic.blocked).toEqual([]);
    expect(run.traffic.failed).toEqual([]);
    expect(run.traffic.consoleErrors).toEqual([]);
  }

  /**
   * analytics.js, its settings and the chunk the query string needs came from `collector`
   * with their cache headers, and every call was posted to `eventsOrigin`.
   */
  function expectFromCollector(run: Run, collector: string, eventsOrigin: string): void {
    const served: Array<[string, string]> = [
      [`${collector}/analytics.js/v1/${SEED_KEY}/analytics.min.js`, ENTRY_CACHE_CONTROL],
      // src/routes/settings.ts SETTINGS_CACHE_SECONDS.
      [`${collector}/v1/projects/${SEED_KEY}/settings`, 'public, max-age=300'],
      [`${collector}${CHUNKS_PATH}${QUERY_CHUNK}`, CHUNK_CACHE_CONTROL],
    ];
    for (const [url, cacheControl] of served) {
      expect(run.traffic.urls).toContain(url);
      const res = run.traffic.responses.get(url);
      expect(res?.status, url).toBe(200);
      expect(res?.headers['cache-control'], url).toBe(cacheControl);
    }
    // analytics.js posts its batches to /v1/b (the served deliveryStrategy).
    const posts = run.traffic.urls.filter((u) => /\/v1\/[a-z]$/.test(new URL(u).pathname));
    expect(posts.length).toBeGreaterThan(0);
    expect(new Set(posts)).toEqual(new Set([`${eventsOrigin}/v1/b`]));
  }

  describe('npm start: http, only the host changed', () => {
    let stack: TestStack;
    let server: PageServer;

    beforeAll(async () => {
      stack = await startTestStack({ stream: 'e2e-first-party-http' });
      const snippet = snippets.local.replaceAll('http://localhost:8787', stack.workerUrl);
      server = await startPageServer({
        '/page.html': pageWith(snippet),
        '/elsewhere.html': { contentType: 'text/html; charset=utf-8', body: '<p>gone</p>' },
      });
    });

    it('sends 30 calls in at most 5 requests to /v1/b, and the calls made just before leaving', async () => {
      const page = await browser.newPage();
      const batches: string[] = [];
      page.on('request', (req) => {
        if (req.method() === 'POST' && new URL(req.url()).pathname === '/v1/b')
          batches.push(req.postData() ?? '');
      });
      await page.goto(`${server.origin}/page.html?run=many`, { waitUntil: 'load' });
      const track = (ids: string[]) =>
        page.evaluate((ids) => {
          const a = (window as unknown as { analytics: AnalyticsLike }).analytics;
          for (const id of ids) a.track('Clicked', { id }, { messageId: id });
        }, ids);
      const hasLanded = async (ids: string[]) => {
        const got = new Set((await landed(stack)).map((e) => String(e['messageId'])));
        return ids.every((id) => got.has(id)) ? true : undefined;
      };
      const many = Array.from({ length: 30 }, (_, i) => `many-${i}`);
      await track(many);
      await until('30 calls in the Firehose files', () => hasLanded(many), 60_000);
      // The snippet's page() and 30 calls: three full batches of 10 and the rest after 5 s.
      console.log(`first-party e2e: 31 calls in ${batches.length} requests to /v1/b`);
      expect(batches.length).toBeLessThanOrEqual(5);
      const sent = batches.flatMap((b) => (JSON.parse(b) as { batch: Json[] }).batch);
      expect(
        sent
          .map((e) => String(e['messageId']))
          .filter((id) => many.includes(id))
          .sort(),
      ).toEqual([...many].sort());

      // Calls made just before the page is left: analytics.js sends what it holds on pagehide,
      // in keepalive requests, which outlive the page. Nothing else could send them: the page's
      // 5 s timer dies with it, and the next page has no analytics.js.
      const leaving = Array.from({ length: 4 }, (_, i) => `leaving-${i}`);
      const before = batches.length;
      await track(leaving);
      // analytics.js takes a call through its plugins asynchronously before its batch holds it
      // (a call left before that is dropped by analytics.js itself, batched or not): give it a
      // second, well inside the 5 s batch timeout, and check nothing was sent meanwhile.
      await new Promise((r) => setTimeout(r, LEAVE_AFTER_MS));
      expect(batches.length).toBe(before);
      await page.goto(`${server.origin}/elsewhere.html`, { waitUntil: 'load' });
      await until('calls made before leaving, landed', () => hasLanded(leaving), 60_000);
      await page.close();
    });

    afterAll(async () => {
      await server?.close();
      await stack?.cleanup();
    });

    it('loads analytics.js, settings and chunks from the collector; every call lands', async () => {
      const allowed = new Set([stack.workerUrl, server.origin]);
      const run = await runPage(`${server.origin}/page.html?${QUERY}&run=local`, allowed, 'local');
      const events = await landedFor(stack, run);
      expectOnly(run, allowed);
      expectAllLanded(events, run);
      expectFromCollector(run, stack.workerUrl, stack.workerUrl);
    });

    it('serves chunks in front of the Worker and keeps the entry asset behind it', async () => {
      const chunk = await fetch(`${stack.workerUrl}${CHUNKS_PATH}${QUERY_CHUNK}`);
      expect(chunk.status).toBe(200);
      expect(chunk.headers.get('cache-control')).toBe(CHUNK_CACHE_CONTROL);
      await chunk.arrayBuffer();
      // Only the Worker's own 404 looks like this: the asset router passed these requests on.
      for (const path of [ENTRY_ASSET_PATH, '/_headers', `${CHUNKS_PATH}nope.bundle.js`]) {
        const res = await fetch(`${stack.workerUrl}${path}`);
        expect(res.status, path).toBe(404);
        expect(await res.json(), path).toEqual({
          success: false,
          error: { code: 'not_found', message: 'no such route' },
        });
      }
      const unknown = await fetch(`${stack.workerUrl}/analytics.js/v1/nope/analytics.min.js`);
      expect(unknown.status).toBe(404);
      await unknown.arrayBuffer();
    });
  });

  describe('deployed: https, only the host changed, PUBLIC_HOST for the events', () => {
    let stack: TestStack;
    let server: PageServer;
    let eventsOrigin: string;

    beforeAll(async () => {
      const port = await freePort();
      eventsOrigin = `https://${EVENTS_HOST}:${port}`;
      stack = await startTestStack({
        stream: 'e2e-first-party-https',
        port,
        localProtocol: 'https',
        vars: { PUBLIC_HOST: eventsOrigin },
      });
      const snippet = snippets.deployed
        .replaceAll('https://events.example.com', stack.workerUrl)
        .replaceAll('YOUR_WRITE_KEY', SEED_KEY);
      server = await startPageServer({ '/page.html': pageWith(snippet) });
    });

    afterAll(async () => {
      await server?.close();
      await stack?.cleanup();
    });

    it('finds its host from the script URL alone and sends to PUBLIC_HOST', async () => {
      const allowed = new Set([stack.workerUrl, eventsOrigin, server.origin]);
      const run = await runPage(
        `${server.origin}/page.html?${QUERY}&run=deployed`,
        allowed,
        'deployed',
      );
      const events = await landedFor(stack, run);
      expectOnly(run, allowed);
      expectAllLanded(events, run);

      // Events go where PUBLIC_HOST says, not to the host the script came from.
      expectFromCollector(run, stack.workerUrl, eventsOrigin);
    });
  });
});
