// Helpers for tests that drive the Worker's Hono app inside workerd with a fixed clock and a
// queue binding that records what is sent.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createApp } from '../../src/app';
import type { Env } from '../../src/env';
import { decodeMessage, type DecodedMessage } from '../../src/queue/message';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { PlanCache } from '../../src/plans/cache';
import { PrivacyCache } from '../../src/privacy/cache';
import type { AppDeps } from '../../src/routes/deps';

export const FIXED_NOW = Date.parse('2026-11-29T10:00:00.000Z');
export const BASE_URL = 'https://collector.test';

/**
 * A fixed clock and id maker; metrics go to a buffer of the test's own, never flushed, and
 * tracking plans and privacy to caches of their own (on the same clock).
 */
export function fixedDeps(
  now = FIXED_NOW,
  metrics = new MetricsBuffer(),
  plans = new PlanCache(() => now),
  privacy = new PrivacyCache(() => now),
): AppDeps {
  let n = 0;
  return {
    now: () => now,
    newId: () => `generated-${++n}`,
    random: () => 0,
    metrics,
    afterRequest: () => undefined,
    plans,
    privacy,
    tap: undefined,
  };
}

export interface RecordingQueue {
  queue: Queue<string>;
  /** One entry per sendBatch call: the message bodies it carried. */
  calls: string[][];
  messages(): DecodedMessage[];
  events(): Array<Record<string, unknown>>;
}

/**
 * A queue binding that records every send; `fail` makes every send reject, as an outage does,
 * and `failCall` only the sends it returns true for (numbered from 0 in call order).
 */
export function recordingQueue(
  options: { fail?: boolean; failCall?: (n: number) => boolean } = {},
): RecordingQueue {
  const calls: string[][] = [];
  let n = 0;
  const refuses = (): boolean => {
    const call = n++;
    return options.fail === true || options.failCall?.(call) === true;
  };
  const queue = {
    async send(body: string): Promise<QueueSendResponse> {
      if (refuses()) throw new Error('Queue send failed: simulated outage');
      calls.push([body]);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
    async sendBatch(
      messages: Iterable<MessageSendRequest<string>>,
    ): Promise<QueueSendBatchResponse> {
      if (refuses()) throw new Error('Queue sendBatch failed: simulated outage');
      calls.push([...messages].map((m) => m.body));
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
    async metrics(): Promise<QueueMetrics> {
      return { backlogCount: 0, backlogBytes: 0 };
    },
  } as Queue<string>;
  const messages = (): DecodedMessage[] =>
    calls.flat().map((body) => {
      const decoded = decodeMessage(body);
      if (decoded === undefined) throw new Error(`not a queue message: ${body.slice(0, 80)}`);
      return decoded;
    });
  const events = (): Array<Record<string, unknown>> =>
    messages().flatMap((m) =>
      m.ndjson
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    );
  return { queue, calls, messages, events };
}

export interface Harness {
  queue: RecordingQueue;
  fetch(
    path: string,
    init?: RequestInit<CfProperties>,
    overrides?: Partial<Env>,
  ): Promise<Response>;
}

/** The app with a fixed clock and a recording queue, called as the runtime calls a Worker. */
export function harness(
  options: { deps?: AppDeps; failQueue?: boolean; failQueueCall?: (n: number) => boolean } = {},
): Harness {
  const app = createApp(options.deps ?? fixedDeps());
  const queue = recordingQueue({
    fail: options.failQueue ?? false,
    ...(options.failQueueCall ? { failCall: options.failQueueCall } : {}),
  });
  return {
    queue,
    async fetch(path, init, overrides = {}) {
      const ctx = createExecutionContext();
      const testEnv = { ...(env as unknown as Env), EVENTS: queue.queue, ...overrides };
      const res = await app.fetch(new Request(`${BASE_URL}${path}`, init), testEnv, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
  };
}

export function basic(key: string): string {
  return `Basic ${btoa(`${key}:`)}`;
}

export function jsonPost(
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit<CfProperties> {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export async function gzip(text: string | Uint8Array): Promise<Uint8Array> {
  const input = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const stream = new Blob([input]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
