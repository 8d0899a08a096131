// The Worker's entry point: HTTP ingest, the queue consumers, and the Durable Objects.
import { createApp } from './app';
import type { Env } from './env';
import { handleQueue } from './queue/handler';

export { DebuggerSource } from './debugger/object';
export { DebuggerWatchlist } from './debugger/watchlist';
export { DedupeShard } from './dedupe/object';
export { MetricsShard } from './metrics/object';

export default {
  fetch: createApp().fetch,
  queue: handleQueue,
} satisfies ExportedHandler<Env, unknown>;
