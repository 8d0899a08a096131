// This isolate's metrics: the buffer every request and batch records into, the scheduler that
// flushes it to one Durable Object shard, and the read of all shards for /metrics and /health.
// Adapter: the only module here that touches the METRICS binding.

import type { Env } from '../env';
import { MetricsBuffer } from './buffer';
import { FlushScheduler, type FlushIo } from './flush';
import { METRICS_SHARDS, type MetricsShard } from './object';
import { mergeStates, type MetricsState } from './state';

export const isolateBuffer = new MetricsBuffer();
export const isolateScheduler = new FlushScheduler(isolateBuffer);

// Chosen once per isolate, at its first flush, so isolates spread over the shards.
let shard: number | undefined;

function stub(env: Env, index: number): DurableObjectStub<MetricsShard> {
  return env.METRICS.get(env.METRICS.idFromName(`shard-${index}`));
}

function io(env: Env): FlushIo {
  return {
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    send: async (delta) => {
      shard ??= Math.floor(Math.random() * METRICS_SHARDS);
      await stub(env, shard).apply(delta);
    },
  };
}

/** At the end of every invocation: arm a flush if one is due, kept alive by waitUntil. */
export function scheduleFlush(env: Env, ctx: ExecutionContext): void {
  const pending = isolateScheduler.schedule(io(env));
  if (pending !== undefined) ctx.waitUntil(pending);
}

/** Every shard's state summed, after this isolate's own pending deltas were sent. */
export async function readMetrics(env: Env): Promise<MetricsState> {
  await isolateScheduler.flushNow(io(env));
  const states = await Promise.all(
    Array.from({ length: METRICS_SHARDS }, (_v, i) => stub(env, i).snapshot()),
  );
  return mergeStates(states);
}
