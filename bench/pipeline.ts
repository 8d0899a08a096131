// End-to-end delivery check: ours with wrangler.toml's queue consumers attached, a fixed
// number of calls at moderate load, then wait until the loopback Firehose stub has every
// event. It shows the real consumer's packing (events per record and per call) beside the
// model, and that nothing accepted is lost. Adapter.

import autocannon from 'autocannon';
import type { FirehoseStub } from './firehose-stub';
import type { Route } from './load';
import type { Runtime } from './runtime';

export interface PipelineResult {
  requests: Record<string, number>;
  acceptedEvents: number;
  deliveredEvents: number;
  calls: number;
  records: number;
  eventsPerRecord: number;
  eventsPerCall: number;
  drainSeconds: number;
  complete: boolean;
  non2xx: number;
}

export async function runPipeline(
  runtime: Runtime,
  stub: FirehoseStub,
  routes: ReadonlyArray<{ route: Route; requests: number; connections: number }>,
  drainTimeoutSeconds: number,
): Promise<PipelineResult> {
  const start = { ...stub.stats };
  let accepted = 0;
  let non2xx = 0;
  const requests: Record<string, number> = {};
  for (const { route, requests: amount, connections } of routes) {
    const r = await autocannon({
      url: new URL(route.path, runtime.url).href,
      method: 'POST',
      body: route.body,
      headers: { 'content-type': 'application/json' },
      connections,
      amount,
      timeout: 10,
    });
    accepted += r['2xx'] * route.events;
    non2xx += r.non2xx + r.errors + r.timeouts;
    requests[route.name] = r['2xx'];
  }
  const t0 = performance.now();
  const delivered = (): number => stub.stats.events - start.events;
  while (delivered() < accepted && performance.now() - t0 < drainTimeoutSeconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const calls = stub.stats.calls - start.calls;
  const records = stub.stats.records - start.records;
  return {
    requests,
    acceptedEvents: accepted,
    deliveredEvents: delivered(),
    calls,
    records,
    eventsPerRecord: delivered() / records,
    eventsPerCall: delivered() / calls,
    drainSeconds: (performance.now() - t0) / 1000,
    complete: delivered() >= accepted,
    non2xx,
  };
}
