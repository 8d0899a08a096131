// startStack's options for callers other than npm start: another wrangler config (`configPath`)
// and a Worker that ignores the .dev.vars beside it (`devVars: false`, as the e2e tests run).
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../scripts/stack';

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
});
