// testWorkerOptions against a copy of wrangler.toml in a directory of its own, beside a
// .dev.vars and a .env: the project's own files are never touched, so nothing races.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testWorkerOptions } from './worker-options';

describe('testWorkerOptions', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ndc-worker-options-'));
    await cp('wrangler.toml', join(dir, 'wrangler.toml'));
    // wrangler.toml's static assets directory must exist beside it.
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, '.dev.vars'), 'LEAKED=dev-vars\nALLOWED_ORIGINS=https://x.test\n');
    await writeFile(join(dir, '.env'), 'LEAKED_ENV=dot-env\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gives the Worker wrangler.toml's [vars] and nothing from .dev.vars", async () => {
    const { workerOptions, vars } = await testWorkerOptions(join(dir, 'wrangler.toml'));
    expect(workerOptions.bindings).toEqual(vars);
    expect(vars).not.toHaveProperty('LEAKED');
    expect(vars['ALLOWED_ORIGINS']).toBe('');
    expect(Object.keys(vars)).toEqual(
      expect.arrayContaining(['ANONYMIZE_IP', 'FIREHOSE_STREAM', 'AWS_REGION']),
    );
    // The rest of wrangler.toml is still there.
    expect(Object.keys(workerOptions.queueProducers ?? {})).toEqual([
      'EVENTS',
      'DLQ',
      'FORWARD',
      'FORWARD_DLQ',
    ]);
    expect(workerOptions.durableObjects).toHaveProperty('METRICS');
  });

  it('would have leaked without it: wrangler itself reads the .dev.vars', async () => {
    const { unstable_getMiniflareWorkerOptions } = await import('wrangler');
    const log = console.log;
    console.log = () => undefined; // wrangler announces "Using secrets defined in .dev.vars".
    try {
      const plain = unstable_getMiniflareWorkerOptions(join(dir, 'wrangler.toml'));
      expect(plain.workerOptions.bindings).toMatchObject({ LEAKED: 'dev-vars' });
    } finally {
      console.log = log;
    }
  });
});
