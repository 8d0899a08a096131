// The status page end to end: the Worker under wrangler dev (its metrics Durable Objects, real
// local queues, the local Firehose), headless Chromium on GET /status. 500 events sent are
// counted for their source by GET /admin/status within a minute, received and delivered; the
// page, signed in with the admin token (or by the debugger's sign-in in the same tab), draws a
// chart per series for each source and refreshes on its own.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSeries } from '../../src/metrics/minutes';
import { launchChromium, type Chromium } from './chromium';
import { postInBatches, startTestStack, until, type TestStack } from './support';

const TOKEN = 'e2e-admin-token-for-the-status-page';
const SOURCE = 'ndc-demo'; // the seed key's source
// Issue 26: "after 500 events sent, GET /admin/status counts them for their source within a minute".
const EVENTS = 500;
const COUNTED_WITHIN_MS = 60_000;
const SERIES = ['received', 'delivered', 'rejected', 'deadLettered', 'lagSeconds'];

const sum = (values: ReadonlyArray<number | null> | undefined): number =>
  (values ?? []).reduce<number>((a, b) => a + (b ?? 0), 0);

function events(n: number, tag: string): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_v, i) => ({
    type: 'track',
    event: 'Status Checked',
    userId: `u-${i % 7}`,
    messageId: `${tag}-${i}`,
  }));
}

describe('the status page', () => {
  let stack: TestStack;
  let chromium: Chromium;
  let browser: BrowserContext;

  beforeAll(async () => {
    stack = await startTestStack({ stream: 'e2e-status', vars: { ADMIN_TOKEN: TOKEN } });
    chromium = await launchChromium();
    browser = chromium.context;
  });

  afterAll(async () => {
    await chromium?.close();
    await stack?.cleanup();
  });

  async function status(token = TOKEN): Promise<Response> {
    return fetch(`${stack.workerUrl}/admin/status`, {
      headers: { Authorization: `Bearer ${token}` },
    });
  }

  it(`counts ${EVENTS} events sent for their source within a minute, received and delivered`, async () => {
    expect((await status('wrong')).status).toBe(401);
    const sent = Date.now();
    await postInBatches(stack, events(EVENTS, 'status'), 50);
    const counted = await until(
      `${EVENTS} events counted for ${SOURCE}`,
      async () => {
        const body = (await (await status()).json()) as StatusSeries;
        const s = body.sources[SOURCE];
        return sum(s?.received) === EVENTS && sum(s?.delivered) === EVENTS ? body : undefined;
      },
      COUNTED_WITHIN_MS,
    );
    console.log(
      `status e2e: ${EVENTS} events received and delivered on /admin/status ${Date.now() - sent} ms after the first post`,
    );
    const s = counted.sources[SOURCE];
    expect(counted.minutes).toHaveLength(60);
    expect(sum(s?.rejected)).toBe(0);
    expect(sum(s?.deadLettered)).toBe(0);
    const lags = (s?.lagSeconds ?? []).filter((l): l is number => l !== null);
    expect(lags.length).toBeGreaterThan(0);
    expect(Math.max(...lags)).toBeLessThan(COUNTED_WITHIN_MS / 1000);
  });

  /** A page on /status, recording the URLs it asks for and its console errors. */
  async function openStatus(): Promise<{ page: Page; urls: string[]; errors: string[] }> {
    const page = await browser.newPage();
    const urls: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${stack.workerUrl}/status`, { waitUntil: 'load' });
    return { page, urls, errors };
  }

  const receivedTotal = (page: Page): Promise<string | null> =>
    page.textContent(
      `[data-testid="status-chart"][data-source="${SOURCE}"][data-series="received"] [data-testid="status-total"]`,
    );

  it('draws a chart per series of each source, and refreshes on its own', async () => {
    const { page, urls, errors } = await openStatus();
    await page.fill('[data-testid="status-token"]', TOKEN);
    await page.click('[data-testid="status-connect"]');
    await page.waitForSelector('[data-testid="status-chart"]', { timeout: 10_000 });
    const charts = await page.$$eval('[data-testid="status-chart"]', (figs) =>
      figs.map((f) => ({
        source: (f as HTMLElement).dataset.source,
        series: (f as HTMLElement).dataset.series,
        bars: f.querySelectorAll('svg rect').length,
      })),
    );
    expect(charts.filter((c) => c.source === SOURCE).map((c) => c.series)).toEqual(SERIES);
    const bars: Record<string, number> = Object.fromEntries(
      charts.filter((c) => c.source === SOURCE).map((c) => [c.series ?? '', c.bars]),
    );
    expect(bars['received']).toBeGreaterThan(0);
    expect(bars['delivered']).toBeGreaterThan(0);
    expect(bars['lagSeconds']).toBeGreaterThan(0);
    expect(bars['rejected']).toBe(0);
    expect(await receivedTotal(page)).toBe(`${EVENTS} in the hour`);

    // New events show up without a reload.
    await postInBatches(stack, events(10, 'refresh'), 10);
    await page.waitForFunction(
      ({ source, total }) =>
        document.querySelector(
          `[data-testid="status-chart"][data-source="${source}"][data-series="received"] [data-testid="status-total"]`,
        )?.textContent === total,
      { source: SOURCE, total: `${EVENTS + 10} in the hour` },
      { timeout: 60_000 },
    );

    // The token went as a header only; nothing was asked of another host; no CSP violation.
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    expect(urls.filter((u) => !u.startsWith(stack.workerUrl))).toEqual([]);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("opens signed in after the debugger's sign-in in the same tab", async () => {
    const { page, errors } = await openStatus();
    await page.goto(`${stack.workerUrl}/debugger`, { waitUntil: 'load' });
    await page.fill('[data-testid="debugger-token"]', TOKEN);
    await page.click('[data-testid="debugger-connect"]');
    await page.waitForSelector('[data-testid="debugger-connection"]:text("live")', {
      timeout: 10_000,
    });
    await page.goto(`${stack.workerUrl}/status`, { waitUntil: 'load' });
    await page.waitForSelector('[data-testid="status-chart"]', { timeout: 10_000 });
    expect(await page.isVisible('[data-testid="status-token"]')).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses a wrong token and says so', async () => {
    const { page, errors } = await openStatus();
    await page.fill('[data-testid="status-token"]', 'not-the-token');
    await page.click('[data-testid="status-connect"]');
    const notice = await page.waitForSelector('[data-testid="status-notice"]:has-text("401")');
    expect(await notice.textContent()).toContain('Wrong token');
    expect(await page.$$('[data-testid="status-chart"]')).toEqual([]);
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([]);
    // The one error is Chromium's own line for the 401 answer.
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    await page.close();
  });
});
