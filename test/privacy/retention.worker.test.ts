// Archive retention over the real local R2 bucket: the Cron Trigger's handler deletes objects
// older than ARCHIVE_RETENTION_DAYS in every prefix, a bounded number of pages per run, going
// on where the last run stopped.
import { createExecutionContext, createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import { RETENTION_STATE_KEY } from '../../src/privacy/retention';
import { runRetention } from '../../src/privacy/retention-run';

const testEnv = env as unknown as Env;
const DAY = 86_400_000;

async function keys(): Promise<string[]> {
  const listing = await testEnv.ARCHIVE.list({ limit: 1000 });
  return listing.objects.map((o) => o.key).filter((k) => k !== RETENTION_STATE_KEY);
}

async function clear(): Promise<void> {
  const all = await testEnv.ARCHIVE.list({ limit: 1000 });
  if (all.objects.length > 0) await testEnv.ARCHIVE.delete(all.objects.map((o) => o.key));
}

// The audit trail is kept whatever its age (docs/security.md).
const AUDIT_KEY = 'audit/8226-x.json';

const PREFIXES = [
  'blocked/web/2026/11/01/b.ndjson',
  'dead-letters/2026/11/01/c.ndjson',
  'forward-dead-letters/2026/11/01/d.ndjson',
  'forward-replayed/2026/11/01/e.ndjson',
  'replay-claims/dead-letters/2026/11/01/f.ndjson',
  'replayed/2026/11/01/g.ndjson',
];

describe('archive retention', () => {
  it('deletes nothing younger than the retention, and everything older, in every prefix but audit/', async () => {
    await clear();
    for (const key of [AUDIT_KEY, ...PREFIXES]) await testEnv.ARCHIVE.put(key, '{}\n');
    const young = await runRetention(testEnv.ARCHIVE, 30, Date.now() + 29 * DAY);
    expect(young).toMatchObject({ deleted: 0, listed: PREFIXES.length + 1, complete: true });
    expect(await keys()).toEqual([AUDIT_KEY, ...PREFIXES]);
    const old = await runRetention(testEnv.ARCHIVE, 30, Date.now() + 31 * DAY);
    expect(old).toMatchObject({ deleted: PREFIXES.length, complete: true });
    expect(await keys()).toEqual([AUDIT_KEY]);
  });

  it('keeps everything with ARCHIVE_RETENTION_DAYS=0', async () => {
    await clear();
    await testEnv.ARCHIVE.put('dead-letters/x.ndjson', '{}\n');
    const report = await runRetention(testEnv.ARCHIVE, 0, Date.now() + 1000 * DAY);
    expect(report).toMatchObject({ deleted: 0, listed: 0 });
    expect(await keys()).toEqual(['dead-letters/x.ndjson']);
  });

  it('bounds a run to its pages and goes on where the last one stopped', async () => {
    await clear();
    const all = Array.from({ length: 7 }, (_v, i) => `dead-letters/2026/11/01/${i}.ndjson`);
    for (const key of all) await testEnv.ARCHIVE.put(key, '{}\n');
    const later = Date.now() + 31 * DAY;
    const bounds = { pages: 2, pageSize: 2 };
    const first = await runRetention(testEnv.ARCHIVE, 30, later, bounds);
    expect(first).toMatchObject({ listed: 4, deleted: 4, complete: false });
    expect(await keys()).toEqual(all.slice(4));
    const second = await runRetention(testEnv.ARCHIVE, 30, later, bounds);
    expect(second).toMatchObject({ deleted: 3, complete: true });
    expect(await keys()).toEqual([]);
  });

  it('runs from the Cron Trigger with ARCHIVE_RETENTION_DAYS', async () => {
    await clear();
    await testEnv.ARCHIVE.put('blocked/web/2026/01/01/old.ndjson', '{}\n');
    await testEnv.ARCHIVE.put('blocked/web/2026/01/01/new.ndjson', '{}\n');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // Eight days on, with a retention of 7 days.
      const controller = createScheduledController({ scheduledTime: Date.now() + 8 * DAY });
      const days = { ...testEnv, ARCHIVE_RETENTION_DAYS: '7' };
      await worker.scheduled(controller, days, createExecutionContext());
      expect(log).toHaveBeenCalledWith(
        expect.stringContaining('retention: deleted 2 archive objects older than 7 days'),
      );
      // The default (30 days) would have kept them.
      await testEnv.ARCHIVE.put('blocked/web/2026/01/01/again.ndjson', '{}\n');
      await worker.scheduled(controller, testEnv, createExecutionContext());
    } finally {
      log.mockRestore();
    }
    expect(await keys()).toEqual(['blocked/web/2026/01/01/again.ndjson']);
  });
});
