// Vitest global setup (Node): one real local Segment-compatible endpoint on loopback for the
// workers project. Tests reach it through FORWARD_ENDPOINT and fail write keys of their own
// through POST /_local/faults {"writeKey": …}, so files running in parallel do not disturb each
// other. It accepts any write key (per-key checks are the node tests').
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLocalSegment } from '../../../scripts/local-segment/server';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ndc-segment-forward-'));
  const segment = await createLocalSegment({ host: '127.0.0.1', port: 0, dataDir });
  project.provide('segmentUrl', segment.url);
  return async () => {
    await segment.close();
    await rm(dataDir, { recursive: true, force: true });
  };
}
