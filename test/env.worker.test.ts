// The Worker under test has exactly the vars wrangler.toml and vitest.config.ts give it: a
// developer's .dev.vars or .env never changes what the tests see.
import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';

describe('the test Worker', () => {
  it("has wrangler.toml's [vars] and the tests' own, and no other var", () => {
    const expected = {
      ...inject('workerVars'),
      FIREHOSE_ENDPOINT: inject('firehoseUrl'),
      FORWARD_ENDPOINT: `${inject('segmentUrl')}/v1/batch`,
    };
    // Bindings (queues, R2, Durable Objects, …) are objects; vars from any file are strings.
    const vars = Object.fromEntries(
      Object.entries(env).filter(([name, value]) => typeof value === 'string' || name in expected),
    );
    expect(vars).toEqual(expected);
  });
});
