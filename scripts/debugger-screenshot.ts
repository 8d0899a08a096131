// Takes docs/debugger.png: the whole stack on loopback (scripts/stack.ts), headless Chromium
// (playwright-core, Debian's /usr/bin/chromium) on /debugger with a few calls sent the way the
// docs send them, the seed's track.json selected. Run: `npx tsx scripts/debugger-screenshot.ts`.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { SEED_WRITE_KEYS, startStack } from './stack';

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const OUT = resolve(process.argv[2] ?? 'docs/debugger.png');
const TOKEN = 'local-admin-token-for-the-screenshot';
const SEED_KEY = SEED_WRITE_KEYS.split('=')[0] ?? '';

const work = await mkdtemp(join(tmpdir(), 'ndc-debugger-shot-'));
const stack = await startStack({
  port: 0,
  firehosePort: 0,
  dataDir: join(work, 'firehose'),
  persistTo: join(work, 'wrangler'),
  vars: { ADMIN_TOKEN: TOKEN },
});
const browser = await chromium.launchPersistentContext(join(work, 'profile'), {
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  ],
  viewport: { width: 1360, height: 720 },
  deviceScaleFactor: 1,
});
try {
  const page = await browser.newPage();
  await page.goto(`${stack.workerUrl}/debugger?source=ndc-demo`);
  await page.fill('[data-testid="debugger-token"]', TOKEN);
  await page.click('[data-testid="debugger-connect"]');
  await page.waitForSelector('[data-testid="debugger-connection"]:text("live")');

  const post = async (path: string, body: string): Promise<void> => {
    await fetch(`${stack.workerUrl}${path}`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${SEED_KEY}:`).toString('base64')}`,
        'Content-Type': 'application/json',
        'User-Agent': 'curl/8.5.0',
      },
      body,
    });
  };
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  await post('/v1/identify', JSON.stringify({ userId: 'u-42', traits: { plan: 'pro' } }));
  await post('/v1/page', JSON.stringify({ userId: 'u-42', name: 'Pricing' }));
  await pause(1100);
  await post(
    '/v1/batch',
    JSON.stringify({
      batch: [
        { type: 'track', event: 'Plan Selected', userId: 'u-42', properties: { plan: 'pro' } },
        { type: 'track', userId: 'u-42', properties: { plan: 'pro' } },
        { type: 'group', userId: 'u-42', traits: { name: 'Acme' } },
      ],
    }),
  );
  await pause(1100);
  await post('/v1/track', '{"event": "Checkout Started", "userId": ');
  await post('/v1/track', await readFile('track.json', 'utf8'));
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="debugger-event"]').length >= 7,
    undefined,
    { timeout: 10_000 },
  );
  await page.click('[data-testid="debugger-event"]:has(td.event:text-is("NDC"))');
  await page.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await stack.stop();
  await rm(work, { recursive: true, force: true });
}
