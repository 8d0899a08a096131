// Worker-side helpers for the local Segment-compatible endpoint the global setup runs: faults
// scoped to a write key, and read-back of what it accepted.
import { inject } from 'vitest';

export function segmentUrl(): string {
  return inject('segmentUrl');
}

/** The FORWARD_ENDPOINT of the local endpoint. */
export function forwardEndpoint(): string {
  return `${segmentUrl()}/v1/batch`;
}

let keyCounter = 0;

/** A destination write key no other test uses, so its faults and events are this test's own. */
export function uniqueKey(label: string): string {
  keyCounter += 1;
  return `${label}-${Date.now().toString(36)}-${keyCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface KeyFaults {
  down?: number;
  stall?: number;
  stallMs?: number;
  throttle?: number;
  retryAfterSeconds?: number;
  error500?: number;
  badRequest?: number;
  latencyMs?: number;
}

export async function setKeyFaults(writeKey: string, faults: KeyFaults): Promise<void> {
  const res = await fetch(`${segmentUrl()}/_local/faults`, {
    method: 'POST',
    body: JSON.stringify({ writeKey, ...faults }),
  });
  if (!res.ok) throw new Error(`setting faults failed: ${res.status} ${await res.text()}`);
}

/** The events the endpoint accepted under a write key, parsed. */
export async function forwardedEvents(writeKey: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${segmentUrl()}/_local/events?writeKey=${encodeURIComponent(writeKey)}`);
  // Read as bytes: workerd warns on Response.text() for the endpoint's application/x-ndjson.
  return new TextDecoder()
    .decode(await res.arrayBuffer())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface KeyStats {
  calls: number;
  eventsAccepted: number;
  maxBodyBytes: number;
  maxEventBytes: number;
  maxEventsPerCall: number;
}

export async function keyStats(writeKey: string): Promise<KeyStats | undefined> {
  const res = await fetch(`${segmentUrl()}/_local/stats`);
  const stats = await res.json<{ keys: Record<string, KeyStats> }>();
  return stats.keys[writeKey];
}
