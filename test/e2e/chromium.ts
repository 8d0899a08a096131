// Headless Chromium for the browser end-to-end tests: Debian's package
// (`apt-get install -y chromium`, in .ci/run), launched with the flags verified in
// /work/shared/TOOLCHAIN.md, on a throwaway profile that close() removes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumOptions {
  /** Host names that resolve to 127.0.0.1 besides loopback itself. */
  loopbackHosts?: readonly string[];
  /**
   * Report the browser as online. With no network interface but loopback Chromium says it is
   * offline, and analytics.js then only buffers (TOOLCHAIN.md).
   */
  online?: boolean;
  /** Accept wrangler dev's self-signed certificate. */
  ignoreHTTPSErrors?: boolean;
}

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(options: ChromiumOptions = {}): Promise<Chromium> {
  // Nothing but loopback (and the hosts named) resolves: a request to any other host, such as
  // Segment's servers, fails and can be seen.
  const rules = [
    ...(options.loopbackHosts ?? []).map((host) => `MAP ${host} 127.0.0.1`),
    'MAP * ~NOTFOUND',
    'EXCLUDE 127.0.0.1',
  ].join(' , ');
  const profileDir = await mkdtemp(join(tmpdir(), 'ndc-e2e-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, `--host-resolver-rules=${rules}`],
      ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
    });
    if (options.online === true) {
      await context.addInitScript(() =>
        Object.defineProperty(Navigator.prototype, 'onLine', { get: () => true }),
      );
    }
  } catch (error) {
    await rm(profileDir, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    async close() {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}
