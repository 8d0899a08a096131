// The Worker's entry point: HTTP ingest, the queue consumers, the Cron Trigger (archive
// retention) and the Durable Objects.
import { createApp } from './app';
import type { Env } from './env';
import { handleScheduled } from './privacy/retention-run';
import { handleQueue } from './queue/handler';

export { DebuggerSource } from './debugger/object';
export { DebuggerWatchlist } from './debugger/watchlist';
export { DedupeShard } from './dedupe/object';
export { MetricsShard } from './metrics/object';
export { PrivacyRegistry } from './privacy/registry';

export default {
  fetch: createApp().fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;
