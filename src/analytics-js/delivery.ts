// How analytics.js is told to send: batched (`deliveryStrategy` in the settings' Segment.io
// integration) unless BROWSER_BATCH_SIZE is 1. Pure: the vars are parameters.
//
// analytics-next (packages/browser/src/plugins/segmentio/index.ts) batches when
// `deliveryStrategy.strategy === 'batching'`: batched-dispatcher.ts buffers calls and posts
// `{batch, writeKey, sentAt}` to `<apiHost>/b` once `size` calls are buffered, `timeout` ms after
// the first, or near 450 KB; on pagehide or a hidden page it flushes what is buffered at once in
// 64 KB keepalive fetches. A snippet's own `integrations["Segment.io"].deliveryStrategy` wins
// (lib/merged-options.ts spreads the load options over these settings).

import { BATCH_MAX_EVENTS } from '../segment/limits';

// analytics-next batched-dispatcher.ts: `config?.size ?? 10`, `config?.timeout ?? 5000`.
export const BROWSER_BATCH_SIZE_DEFAULT = 10;
export const BROWSER_BATCH_TIMEOUT_MS_DEFAULT = 5000;
// Ours: a batch of more calls than the batch route takes would be refused whole.
export const BROWSER_BATCH_SIZE_MAX = BATCH_MAX_EVENTS;
// Ours: events a minute late are late for the debugger and for anyone watching /metrics.
export const BROWSER_BATCH_TIMEOUT_MS_MAX = 60_000;

export type DeliveryStrategy =
  { strategy: 'standard' } | { strategy: 'batching'; config: { size: number; timeout: number } };

/** A whole number within [min, max] from a var, else the default (empty or unset included). */
function whole(value: string | undefined, fallback: number, min: number, max: number): number {
  const v = value?.trim() ?? '';
  if (!/^\d+$/.test(v)) return fallback;
  const n = Number(v);
  return n >= min && n <= max ? n : fallback;
}

/**
 * BROWSER_BATCH_SIZE (1 to 2,500, default 10; 1: one request per call) and
 * BROWSER_BATCH_TIMEOUT_MS (1 to 60,000, default 5,000); anything else is the default.
 */
export function deliveryStrategy(
  size: string | undefined,
  timeoutMs: string | undefined,
): DeliveryStrategy {
  const n = whole(size, BROWSER_BATCH_SIZE_DEFAULT, 1, BROWSER_BATCH_SIZE_MAX);
  if (n === 1) return { strategy: 'standard' };
  const timeout = whole(
    timeoutMs,
    BROWSER_BATCH_TIMEOUT_MS_DEFAULT,
    1,
    BROWSER_BATCH_TIMEOUT_MS_MAX,
  );
  return { strategy: 'batching', config: { size: n, timeout } };
}
