// startStack's options for callers other than npm start: another wrangler config (`configPath`)
// and a Worker that ignores the .dev.vars beside it (`devVars: false`, as the e2e tests run).
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { freePort, startStack, type Stack } from '../../scripts/stack';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('startStack', () => {
  let dir = '';
  let stack: Stack | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ndc-stack-config-'));
    // The project's wrangler.toml, elsewhere, pointing at the project's Worker.
    const toml = await readFile(join(ROOT, 'wrangler.toml'), 'utf8');
    const main = JSON.stringify(join(ROOT, 'src/index.ts'));
    // Its paths (the entry, the analytics.js assets and their build) point back at the project.
    const moved = toml
      .replace(/^main = .*$/m, `main = ${main}`)
      .replace(/^directory = "\.\/assets"$/m, `directory = ${JSON.stringify(join(ROOT, 'assets'))}`)
      .replace(/^command = "npx tsx scripts\//m, `command = "npx tsx ${ROOT}scripts/`)
      .replace(/^watch_dir = "scripts\//m, `watch_dir = "${ROOT}scripts/`);
    await writeFile(join(dir, 'wrangler.toml'), moved);
    await writeFile(
      join(dir, '.dev.vars'),
      'METRICS_TOKEN=leaked\nALLOWED_ORIGINS=https://x.test\n',
    );
    await cp(join(ROOT, 'track.json'), join(dir, 'track.json'));
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the given config, and with devVars: false gives the Worker nothing of its .dev.vars', async () => {
    stack = await startStack({
      configPath: join(dir, 'wrangler.toml'),
      dataDir: join(dir, 'firehose'),
      persistTo: join(dir, 'wrangler'),
      devVars: false,
    });
    // METRICS_TOKEN from .dev.vars would close /metrics; ALLOWED_ORIGINS would refuse this origin.
    expect((await fetch(`${stack.workerUrl}/metrics`)).status).toBe(200);
    const preflight = await fetch(`${stack.workerUrl}/v1/t`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://elsewhere.test' },
    });
    expect(preflight.status).toBe(204);
  }, 90_000);

  it('picks another port when the one it picked is taken before wrangler binds it', async () => {
    const taken = createServer();
    const takenPort = await new Promise<number>((ok) =>
      taken.listen(0, '127.0.0.1', () => {
        const address = taken.address();
        ok(typeof address === 'object' && address !== null ? address.port : 0);
      }),
    );
    const picks: number[] = [];
    let other: Stack | undefined;
    try {
      other = await startStack({
        configPath: join(dir, 'wrangler.toml'),
        dataDir: join(dir, 'firehose-2'),
        persistTo: join(dir, 'wrangler-2'),
        devVars: false,
        pickPort: async () => {
          const port = picks.length === 0 ? takenPort : await freePort();
          picks.push(port);
          return port;
        },
      });
      expect(picks[0]).toBe(takenPort);
      expect(picks).toHaveLength(2);
      expect(other.workerUrl).toBe(`http://127.0.0.1:${picks[1]}`);
      expect((await fetch(`${other.workerUrl}/`)).status).toBe(200);
    } finally {
      await other?.stop();
      taken.close();
    }
  }, 90_000);
});
