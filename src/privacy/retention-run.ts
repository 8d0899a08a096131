// The Worker's scheduled() handler: the Cron Trigger in wrangler.toml runs archive retention,
// deleting archive objects older than ARCHIVE_RETENTION_DAYS in every prefix, a bounded amount
// per run (retention.ts says how). Adapter over R2.

import type { Env } from '../env';
import { R2_DELETE_MAX_KEYS, R2_LIST_MAX_KEYS, RETENTION_MAX_PAGES_PER_RUN } from './limits';
import {
  expiredKeys,
  parseRetentionState,
  RETENTION_STATE_KEY,
  retentionCutoff,
  retentionDays,
} from './retention';

export interface RetentionReport {
  days: number;
  listed: number;
  deleted: number;
  /** Whether the run walked to the end of the bucket (the next one starts over). */
  complete: boolean;
}

/** One run of retention over `bucket` at `now`: at most `bounds.pages` list pages. */
export async function runRetention(
  bucket: R2Bucket,
  days: number,
  now: number,
  bounds = { pages: RETENTION_MAX_PAGES_PER_RUN, pageSize: R2_LIST_MAX_KEYS },
): Promise<RetentionReport> {
  const report: RetentionReport = { days, listed: 0, deleted: 0, complete: false };
  if (days === 0) return report;
  const cutoff = retentionCutoff(now, days);
  const saved = await bucket.get(RETENTION_STATE_KEY);
  let after = parseRetentionState(saved === null ? undefined : await saved.text()).after;
  for (let page = 0; page < bounds.pages; page++) {
    const listing = await bucket.list({
      limit: bounds.pageSize,
      ...(after === undefined ? {} : { startAfter: after }),
    });
    report.listed += listing.objects.length;
    const expired = expiredKeys(listing.objects, cutoff);
    // R2_LIST_MAX_KEYS ≤ R2_DELETE_MAX_KEYS: one delete call per page.
    for (let i = 0; i < expired.length; i += R2_DELETE_MAX_KEYS) {
      await bucket.delete(expired.slice(i, i + R2_DELETE_MAX_KEYS));
    }
    report.deleted += expired.length;
    const last = listing.objects.at(-1)?.key;
    if (!listing.truncated || last === undefined) {
      after = undefined;
      report.complete = true;
      break;
    }
    after = last;
  }
  await bucket.put(RETENTION_STATE_KEY, JSON.stringify(after === undefined ? {} : { after }), {
    httpMetadata: { contentType: 'application/json' },
  });
  return report;
}

export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const report = await runRetention(
    env.ARCHIVE,
    retentionDays(env.ARCHIVE_RETENTION_DAYS),
    controller.scheduledTime,
  );
  if (report.deleted > 0) {
    console.log(
      `retention: deleted ${report.deleted} archive objects older than ${report.days} days ` +
        `(${report.listed} listed${report.complete ? ', bucket walked to its end' : ''})`,
    );
  }
}
