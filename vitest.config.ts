// Test projects: `workers` runs inside workerd through @cloudflare/vitest-pool-workers (unit
// tests of the pure core; the Worker's routes and consumers), beside a real local Firehose
// endpoint and a real local Segment-compatible endpoint (forwarding) started in Node by the
// global setups, with the static assets (analytics.js) copied first (below); `node` runs the local
// tooling in Node.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { TEST_FIREHOSE } from './test/support/firehose-credentials.ts';
import { testWorkerOptions } from './test/support/node/worker-options.ts';
import { syncAnalyticsJsAssets } from './scripts/analytics-js-assets.ts';

// wrangler (loaded by vitest-pool-workers, and by the e2e stack's wrangler dev) writes a debug
// log per run, by default in the user's home: keep those under .data/logs. Set before wrangler
// is loaded, which fixes the path then; hence the dynamic import of the pool below.
process.env['WRANGLER_LOG_PATH'] ??= fileURLToPath(new URL('./.data/logs', import.meta.url));
const { cloudflareTest } = await import('@cloudflare/vitest-pool-workers');

// The seed's track.json carries this key; tests and the local run accept it as source ndc-demo.
const SEED_KEY = '8GT90rhOugcEGAqdcBWP8muss7iSwwHy';

export const TEST_WRITE_KEYS = `test-key-1=web,test-key-2,test-key-rl=limited,test-key-rl-batch=limited-batch,test-key-metrics=metrics-src,test-key-fwd=forwarded,test-key-status=status-src,${SEED_KEY}=ndc-demo`;

// Only source `forwarded` is forwarded by the Worker's own consumers (the real queues); tests of
// the consumers themselves pass FORWARD_WRITE_KEYS of their own.
export const TEST_FORWARD_WRITE_KEYS = 'forwarded=dest-forwarded';

// The tests' own vars, over wrangler.toml's [vars] (FIREHOSE_ENDPOINT and FORWARD_ENDPOINT come
// from the setups).
const TEST_VARS = {
  WRITE_KEYS: TEST_WRITE_KEYS,
  FIREHOSE_STREAM: TEST_FIREHOSE.stream,
  AWS_REGION: TEST_FIREHOSE.region,
  AWS_ACCESS_KEY_ID: TEST_FIREHOSE.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_FIREHOSE.secretAccessKey,
  ADMIN_TOKEN: 'test-admin-token',
  DEBUGGER_TOKEN: 'test-debugger-token',
  // Counts reach the shards within a second, so /metrics tests need not wait 10 s.
  METRICS_FLUSH_SECONDS: '1',
  FORWARD_WRITE_KEYS: TEST_FORWARD_WRITE_KEYS,
  // The key the privacy tests' HMAC vectors were computed with (test/privacy/vectors.ts).
  PRIVACY_HASH_KEY: 'test-privacy-key',
};

// The Worker's static assets (analytics.js, copied from the pinned package into ./assets, which is
// generated and gitignored) must exist before wrangler reads wrangler.toml below: it refuses an
// [assets] directory that does not exist while this config loads, before any global setup runs.
// So whichever command runs first on a clean clone (npm test, npm run test:e2e) makes them.
await syncAnalyticsJsAssets();

// wrangler.toml's bindings and [vars], never a developer's .dev.vars (see worker-options.ts).
const { workerOptions, vars } = await testWorkerOptions('./wrangler.toml');

// CI (.ci/run) runs the README's `npm test` as written and reads the counts from a JSON report:
// CI_JSON_REPORT names the file, and adds that reporter beside the default one.
const jsonReport = process.env['CI_JSON_REPORT'];

export default defineConfig({
  test: {
    reporters:
      jsonReport === undefined || jsonReport === ''
        ? ['default']
        : ['default', ['json', { outputFile: jsonReport }]],
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: './src/index.ts',
            miniflare: {
              ...workerOptions,
              bindings: {
                ...workerOptions.bindings,
                ...TEST_VARS,
                FIREHOSE_ENDPOINT: inject('firehoseUrl'),
                FORWARD_ENDPOINT: `${inject('segmentUrl')}/v1/batch`,
              },
              ratelimits: {
                ...workerOptions.ratelimits,
                RATE_LIMITER_TEST: { simple: { limit: 3, period: 60 } },
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          // Ours: a few tests drive hundreds of requests or start wrangler; on a loaded 2-core
          // machine 5 s (vitest's default) was not always enough. Time is never asserted.
          testTimeout: 30_000,
          include: ['test/**/*.{unit,worker}.test.ts'],
          exclude: ['test/scripts/**', 'test/bench/**', 'test/e2e/**'],
          globalSetup: [
            './test/support/node/runtime-log-filter.ts',
            './test/support/node/firehose-global-setup.ts',
            './test/support/node/segment-global-setup.ts',
          ],
          // What the Worker's vars must be, so a test can prove nothing else leaked in.
          provide: { workerVars: { ...vars, ...TEST_VARS } },
        },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          testTimeout: 30_000,
          include: [
            'test/scripts/**/*.test.ts',
            'test/bench/**/*.test.ts',
            'test/support/node/**/*.test.ts',
            'test/deploy/**/*.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.e2e.test.ts'],
          // Each file runs the whole stack (wrangler dev + local Firehose): one at a time.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
