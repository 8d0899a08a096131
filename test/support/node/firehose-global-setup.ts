// Vitest global setup (Node): one real local Firehose endpoint on loopback for the workers
// project. Tests reach it through FIREHOSE_ENDPOINT and fail streams of their own through
// POST /_local/faults {"stream": …}, so files running in parallel do not disturb each other.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLocalFirehose } from '../../../scripts/local-firehose/server';
import { TEST_FIREHOSE } from '../firehose-credentials';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ndc-segment-firehose-'));
  const firehose = await createLocalFirehose({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    region: TEST_FIREHOSE.region,
    regions: [TEST_FIREHOSE.routedRegion],
    accessKeyId: TEST_FIREHOSE.accessKeyId,
    secretAccessKey: TEST_FIREHOSE.secretAccessKey,
    log: () => undefined,
  });
  project.provide('firehoseUrl', firehose.url);
  return async () => {
    await firehose.close();
    await rm(dataDir, { recursive: true, force: true });
  };
}
