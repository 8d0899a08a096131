// Test projects: `workers` runs inside workerd through @cloudflare/vitest-pool-workers
// (unit tests of the pure core and the Worker's routes and consumer); `node` runs the local
// tooling (the local Firehose endpoint) in Node.
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// The seed's track.json carries this key; tests and the local run accept it as source ndc-demo.
const SEED_KEY = '8GT90rhOugcEGAqdcBWP8muss7iSwwHy';

export const TEST_WRITE_KEYS = `test-key-1=web,test-key-2,test-key-rl=limited,${SEED_KEY}=ndc-demo`;

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            main: './src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { WRITE_KEYS: TEST_WRITE_KEYS },
              ratelimits: { RATE_LIMITER_TEST: { simple: { limit: 3, period: 60 } } },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/**/*.{unit,worker}.test.ts'],
          exclude: ['test/scripts/**', 'test/e2e/**'],
        },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/scripts/**/*.test.ts'],
        },
      },
    ],
  },
});
