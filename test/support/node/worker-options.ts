// The Worker's Miniflare options for the workers test project, built by wrangler from
// wrangler.toml, with the Worker's vars taken from [vars] alone: never from a developer's
// .dev.vars, .env or shell, so a test run sees the same Worker on every machine.
//
// vitest-pool-workers' own `wrangler: { configPath }` cannot do this: it calls
// unstable_getMiniflareWorkerOptions(configPath), which reads `.dev.vars` beside the config
// (or, without one, `.env` and `.env.local`) and adds every entry as a var.

import type { Unstable_MiniflareWorkerOptions } from 'wrangler';

type WorkerOptions = Unstable_MiniflareWorkerOptions['workerOptions'];
type Vars = NonNullable<WorkerOptions['bindings']>;

export interface TestWorkerOptions {
  workerOptions: WorkerOptions;
  /** The vars the Worker gets before the tests' own bindings: wrangler.toml's [vars]. */
  vars: Vars;
}

// wrangler 4.86 skips .dev.vars when it is given env files (getVarsForDev in wrangler's
// src/dev/dev-vars.ts), and a missing env file loads nothing. The option is not in wrangler's
// typings, so the bindings are also replaced by [vars] below: correctness does not rest on it,
// it only keeps wrangler from reading (and announcing) a .dev.vars the tests then drop.
const NO_ENV_FILE = '/nonexistent/ndc-segment-tests/.env';

export async function testWorkerOptions(configPath: string): Promise<TestWorkerOptions> {
  // Imported when called, like vitest-pool-workers in vitest.config.ts: wrangler fixes its log
  // file when it is loaded, so WRANGLER_LOG_PATH must be set before.
  const wrangler = await import('wrangler');
  const config: { vars: Vars } = wrangler.unstable_readConfig({
    config: configPath,
  });
  const vars = { ...config.vars };
  const options = { envFiles: [NO_ENV_FILE], overrides: { enableContainers: false } };
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(
    configPath,
    undefined,
    options,
  );
  return { workerOptions: { ...workerOptions, bindings: { ...vars } }, vars };
}
